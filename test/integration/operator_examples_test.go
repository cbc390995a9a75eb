package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// objectSet is what a step of the operator's examples must produce, by name.
type objectSet struct {
	pods, pvcs, services, deployments []string
}

func (s *objectSet) add(other objectSet) {
	s.pods = append(s.pods, other.pods...)
	s.pvcs = append(s.pvcs, other.pvcs...)
	s.services = append(s.services, other.services...)
	s.deployments = append(s.deployments, other.deployments...)
}

// shardObjects are the tablet Pods, their PVCs and the VTOrc Deployment of one shard with a
// pool of three replicas in zone1, as the operator names them.
func shardObjects(keyspace, keyRange, safeName string) objectSet {
	var set objectSet
	for index := uint32(1); index <= 3; index++ {
		pod := names.TabletPodName("example", "zone1", names.TabletUID("zone1", keyspace, keyRange, "replica", index))
		set.pods = append(set.pods, pod)
		set.pvcs = append(set.pvcs, pod)
	}
	set.deployments = []string{names.VtorcDeploymentName("example", keyspace, safeName, "zone1")}
	return set
}

// TestOperatorExamples applies the vitess-operator's example manifests with only their
// apiVersion changed, in the seed scenario's order (101 → 201 → 302 → 306), and checks after
// each step that every object the operator would make exists under the operator's name, that
// Pods run and are ready, PVCs are bound and the cluster reports Ready. 201 also changes every
// image, so commerce's tablets are replaced one at a time; 306 turns the old customer shard down
// and keeps its data. Deleting the cluster removes every Pod and keeps every PVC.
func TestOperatorExamples(t *testing.T) {
	dir := filepath.Join(repoRoot, "..", "shared", "seed", "operator-examples")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("operator examples not found beside the repository: %v", err)
	}
	ctx := testContext(t)
	core := kubeClient(t)
	ensureNamespace(t, "example")
	// A tablet Pod is replaced only once Vitess says which tablet is the primary: a real vtctld,
	// with no tablets (kwok runs none), says none is.
	_, vtctld := vitess.StartForTest(ctx, t, vitess.DataDir(t, "vitess", t.Name()))
	apply := func(file string) {
		t.Helper()
		manifest := strings.ReplaceAll(readFile(t, filepath.Join(dir, file)), "apiVersion: planetscale.com/v2", "apiVersion: vitess.planetscale.com/v1alpha1")
		manifest = strings.Replace(manifest, "kind: VitessCluster\nmetadata:\n  name: example\n",
			fmt.Sprintf("kind: VitessCluster\nmetadata:\n  name: example\n  annotations: {%s: %q}\n", vitessapi.AnnotationVtctldAddress, vtctld.GRPCAddress), 1)
		mustApply(t, manifest)
	}

	lockserver := names.GlobalLockserver("example")
	want := objectSet{
		services: []string{names.EtcdClientServiceName(lockserver), names.EtcdPeerServiceName(lockserver),
			names.VtctldServiceName("example"), "example-vtgate-ae7df4b6", "example-zone1-vtgate-bc6cde92", names.TabletServiceName("example")},
		deployments: []string{names.VtctldDeploymentName("example", "zone1"), "example-zone1-vtgate-bc6cde92"},
	}
	for index := 1; index <= names.EtcdMembers; index++ {
		want.pods = append(want.pods, names.EtcdMemberPodName(lockserver, index))
		want.pvcs = append(want.pvcs, names.EtcdMemberPVCName(lockserver, index))
	}
	// The operator's own names for commerce's tablets and VTOrc.
	want.add(objectSet{
		pods:        []string{"example-vttablet-zone1-2548885007-46a852d0", "example-vttablet-zone1-2469782763-bfadd780", "example-vttablet-zone1-0790125915-4e37d9d5"},
		pvcs:        []string{"example-vttablet-zone1-2548885007-46a852d0", "example-vttablet-zone1-2469782763-bfadd780", "example-vttablet-zone1-0790125915-4e37d9d5"},
		deployments: []string{"example-commerce-x-x-zone1-vtorc-c13ef6ff"},
	})
	if commerce := shardObjects("commerce", "-", "x-x"); !slices.Equal(commerce.pods, want.pods[3:]) {
		t.Fatalf("the test computes commerce's tablets as %v", commerce.pods)
	}

	apply("101_initial_cluster.yaml")
	waitForObjects(t, core, "101", want, nil)
	commerceTablets := want.pods[3:6]
	checkBackupVolume(t, core, append([]string{want.deployments[0]}, commerceTablets...))

	// 201 adds the customer keyspace and moves every image to another tag: commerce's tablets are
	// replaced, never more than one at a time.
	stopWatching := watchReadyTablets(t, core, commerceTablets)
	apply("201_customer_tablets.yaml")
	oldCustomer := shardObjects("customer", "-", "x-x")
	want.add(oldCustomer)
	waitForObjects(t, core, "201", want, func(pod *corev1.Pod) bool {
		return !slices.Contains(commerceTablets, pod.Name) || pod.Spec.Containers[0].Image == "vitess/lite:mysql80"
	})
	if fewest := stopWatching(); fewest < 2 {
		t.Errorf("during commerce's rolling update only %d of its 3 tablets were ready at one time", fewest)
	}

	apply("302_new_shards.yaml")
	want.add(shardObjects("customer", "-80", "x-80"))
	want.add(shardObjects("customer", "80-", "80-x"))
	waitForObjects(t, core, "302", want, nil)

	// 306 drops customer's unsharded partitioning; its turndownPolicy is Immediate.
	apply("306_down_shard_0.yaml")
	gone := objectSet{pods: oldCustomer.pods, deployments: oldCustomer.deployments}
	want.pods = slices.DeleteFunc(want.pods, func(name string) bool { return slices.Contains(gone.pods, name) })
	want.deployments = slices.DeleteFunc(want.deployments, func(name string) bool { return slices.Contains(gone.deployments, name) })
	waitForObjects(t, core, "306", want, nil)
	eventually(t, "306: the old customer shard's tablets and VTOrc removed", func() (bool, error) {
		return countExisting(ctx, core, gone) == 0, nil
	})
	for _, pvc := range oldCustomer.pvcs {
		if _, err := core.CoreV1().PersistentVolumeClaims("example").Get(ctx, pvc, metav1.GetOptions{}); err != nil {
			t.Errorf("306: the old shard's PVC %s was not kept: %v", pvc, err)
		}
	}

	kubectl(t, "delete", "vitesscluster", "example", "-n", "example")
	eventually(t, "cluster deleted: its Pods removed", func() (bool, error) {
		return countExisting(ctx, core, objectSet{pods: want.pods, deployments: want.deployments}) == 0, nil
	})
	for _, pvc := range want.pvcs {
		if _, err := core.CoreV1().PersistentVolumeClaims("example").Get(ctx, pvc, metav1.GetOptions{}); err != nil {
			t.Errorf("deleting the cluster removed PVC %s: %v", pvc, err)
		}
	}
}

// checkBackupVolume checks that vtctld's Deployment (the first name) and each tablet Pod (the rest)
// mount 101's backup claim, vitess-backups, and run with its engine and the file storage root the
// operator gives them.
func checkBackupVolume(t *testing.T, core kubernetes.Interface, names []string) {
	t.Helper()
	ctx := testContext(t)
	deployment, err := core.AppsV1().Deployments("example").Get(ctx, names[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	specs := map[string]corev1.PodSpec{names[0]: deployment.Spec.Template.Spec}
	for _, name := range names[1:] {
		pod, err := core.CoreV1().Pods("example").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		specs[name] = pod.Spec
	}
	for name, spec := range specs {
		if !slices.ContainsFunc(spec.Volumes, func(v corev1.Volume) bool {
			return v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "vitess-backups"
		}) {
			t.Errorf("%s does not mount 101's backup claim: %+v", name, spec.Volumes)
		}
		args := spec.Containers[0].Args
		for _, flag := range []string{"--backup-engine-implementation=xtrabackup", "--backup-storage-implementation=file", "--file-backup-storage-root=/vt/backups/example"} {
			if !slices.Contains(args, flag) {
				t.Errorf("%s runs without %s: %v", name, flag, args)
			}
		}
		if strings.Contains(name, "-vttablet-") && !slices.Contains(args, "--restore-from-backup=true") {
			t.Errorf("tablet %s does not restore from backup: %v", name, args)
		}
	}
}

// waitForObjects waits until every object of want exists (Pods Running and Ready and, when
// current is given, current; PVCs Bound; Deployments available) and the cluster is Ready for its
// current generation.
func waitForObjects(t *testing.T, core kubernetes.Interface, step string, want objectSet, current func(*corev1.Pod) bool) {
	t.Helper()
	ctx := testContext(t)
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	eventually(t, step+": every object exists and is ready, and the cluster is Ready", func() (bool, error) {
		for _, name := range want.pods {
			pod, err := core.CoreV1().Pods("example").Get(ctx, name, metav1.GetOptions{})
			if err != nil || pod.Status.Phase != corev1.PodRunning || !podIsReady(pod) || (current != nil && !current(pod)) {
				return false, fmt.Errorf("pod %s: %v", name, err)
			}
		}
		for _, name := range want.pvcs {
			pvc, err := core.CoreV1().PersistentVolumeClaims("example").Get(ctx, name, metav1.GetOptions{})
			if err != nil || pvc.Status.Phase != corev1.ClaimBound {
				return false, fmt.Errorf("pvc %s: %v", name, err)
			}
		}
		for _, name := range want.services {
			if _, err := core.CoreV1().Services("example").Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, err
			}
		}
		for _, name := range want.deployments {
			deployment, err := core.AppsV1().Deployments("example").Get(ctx, name, metav1.GetOptions{})
			if err != nil || deployment.Status.AvailableReplicas < 1 {
				return false, fmt.Errorf("deployment %s: %v", name, err)
			}
		}
		cluster, err := api.VitessClusters("example").Get(ctx, "example", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		ready := meta.FindStatusCondition(cluster.Status.Conditions, "Ready")
		if cluster.Status.ObservedGeneration != cluster.Generation || ready == nil || ready.Status != metav1.ConditionTrue {
			return false, fmt.Errorf("cluster not Ready: %+v", ready)
		}
		return true, nil
	})
}

// countExisting counts the Pods and Deployments of set that still exist.
func countExisting(ctx context.Context, core kubernetes.Interface, set objectSet) int {
	count := 0
	for _, name := range set.pods {
		if _, err := core.CoreV1().Pods("example").Get(ctx, name, metav1.GetOptions{}); err == nil {
			count++
		}
	}
	for _, name := range set.deployments {
		if _, err := core.AppsV1().Deployments("example").Get(ctx, name, metav1.GetOptions{}); err == nil {
			count++
		}
	}
	return count
}

// watchReadyTablets samples how many of the named tablet Pods exist and are ready until the
// returned function is called, which returns the fewest seen at once.
func watchReadyTablets(t *testing.T, core kubernetes.Interface, pods []string) (stop func() int) {
	ctx, cancel := context.WithCancel(testContext(t))
	fewest := len(pods)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			list, err := core.CoreV1().Pods("example").List(ctx, metav1.ListOptions{LabelSelector: "planetscale.com/component=vttablet,planetscale.com/keyspace=commerce"})
			if err == nil {
				ready := 0
				for i := range list.Items {
					if slices.Contains(pods, list.Items[i].Name) && list.Items[i].DeletionTimestamp == nil && podIsReady(&list.Items[i]) {
						ready++
					}
				}
				fewest = min(fewest, ready)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	return func() int {
		cancel()
		wg.Wait()
		return fewest
	}
}
