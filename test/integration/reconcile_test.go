package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// TestClusterChildren: a VitessCluster becomes its EtcdLockserver, VitessCells, VitessKeyspaces and
// VitessShards, with the vitess-operator's names and controller owner references; drift is
// repaired, a steady state writes nothing, a removed partitioning's shard is kept while the
// turndown policy requires it, and deleting the cluster collects its children.
func TestClusterChildren(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "reconcile")
	mustApply(t, clusterManifest(ns, "demo"))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	cluster, err := api.VitessClusters(ns).Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	lockserverName, cellName := names.GlobalLockserver("demo"), names.Cell("demo", "zone1")
	keyspaceName, shardName := names.Keyspace("demo", "commerce"), names.Shard("demo", "commerce", "x-x")
	eventually(t, "children created", func() (bool, error) {
		_, err1 := api.EtcdLockservers(ns).Get(ctx, lockserverName, metav1.GetOptions{})
		_, err2 := api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
		_, err3 := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		return err1 == nil && err2 == nil && err3 == nil, nil
	})
	cell, _ := api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
	keyspace, err := api.VitessKeyspaces(ns).Get(ctx, keyspaceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	shard, _ := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
	if owner := metav1.GetControllerOf(cell); owner == nil || owner.UID != cluster.UID {
		t.Errorf("cell's controller: %+v", owner)
	}
	if owner := metav1.GetControllerOf(shard); owner == nil || owner.UID != keyspace.UID {
		t.Errorf("shard's controller: %+v", owner)
	}
	if shard.Spec.Name != "-" || shard.Spec.KeyspaceName != "commerce" || shard.Labels["planetscale.com/cluster"] != "demo" {
		t.Errorf("shard: name %q keyspace %q labels %v", shard.Spec.Name, shard.Spec.KeyspaceName, shard.Labels)
	}
	if address := cell.Spec.GlobalLockserver.Address; address != names.EtcdClientServiceName(lockserverName)+"."+ns+".svc:2379" {
		t.Errorf("cell's global lockserver address: %q", address)
	}
	waitInSync(t, api.VitessClusters(ns), "demo")
	cluster, _ = api.VitessClusters(ns).Get(ctx, "demo", metav1.GetOptions{})
	if cluster.Status.Tablets.Desired != 2 || cluster.Status.Cells.Desired != 1 || meta.FindStatusCondition(cluster.Status.Conditions, "Ready") == nil ||
		cluster.Status.VitessDashboardServiceName != names.VtctldServiceName("demo") ||
		cluster.Status.GatewayEndpoint != names.VtgateClusterServiceName("demo")+"."+ns+".svc:3306" {
		t.Errorf("cluster status: %+v", cluster.Status)
	}

	// vtctld runs in the dashboard's cell behind the cluster's vtctld Service, found by the
	// selector the vitess-operator's port-forward script uses.
	core := kubeClient(t)
	eventually(t, "vtctld available", func() (bool, error) {
		deployment, err := core.AppsV1().Deployments(ns).Get(ctx, names.VtctldDeploymentName("demo", "zone1"), metav1.GetOptions{})
		return err == nil && deployment.Status.AvailableReplicas == 1, nil
	})
	if out := kubectl(t, "get", "service", "-n", ns, "-l", "planetscale.com/component=vtctld", "-o", "name"); strings.TrimSpace(out) != "service/"+names.VtctldServiceName("demo") {
		t.Errorf("vtctld service by the operator's selector: %q", out)
	}
	eventually(t, "vtgate available", func() (bool, error) {
		deployment, err := core.AppsV1().Deployments(ns).Get(ctx, names.VtgateDeploymentName("demo", "zone1"), metav1.GetOptions{})
		return err == nil && deployment.Status.AvailableReplicas == 1, nil
	})
	if out := kubectl(t, "get", "service", "-n", ns, "-l", "planetscale.com/component=vtgate,!planetscale.com/cell", "-o", "name"); strings.TrimSpace(out) != "service/"+names.VtgateClusterServiceName("demo") {
		t.Errorf("cluster-wide vtgate service by the operator's selector: %q", out)
	}
	vtctld, err := core.AppsV1().Deployments(ns).Get(ctx, names.VtctldDeploymentName("demo", "zone1"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(vtctld.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "--topo-global-server-address="+cell.Spec.GlobalLockserver.Address) || !strings.Contains(args, "--cell=zone1") {
		t.Errorf("vtctld args: %s", args)
	}
	if err := core.CoreV1().Services(ns).Delete(ctx, names.VtctldServiceName("demo"), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted vtctld Service restored", func() (bool, error) {
		_, err := core.CoreV1().Services(ns).Get(ctx, names.VtctldServiceName("demo"), metav1.GetOptions{})
		return err == nil, nil
	})

	vtgate := names.VtgateDeploymentName("demo", "zone1")
	if _, err := core.AppsV1().Deployments(ns).Patch(ctx, vtgate, types.StrategicMergePatchType,
		[]byte(`{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"vtgate","image":"example.com/edited:1"}]}}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "hand-edited vtgate Deployment restored", func() (bool, error) {
		deployment, err := core.AppsV1().Deployments(ns).Get(ctx, vtgate, metav1.GetOptions{})
		return err == nil && *deployment.Spec.Replicas == 1 && deployment.Spec.Template.Spec.Containers[0].Image != "example.com/edited:1", err
	})

	// Drift: a deleted child comes back, a hand edit is undone.
	if err := api.VitessCells(ns).Delete(ctx, cellName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted cell restored", func() (bool, error) {
		restored, err := api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
		return err == nil && restored.UID != cell.UID, nil
	})
	if _, err := api.VitessKeyspaces(ns).Patch(ctx, keyspaceName, types.MergePatchType, []byte(`{"spec":{"durabilityPolicy":"semi_sync"}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "hand-edited keyspace restored", func() (bool, error) {
		restored, err := api.VitessKeyspaces(ns).Get(ctx, keyspaceName, metav1.GetOptions{})
		return err == nil && restored.Spec.DurabilityPolicy == "none", err
	})

	// A steady state writes nothing: once the cluster and its lockserver's members have settled,
	// 30 s pass without a write.
	waitInSync(t, api.VitessClusters(ns), "demo")
	eventually(t, "lockserver members ready", func() (bool, error) {
		lockserver, err := api.EtcdLockservers(ns).Get(ctx, lockserverName, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(lockserver.Status.Conditions, "Ready") &&
			meta.IsStatusConditionFalse(lockserver.Status.Conditions, "Progressing"), err
	})
	// On kwok vtctld's Deployment becomes available but nothing answers at its Service: the
	// topology readings settle on VtctldUnreachable, and retrying them writes nothing.
	eventually(t, "cell reports vtctld unreachable", func() (bool, error) {
		cell, err := api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		registered := meta.FindStatusCondition(cell.Status.Conditions, "Registered")
		return registered != nil && registered.Reason == "VtctldUnreachable", nil
	})
	reconcilerWrites(t) // the metric exists
	before := writesInNamespace(t, ns)
	if before == 0 {
		t.Fatalf("the audit logs show none of the reconciler's writes in %s", ns)
	}
	time.Sleep(30 * time.Second)
	if after := writesInNamespace(t, ns); after != before {
		t.Errorf("the reconciler wrote %d objects in %s over 30 s of steady state", after-before, ns)
	}

	// Reshard: a second partitioning adds shards; removing the first keeps its shard while the
	// turndown policy (RequireIdle) requires it, and removes it once the policy is Immediate.
	partitioning := func(parts int) string {
		return `{"equal":{"parts":` + strconv.Itoa(parts) + `,"shardTemplate":{"databaseInitScriptSecret":{"name":"init","key":"init_db.sql"},"tabletPools":[{"cell":"zone1","type":"replica","replicas":2}]}}}`
	}
	// A merge patch replaces the keyspaces list: each patch states the whole keyspace.
	patchKeyspace := func(fields string) {
		t.Helper()
		patch := `{"spec":{"keyspaces":[{"name":"commerce",` + fields + `}]}}`
		if _, err := api.VitessClusters(ns).Patch(ctx, "demo", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	patchKeyspace(`"partitionings":[` + partitioning(1) + `,` + partitioning(2) + `]`)
	eventually(t, "shards -80 and 80- created", func() (bool, error) {
		_, err1 := api.VitessShards(ns).Get(ctx, names.Shard("demo", "commerce", "x-80"), metav1.GetOptions{})
		_, err2 := api.VitessShards(ns).Get(ctx, names.Shard("demo", "commerce", "80-x"), metav1.GetOptions{})
		return err1 == nil && err2 == nil, nil
	})
	patchKeyspace(`"partitionings":[` + partitioning(2) + `]`)
	eventually(t, "turndown reported as pending", func() (bool, error) {
		c, err := api.VitessClusters(ns).Get(ctx, "demo", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(c.Status.Conditions, "Progressing")
		return progressing != nil && progressing.Reason == "TurndownPending" && strings.Contains(progressing.Message, "commerce/-"), nil
	})
	if _, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{}); err != nil {
		t.Errorf("the old shard was turned down although its policy is RequireIdle: %v", err)
	}
	patchKeyspace(`"turndownPolicy":"Immediate","partitionings":[` + partitioning(2) + `]`)
	eventually(t, "old shard turned down", func() (bool, error) {
		_, err := api.VitessShards(ns).Get(ctx, shardName, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})

	// Deleting the cluster collects its children (kube-controller-manager's garbage collector).
	if err := api.VitessClusters(ns).Delete(ctx, "demo", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "children garbage-collected", func() (bool, error) {
		shards, err := api.VitessShards(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		_, err = api.VitessCells(ns).Get(ctx, cellName, metav1.GetOptions{})
		return len(shards.Items) == 0 && apierrors.IsNotFound(err), nil
	})
}

// waitInSync waits until the reconciler reports the cluster's current generation as in sync.
func waitInSync(t *testing.T, clusters typed.VitessClusterInterface, name string) {
	t.Helper()
	eventually(t, "cluster "+name+" in sync", func() (bool, error) {
		c, err := clusters.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(c.Status.Conditions, v1alpha1.ConditionProgressing)
		return c.Status.ObservedGeneration == c.Generation && progressing != nil && progressing.Status == metav1.ConditionFalse, nil
	})
}

// writesInNamespace counts the reconciler's writes to objects in a namespace, from both audit
// logs: its own API's (where it writes as the loopback user) and kube-apiserver's (where it writes
// Pods, PVCs and Services as its ServiceAccount). Other tests' clusters do not count, nor do
// Events, which report earlier writes and are sent asynchronously.
func writesInNamespace(t *testing.T, namespace string) int {
	t.Helper()
	return sum(writesIn(t, reconcilerUsers, map[string]bool{namespace: true}))
}

// reconcilerUsers are the users the reconciler writes as: to its own objects as the server
// itself (the loopback user), and to kube-apiserver as its ServiceAccount.
var reconcilerUsers = map[string]bool{"system:apiserver": true, "system:serviceaccount:vitess-system:vitess-apiserver": true}

// writesIn counts the writes of the users to objects in the namespaces, from both audit logs, by
// verb: create, update, patch, delete, deletecollection, and update-status for a status
// subresource's. Events are left out.
func writesIn(tb testing.TB, writers, namespaces map[string]bool) map[string]int {
	tb.Helper()
	counts := map[string]int{}
	for _, path := range []string{server.AuditLogPath(), controlPlane.AuditLogPath()} {
		data, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		for line := range strings.Lines(string(data)) {
			var event struct {
				Stage     string                                             `json:"stage"`
				Verb      string                                             `json:"verb"`
				User      struct{ Username string }                          `json:"user"`
				ObjectRef *struct{ Namespace, Resource, Subresource string } `json:"objectRef"`
			}
			if json.Unmarshal([]byte(line), &event) != nil || event.Stage != "ResponseComplete" || event.ObjectRef == nil ||
				!namespaces[event.ObjectRef.Namespace] || event.ObjectRef.Resource == "events" || !writers[event.User.Username] {
				continue
			}
			switch event.Verb {
			case "create", "update", "patch", "delete", "deletecollection":
				if event.ObjectRef.Subresource == "status" {
					counts[event.Verb+"-status"]++
				} else {
					counts[event.Verb]++
				}
			}
		}
	}
	return counts
}

// reconcilerWrites reads vitess_apiserver_reconcile_writes_total, summed, from the server's
// /metrics.
func reconcilerWrites(t *testing.T) float64 {
	t.Helper()
	metrics, err := serverMetrics()
	if err != nil {
		t.Fatal(err)
	}
	// One queue per controller.
	for _, queue := range []string{"vitesscluster", "etcdlockserver", "vitessshard", "vitessworkflow"} {
		if !strings.Contains(metrics, `workqueue_depth{name="`+queue+`"}`) {
			t.Fatalf("/metrics lacks the depth of queue %s", queue)
		}
	}
	total, err := sumMetric(metrics, "vitess_apiserver_reconcile_writes_total")
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 {
		t.Fatal("/metrics lacks the reconciler's writes")
	}
	return total
}

// serverMetrics reads the server's /metrics, as the cluster admin.
func serverMetrics() (string, error) {
	client, err := rest.HTTPClientFor(straightToServer(controlPlane.AdminConfig()))
	if err != nil {
		return "", err
	}
	response, err := client.Get(server.URL() + "/metrics")
	if err != nil {
		return "", err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return "", err
	}
	if response.StatusCode != http.StatusOK {
		return "", fmt.Errorf("/metrics: %s", response.Status)
	}
	return string(body), nil
}

// serverCounter reads the named counter from the server's /metrics, its series added up.
func serverCounter(tb testing.TB, name string) float64 {
	tb.Helper()
	metrics, err := serverMetrics()
	if err != nil {
		tb.Fatal(err)
	}
	total, err := sumMetric(metrics, name)
	if err != nil {
		tb.Fatal(err)
	}
	return total
}

// sumMetric adds up every series of the named counter or gauge in a /metrics text.
func sumMetric(metrics, name string) (float64, error) {
	var total float64
	for line := range strings.Lines(metrics) {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		fields := strings.Fields(line)
		value, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%q: %w", line, err)
		}
		total += value
	}
	return total, nil
}
