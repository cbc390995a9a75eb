package integration

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestVitessTablets serves the tablets of a real topology: a VitessCluster points at a real
// vtctld, two real tablets (mysqld and vttablet) join its keyspace, and kubectl, a client-go
// watch and an informer see them, follow a PlannedReparentShard, and are told 503 once vtctld is
// gone.
func TestVitessTablets(t *testing.T) {
	// Starting two tablets (mysqlctl init, mysqld, vttablet) takes longer than testContext allows.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := vitess.DataDir(t, "vitess", t.Name())
	topo, vtctld, raw := startVitessWithZone1(ctx, t, dir)
	if _, err := raw.CreateKeyspace(ctx, &vtctldatapb.CreateKeyspaceRequest{Name: "commerce", DurabilityPolicy: "none"}); err != nil {
		t.Fatal(err)
	}

	// The cluster declares no keyspace, so that the reconciler leaves the shard to this test (it
	// would elect a primary of its own); its cell is registered where it already is.
	ns := newNamespace(t, "tablets")
	mustApply(t, realVitessCluster(ns, topo, vtctld))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()

	if out := kubectl(t, "get", "vitesstablets", "-n", ns, "-o", "name"); strings.TrimSpace(out) != "" {
		t.Fatalf("tablets before any was started: %s", out)
	}
	if _, err := api.VitessTablets(ns).Get(ctx, "demo-zone1-0000000100", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get before the tablet exists: %v, want 404", err)
	}

	for _, cfg := range []vitess.TabletConfig{
		{Cell: "zone1", Keyspace: "commerce", Shard: "-", UID: 100, Type: "replica"},
		{Cell: "zone1", Keyspace: "commerce", Shard: "-", UID: 101, Type: "rdonly"},
	} {
		vitess.StartTabletForTest(ctx, t, topo, filepath.Join(dir, fmt.Sprintf("tablet-%d", cfg.UID)), cfg)
	}

	// What `kubectl get` shows, and what a label selector and a get by name find.
	want := [][]string{
		{"NAME", "CLUSTER", "ALIAS", "KEYSPACE", "SHARD", "TYPE", "SERVING", "HOSTNAME"},
		{"demo-zone1-0000000100", "demo", "zone1-0000000100", "commerce", "-", "REPLICA", "Serving", "127.0.0.1"},
		{"demo-zone1-0000000101", "demo", "zone1-0000000101", "commerce", "-", "RDONLY", "Serving", "127.0.0.1"},
	}
	// A tablet serves once it has rebuilt the keyspace's serving graph, shortly after it started.
	eventually(t, "both tablets listed, serving", func() (bool, error) {
		out, err := kubectlOutput(t, "get", "vitesstablets", "-n", ns)
		return err == nil && reflect.DeepEqual(tableRows(out), want), fmt.Errorf("%v:\n%s", err, out)
	})
	if out := kubectl(t, "get", "vtt", "demo-zone1-0000000101", "-n", ns, "-o", "jsonpath={.status.type} {.metadata.labels}"); !strings.HasPrefix(out, "RDONLY ") ||
		!strings.Contains(out, `"planetscale.com/shard":"x-x"`) || !strings.Contains(out, `"planetscale.com/tablet-uid":"0000000101"`) {
		t.Errorf("kubectl get vtt demo-zone1-0000000101: %s", out)
	}
	if out := kubectl(t, "get", "vitesstablets", "-n", ns, "-l", "planetscale.com/tablet-type=rdonly", "-o", "name"); strings.TrimSpace(out) != "vitesstablet.vitess.planetscale.com/demo-zone1-0000000101" {
		t.Errorf("tablets of type rdonly: %q", out)
	}

	// Three ways of following the tablets: kubectl get --watch, a watch from a list's version (as
	// kubectl does it, here with the typed client) and an informer (which asks for
	// sendInitialEvents).
	kubectlWatch := startKubectlGetWatch(t, "vitesstablets", "-n", ns)
	listed, err := api.VitessTablets(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := api.VitessTablets(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: listed.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Stop()
	factory := externalversions.NewSharedInformerFactoryWithOptions(vitessClient(t, controlPlane.AdminConfig()), 0, externalversions.WithNamespace(ns))
	informer := factory.Vitess().V1alpha1().VitessTablets()
	informer.Informer() // registers the informer before Start
	informerCtx, stopInformers := context.WithCancel(ctx)
	defer stopInformers()
	factory.Start(informerCtx.Done())
	if synced := factory.WaitForCacheSync(ctx.Done()); !synced[reflect.TypeOf(&v1alpha1.VitessTablet{})] {
		t.Fatalf("informer did not sync: %v", synced)
	}
	if cached, err := informer.Lister().VitessTablets(ns).List(labels.Everything()); err != nil || len(cached) != 2 {
		t.Fatalf("informer cache: %d tablets, %v", len(cached), err)
	}

	if _, err := raw.PlannedReparentShard(ctx, &vtctldatapb.PlannedReparentShardRequest{
		Keyspace: "commerce", Shard: "-", NewPrimary: &topodatapb.TabletAlias{Cell: "zone1", Uid: 100},
	}); err != nil {
		t.Fatalf("PlannedReparentShard: %v", err)
	}
	watchedPrimary := waitForEvent(ctx, t, watcher, func(e watch.Event) bool {
		tablet, ok := e.Object.(*v1alpha1.VitessTablet)
		return ok && e.Type == watch.Modified && tablet.Name == "demo-zone1-0000000100" && tablet.Status.Type == "PRIMARY"
	}).(*v1alpha1.VitessTablet)
	if watchedPrimary.Status.PrimaryTermStartTime == nil || watchedPrimary.Labels["planetscale.com/tablet-type"] != "primary" ||
		watchedPrimary.Status.ServingState != "Serving" {
		t.Errorf("the new primary as watched: %+v", watchedPrimary)
	}
	eventually(t, "informer sees the new primary", func() (bool, error) {
		cached, err := informer.Lister().VitessTablets(ns).Get("demo-zone1-0000000100")
		return err == nil && cached.Status.Type == "PRIMARY", err
	})
	eventually(t, "kubectl get --watch shows the new primary", func() (bool, error) {
		for _, row := range tableRows(kubectlWatch.String()) {
			if len(row) > 5 && row[0] == "demo-zone1-0000000100" && row[5] == "PRIMARY" {
				return true, nil
			}
		}
		return false, fmt.Errorf("output so far:\n%s", kubectlWatch.String())
	})

	// Without vtctld nothing can be said of the tablets: 503, and the watch ends with it. Lists
	// and gets answer from the cluster's latest reading while it is younger than a poll
	// interval, so the 503 comes with the first reading after vtctld stopped.
	vtctld.Stop()
	eventually(t, "list without vtctld is 503", func() (bool, error) {
		_, err := api.VitessTablets(ns).List(ctx, metav1.ListOptions{})
		return apierrors.IsServiceUnavailable(err), err
	})
	eventually(t, "get without vtctld is 503", func() (bool, error) {
		_, err := api.VitessTablets(ns).Get(ctx, "demo-zone1-0000000100", metav1.GetOptions{})
		return apierrors.IsServiceUnavailable(err), err
	})
	failure := waitForEvent(ctx, t, watcher, func(e watch.Event) bool { return e.Type == watch.Error })
	if status, ok := failure.(*metav1.Status); !ok || status.Code != 503 {
		t.Errorf("watch error %+v, want a 503 status", failure)
	}
}

// kubectlOutput runs kubectl as the cluster admin and returns its output and error.
func kubectlOutput(t *testing.T, args ...string) (string, error) {
	out, errOut, err := controlPlane.Kubectl(testContext(t), args...)
	return out + errOut, err
}

// tableRows splits kubectl's table output into rows of fields.
func tableRows(out string) [][]string {
	var rows [][]string
	for line := range strings.Lines(out) {
		if fields := strings.Fields(line); len(fields) > 0 {
			rows = append(rows, fields)
		}
	}
	return rows
}

// startKubectlGetWatch runs `kubectl get --watch` with args in the background until the test
// ends, and returns what it printed so far.
func startKubectlGetWatch(t *testing.T, args ...string) fmt.Stringer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	output := &lockedWriter{b: &strings.Builder{}}
	cmd := exec.CommandContext(ctx, controlPlane.Tools().Kubectl, slices.Concat(
		[]string{"--kubeconfig", controlPlane.KubeconfigPath(), "get", "--watch"}, args)...)
	cmd.Stdout, cmd.Stderr = output, output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	eventually(t, "kubectl get --watch listed the tablets", func() (bool, error) {
		return strings.Count(output.String(), "\n") >= 3, nil
	})
	return output
}

// waitForEvent returns the object of the first event that matches, failing the test if the watch
// ends first.
func waitForEvent(ctx context.Context, t *testing.T, w watch.Interface, matches func(watch.Event) bool) any {
	t.Helper()
	var seen []string
	for {
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("the watch ended; events seen: %v", seen)
			}
			if matches(e) {
				return e.Object
			}
			seen = append(seen, fmt.Sprintf("%s %T", e.Type, e.Object))
		case <-ctx.Done():
			t.Fatalf("no matching event; events seen: %v", seen)
		}
	}
}
