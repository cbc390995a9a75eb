package integration

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// convergeSizesEnv overrides how many example clusters each run of BenchmarkConvergence applies
// at once ("1,10,100" by default).
const convergeSizesEnv = "VITESS_BENCH_CONVERGE"

// convergeLabel marks the VitessClusters of one convergence run, so that one list finds them all.
const convergeLabel = "bench.vitess.planetscale.com/converge"

// coreChildren are the kinds of object the reconciler creates through kube-apiserver. The floor
// re-creates a converged cluster's objects of these kinds with a plain client.
var coreChildren = map[string]schema.GroupVersionResource{
	"PersistentVolumeClaim": {Version: "v1", Resource: "persistentvolumeclaims"},
	"Service":               {Version: "v1", Resource: "services"},
	"Pod":                   {Version: "v1", Resource: "pods"},
	"Deployment":            {Group: "apps", Version: "v1", Resource: "deployments"},
	"PodDisruptionBudget":   {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
}

// podsPerExampleCluster bounds the Pods one example cluster runs (8: three etcd members, three
// tablets, a vtctld and a vtgate), with room for a surge during a rollout.
const podsPerExampleCluster = 12

// floorWriters is how many clients create at once when the floor is measured: enough to find the
// rate kube-apiserver sustains rather than one client's round trip.
const floorWriters = 16

// BenchmarkConvergence applies N copies of the example cluster (artifacts/examples/
// example-cluster.yaml), each in a namespace of its own, at once, and measures on the shared kwok
// nodes how long it takes until every cluster is Ready and in sync (its children all exist and
// run their spec). It compares that with the physical floor: the objects the reconciler created
// for them, divided by the rate at which a plain client with floorWriters writers creates the same
// objects (a converged cluster's Pods, PVCs, Services, Deployments and PodDisruptionBudgets, copied
// without owners into fresh namespaces) on the same kube-apiserver, right after.
//
// It also reports the reconciler's writes per object it created (creates, updates and deletes,
// and apart from them status updates, read from the audit logs for the run's namespaces only), its
// writes per minute there once everything has converged, and the server's resident memory and
// CPU.
func BenchmarkConvergence(b *testing.B) {
	sizes, settle := convergenceSizes(b)
	manifest, err := loadExample(filepath.Join(repoRoot, "artifacts", "examples", "example-cluster.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range sizes {
		b.Run("clusters="+strconv.Itoa(n), func(b *testing.B) {
			for i := range b.N {
				run := newConvergenceRun(ourSide(), n, fmt.Sprintf("cv%d-%d", n, i), manifest, settle)
				result := run.measure(b)
				b.ReportMetric(result.converged.Seconds(), "converge-s")
				b.ReportMetric(result.floor.Seconds(), "floor-s")
				b.ReportMetric(result.converged.Seconds()/result.floor.Seconds(), "ratio-convergence/floor")
				b.ReportMetric(result.replayReady.Seconds(), "replay-ready-s")
				b.ReportMetric(result.converged.Seconds()/result.replayReady.Seconds(), "ratio-convergence/replay-ready")
				b.ReportMetric(result.created, "objects-created")
				b.ReportMetric(result.floorObjectsPerSecond, "floor-objects/s")
				b.ReportMetric(float64(result.floorObjectsPerCluster), "floor-objects/cluster")
				b.ReportMetric(result.writesPerObject(), "writes/object")
				b.ReportMetric(result.statusWritesPerObject(), "status-writes/object")
				b.ReportMetric(result.steadyWritesPerMinute, "steady-writes/min")
				b.ReportMetric(result.peakRSS/(1<<20), "server-peak-rss-MB")
				b.ReportMetric(result.cpuCores, "server-cpu-cores")
				b.ReportMetric(result.steadyCPUCores, "server-steady-cpu-cores")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

// convergenceSizes are the numbers of clusters a convergence benchmark applies at once, and how
// long it watches the writes once they have converged: 1, 10 and 100 for a minute, or only 1 for
// 10 s in make test's smoke run (-benchtime 1x), unless convergeSizesEnv says otherwise.
func convergenceSizes(b *testing.B) ([]int, time.Duration) {
	sizes, settle := []int{1, 10, 100}, time.Minute
	if benchtime := flag.Lookup("test.benchtime"); benchtime != nil && benchtime.Value.String() == "1x" {
		sizes, settle = []int{1}, 10*time.Second
	}
	if value := os.Getenv(convergeSizesEnv); value != "" {
		sizes = nil
		for _, field := range strings.Split(value, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(field))
			if err != nil || n < 1 {
				b.Fatalf("%s=%q: want numbers of clusters, separated by commas", convergeSizesEnv, value)
			}
			sizes = append(sizes, n)
		}
	}
	return sizes, settle
}

// convergenceSide is one way of running the example clusters: our server, or the vitess-operator
// (BenchmarkConvergenceVsOperator).
type convergenceSide struct {
	// clusters is the VitessCluster resource of the side; the example is applied in its version.
	clusters schema.GroupVersionResource
	// writers are the users the side writes as.
	writers map[string]bool
	// pid is the process whose memory and CPU are reported.
	pid int
	// waiting says what a cluster still waits for; "" once it has converged.
	waiting func(cluster *unstructured.Unstructured) string
	// floor: measure the create-rate floor and the replay too, after the side has converged.
	floor bool
}

// ourSide: a cluster has converged when it is Ready and in sync with its current generation.
func ourSide() *convergenceSide {
	return &convergenceSide{clusters: vitessClusters, writers: reconcilerUsers, pid: server.Pid(), floor: true,
		waiting: func(cluster *unstructured.Unstructured) string {
			var status struct {
				ObservedGeneration int64              `json:"observedGeneration"`
				Conditions         []metav1.Condition `json:"conditions"`
			}
			if raw, ok := cluster.Object["status"].(map[string]any); !ok || runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &status) != nil {
				return "no status"
			}
			ready := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionReady)
			switch {
			case ready == nil:
				return "no Ready condition"
			case ready.Status != metav1.ConditionTrue:
				return ready.Message
			case status.ObservedGeneration != cluster.GetGeneration() || !meta.IsStatusConditionFalse(status.Conditions, v1alpha1.ConditionProgressing):
				return "progressing"
			}
			return ""
		},
	}
}

// exampleManifest is the example's objects: its Secret and VitessCluster, namespace left out.
type exampleManifest struct {
	secret, cluster *unstructured.Unstructured
}

func loadExample(path string) (*exampleManifest, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(file, 4096)
	example := &exampleManifest{}
	for {
		object := &unstructured.Unstructured{}
		if err := decoder.Decode(&object.Object); err != nil {
			break
		}
		switch object.GetKind() {
		case "Secret":
			example.secret = object
		case "VitessCluster":
			example.cluster = object
		}
	}
	if example.secret == nil || example.cluster == nil {
		return nil, fmt.Errorf("%s: want a Secret and a VitessCluster", path)
	}
	return example, nil
}

type convergenceRun struct {
	side     *convergenceSide
	clusters int
	id       string
	manifest *exampleManifest
	settle   time.Duration
	client   dynamic.Interface

	namespaces []string // the clusters', then the floor's

	logf         func(format string, args ...any)
	lastProgress time.Time
}

// newConvergenceRun is a run of n clusters, its namespaces named after name and the time.
func newConvergenceRun(side *convergenceSide, n int, name string, manifest *exampleManifest, settle time.Duration) *convergenceRun {
	return &convergenceRun{side: side, clusters: n, id: name + "-" + strconv.FormatInt(time.Now().Unix()%100000, 36), manifest: manifest, settle: settle}
}

// convergenceResult is what a run measured.
type convergenceResult struct {
	converged time.Duration
	// created is the objects the side created; writes its writes in the run's namespaces, by verb.
	created               float64
	writes                map[string]int
	steadyWritesPerMinute float64
	peakRSS               float64 // bytes
	cpuCores              float64 // while converging
	steadyCPUCores        float64

	// Measured when the side asks for the floor.
	floor                  time.Duration
	floorObjectsPerSecond  float64
	floorObjectsPerCluster int
	replayReady            time.Duration
}

func (r *convergenceResult) writesPerObject() float64 {
	return float64(r.writes["create"]+r.writes["update"]+r.writes["patch"]+r.writes["delete"]+r.writes["deletecollection"]) / r.created
}

func (r *convergenceResult) statusWritesPerObject() float64 {
	return float64(r.writes["update-status"]+r.writes["patch-status"]) / r.created
}

var (
	vitessClusters = v1alpha1.SchemeGroupVersion.WithResource("vitessclusters")
	secrets        = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	namespaces     = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

func (r *convergenceRun) measure(b *testing.B) *convergenceResult {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	config := controlPlane.AdminConfig()
	config.QPS, config.Burst = 1000, 1000
	r.client = dynamic.NewForConfigOrDie(config)
	r.logf, r.lastProgress = b.Logf, time.Now()
	defer r.cleanUp(b)

	// Room for this run's Pods and the floor's, 110 per node, beyond what the nodes hold already.
	if err := r.ensureRoom(ctx, 2*r.clusters*podsPerExampleCluster); err != nil {
		b.Fatal(err)
	}
	var clusterNamespaces []string
	for i := range r.clusters {
		namespace := fmt.Sprintf("%s-%d", r.id, i)
		if err := r.createNamespace(ctx, namespace); err != nil {
			b.Fatal(err)
		}
		if _, err := r.client.Resource(secrets).Namespace(namespace).Create(ctx, withNamespace(r.manifest.secret, namespace), metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		clusterNamespaces = append(clusterNamespaces, namespace)
	}

	// Timed from here to convergence; started again since a run measured before this one, in the
	// same iteration, stopped the timer.
	b.ResetTimer()
	b.StartTimer()
	result := &convergenceResult{}
	cpuBefore := processCPU(b, r.side.pid)
	start := time.Now()
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(floorWriters)
	for _, namespace := range clusterNamespaces {
		group.Go(func() error {
			cluster := withNamespace(r.manifest.cluster, namespace)
			cluster.SetAPIVersion(r.side.clusters.GroupVersion().String())
			cluster.SetLabels(map[string]string{convergeLabel: r.id})
			_, err := r.client.Resource(r.side.clusters).Namespace(namespace).Create(groupCtx, cluster, metav1.CreateOptions{})
			return err
		})
	}
	if err := group.Wait(); err != nil {
		b.Fatalf("creating the clusters: %v", err)
	}
	if err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		result.peakRSS = max(result.peakRSS, processRSS(b, r.side.pid))
		return r.converged(ctx)
	}); err != nil {
		b.Fatalf("%d clusters did not converge: %v", r.clusters, err)
	}
	result.converged = time.Since(start)
	result.cpuCores = (processCPU(b, r.side.pid) - cpuBefore) / result.converged.Seconds()
	b.StopTimer()
	inRun := map[string]bool{}
	for _, namespace := range clusterNamespaces {
		inRun[namespace] = true
	}
	result.writes = writesIn(b, r.side.writers, inRun)
	b.Logf("%d clusters: the writes by verb: %v", r.clusters, result.writes)
	result.created = float64(result.writes["create"])
	if result.created == 0 {
		b.Fatal("the audit logs show no creates")
	}
	if r.side.floor {
		var err error
		result.floorObjectsPerSecond, result.floorObjectsPerCluster, result.replayReady, err = r.replay(ctx, clusterNamespaces[0])
		if err != nil {
			b.Fatal(err)
		}
		result.floor = time.Duration(result.created / result.floorObjectsPerSecond * float64(time.Second))
	}

	steadyBefore := sum(writesIn(b, r.side.writers, inRun))
	steadyCPUBefore := processCPU(b, r.side.pid)
	time.Sleep(r.settle)
	result.steadyWritesPerMinute = float64(sum(writesIn(b, r.side.writers, inRun))-steadyBefore) / r.settle.Minutes()
	result.steadyCPUCores = (processCPU(b, r.side.pid) - steadyCPUBefore) / r.settle.Seconds()
	return result
}

// ensureRoom adds kwok nodes until they hold pods more Pods than the Pods there are now.
func (r *convergenceRun) ensureRoom(ctx context.Context, pods int) error {
	existing, err := controlPlane.Client().CoreV1().Pods("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return err
	}
	const podsPerNode = 110
	needed := (len(existing.Items) + pods + podsPerNode - 1) / podsPerNode
	if missing := needed - len(controlPlane.Nodes()); missing > 0 {
		return controlPlane.AddNodes(ctx, missing)
	}
	return nil
}

func (r *convergenceRun) createNamespace(ctx context.Context, name string) error {
	namespace := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": name}}}
	if _, err := r.client.Resource(namespaces).Create(ctx, namespace, metav1.CreateOptions{}); err != nil {
		return err
	}
	r.namespaces = append(r.namespaces, name)
	return nil
}

// converged: every cluster of the run has converged, as its side tells.
func (r *convergenceRun) converged(ctx context.Context) (bool, error) {
	list, err := r.client.Resource(r.side.clusters).List(ctx, metav1.ListOptions{LabelSelector: convergeLabel + "=" + r.id})
	if err != nil {
		return false, nil // a blip under load; the poll retries
	}
	if len(list.Items) != r.clusters {
		return false, fmt.Errorf("%d clusters listed, want %d", len(list.Items), r.clusters)
	}
	waiting := map[string]int{} // clusters not converged, by what they wait for
	for i := range list.Items {
		if what := r.side.waiting(&list.Items[i]); what != "" {
			waiting[what]++
		}
	}
	if len(waiting) > 0 && time.Since(r.lastProgress) > 30*time.Second {
		r.lastProgress = time.Now()
		r.logf("%d of %d clusters not converged: %v", sum(waiting), r.clusters, waiting)
	}
	return len(waiting) == 0, nil
}

// replay copies the objects the reconciler created through kube-apiserver for the cluster in
// template, once per cluster of the run, into fresh namespaces with floorWriters writers. It
// returns the objects created per second, the objects copied per cluster, and how long after the
// first create every Pod of the copies was Ready: what the rest of the control plane (volume
// provisioning, Deployments, the scheduler, kwok) takes for the same objects, with no reconciler
// in the way.
func (r *convergenceRun) replay(ctx context.Context, template string) (objectsPerSecond float64, objectsPerCluster int, ready time.Duration, err error) {
	var objects []*unstructured.Unstructured
	for _, resource := range coreChildren {
		list, err := r.client.Resource(resource).Namespace(template).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, 0, 0, err
		}
		for i := range list.Items {
			if createdByReconciler(&list.Items[i]) {
				objects = append(objects, plainCopy(&list.Items[i]))
			}
		}
	}
	if len(objects) == 0 {
		return 0, 0, 0, fmt.Errorf("namespace %s holds none of the reconciler's objects", template)
	}
	var floorNamespaces []string
	for i := range r.clusters {
		namespace := fmt.Sprintf("%s-floor-%d", r.id, i)
		if err := r.createNamespace(ctx, namespace); err != nil {
			return 0, 0, 0, err
		}
		floorNamespaces = append(floorNamespaces, namespace)
	}
	var created atomic.Int64
	start := time.Now()
	group, groupCtx := errgroup.WithContext(ctx)
	group.SetLimit(floorWriters)
	for _, namespace := range floorNamespaces {
		for _, object := range objects {
			group.Go(func() error {
				_, err := r.client.Resource(coreChildren[object.GetKind()]).Namespace(namespace).Create(groupCtx, withNamespace(object, namespace), metav1.CreateOptions{})
				if err == nil {
					created.Add(1)
				}
				return err
			})
		}
	}
	if err := group.Wait(); err != nil {
		return 0, 0, 0, fmt.Errorf("creating the floor's objects: %w", err)
	}
	elapsed := time.Since(start)

	templatePods, err := controlPlane.Client().CoreV1().Pods(template).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, 0, 0, err
	}
	want := len(templatePods.Items) * r.clusters
	if err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		pods, err := controlPlane.Client().CoreV1().Pods("").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, nil
		}
		ready := 0
		for i := range pods.Items {
			if strings.HasPrefix(pods.Items[i].Namespace, r.id+"-floor-") && framework.PodReady(&pods.Items[i]) {
				ready++
			}
		}
		return ready >= want, nil
	}); err != nil {
		return 0, 0, 0, fmt.Errorf("the copies' %d Pods were not all Ready: %w", want, err)
	}
	return float64(created.Load()) / elapsed.Seconds(), len(objects), time.Since(start), nil
}

// createdByReconciler: object is controlled by one of our kinds, or is one the reconciler leaves
// without an owner so that it outlives them (a tablet's PVC), which it marks with its cluster.
func createdByReconciler(object metav1.Object) bool {
	if owner := metav1.GetControllerOf(object); owner != nil {
		return strings.HasPrefix(owner.APIVersion, v1alpha1.GroupName+"/")
	}
	return object.GetLabels()[vitess.LabelCluster] != ""
}

// plainCopy is object as a client would first create it: without what the servers and other
// controllers filled in (identity, owners, status, allocated addresses, bound volumes, node).
func plainCopy(object *unstructured.Unstructured) *unstructured.Unstructured {
	copied := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": object.GetAPIVersion(),
		"kind":       object.GetKind(),
		"metadata":   map[string]any{"name": object.GetName()},
		"spec":       object.Object["spec"],
	}}
	copied.SetLabels(object.GetLabels())
	annotations := map[string]string{}
	for key, value := range object.GetAnnotations() {
		if !strings.Contains(key, "kubernetes.io/") {
			annotations[key] = value
		}
	}
	copied.SetAnnotations(annotations)
	copied = copied.DeepCopy()
	for _, field := range [][]string{{"spec", "clusterIP"}, {"spec", "clusterIPs"}, {"spec", "volumeName"}, {"spec", "nodeName"}} {
		unstructured.RemoveNestedField(copied.Object, field...)
	}
	return copied
}

func withNamespace(object *unstructured.Unstructured, namespace string) *unstructured.Unstructured {
	copied := object.DeepCopy()
	copied.SetNamespace(namespace)
	return copied
}

// cleanUp deletes the run's namespaces and waits until they are gone, so that the next run is not
// measured while kube-apiserver and the garbage collector delete thousands of objects.
func (r *convergenceRun) cleanUp(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	for _, namespace := range r.namespaces {
		if err := r.client.Resource(namespaces).Delete(ctx, namespace, metav1.DeleteOptions{}); err != nil {
			b.Errorf("deleting namespace %s: %v", namespace, err)
		}
	}
	if err := wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		for _, namespace := range r.namespaces {
			if _, err := r.client.Resource(namespaces).Get(ctx, namespace, metav1.GetOptions{}); err == nil {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		b.Logf("the run's namespaces were not all gone after 15 minutes: %v", err)
	}
	// Their volumes too: kube-controller-manager deletes them one by one, and the next run's
	// would wait behind them to be provisioned and bound.
	inRun := map[string]bool{}
	for _, namespace := range r.namespaces {
		inRun[namespace] = true
	}
	if err := wait.PollUntilContextCancel(ctx, 2*time.Second, true, func(ctx context.Context) (bool, error) {
		volumes, err := controlPlane.Client().CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, volume := range volumes.Items {
			if claim := volume.Spec.ClaimRef; claim != nil && inRun[claim.Namespace] {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		b.Logf("the run's volumes were not all gone after 15 minutes: %v", err)
	}
}

func sum(counts map[string]int) int {
	total := 0
	for _, count := range counts {
		total += count
	}
	return total
}

// processCPU is the CPU time, in seconds, the process has used (user and system).
func processCPU(b *testing.B, pid int) float64 {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command's closing parenthesis, of which utime and stime are the
	// 12th and 13th (fields 14 and 15 of proc(5)), in clock ticks of 1/100 s on Linux.
	_, after, _ := strings.Cut(string(stat), ") ")
	fields := strings.Fields(after)
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	return (utime + stime) / 100
}

// processRSS is the process's resident memory, in bytes.
func processRSS(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if value, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kilobytes, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 64)
			if err != nil {
				b.Fatalf("/proc/%d/status: %q", pid, line)
			}
			return kilobytes * 1024
		}
	}
	b.Fatalf("/proc/%d/status has no VmRSS", pid)
	return 0
}
