package integration

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclientset "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	clientscheme "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/scheme"
)

// The CRD peer of our VitessCell lives in a group of its own, so that both are served side by
// side by the same kube-apiserver.
const peerGroup = "crdpeer.vitess.planetscale.com"

// operatorCRDsEnv names a directory of the vitess-operator's CRD manifests; when set, the peer is
// the operator's own VitessCell CRD instead of one built from our schema.
const operatorCRDsEnv = "VITESS_BENCH_OPERATOR_CRDS"

// largeListEnv overrides how many objects the large list returns (10,000 by default).
const largeListEnv = "VITESS_BENCH_LIST_LARGE"

// concurrentWriters is how many clients create at once in the throughput measurement.
const concurrentWriters = 8

// comparisonSizes are how many objects and samples one run takes, per side.
type comparisonSizes struct {
	largeList        int // objects in the namespace the large list reads, created by the concurrent writers
	writeSamples     int // creates, updates and watch events per pass
	getSamples       int
	list100Samples   int
	largeListSamples int // lists of the large namespace per pass
}

// benchmarkSizes are sized for a few minutes per run under make bench, and for seconds under
// -benchtime 1x, the smoke run that only checks that the benchmark still works. b.N cannot tell
// them apart: a single pass outlasts the default benchtime, so make bench runs b.N == 1 too.
func benchmarkSizes(b *testing.B) comparisonSizes {
	sizes := comparisonSizes{largeList: 10000, writeSamples: 300, getSamples: 1000, list100Samples: 200, largeListSamples: 20}
	if benchtime := flag.Lookup("test.benchtime"); benchtime != nil && benchtime.Value.String() == "1x" {
		sizes = comparisonSizes{largeList: 200, writeSamples: 30, getSamples: 100, list100Samples: 30, largeListSamples: 5}
	}
	if value := os.Getenv(largeListEnv); value != "" {
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number of objects", largeListEnv, value)
		}
		sizes.largeList = n
	}
	return sizes
}

// BenchmarkAPIvsCRD serves VitessCells two ways from the same kube-apiserver in the same run: ours
// through the aggregator, and a CRD peer with a schema as strict as ours. It takes the same
// samples of each operation from both, interleaved (ours, peer, ours, peer ...) so that whatever
// else the machine does weighs on both alike, and reports per operation the p50 and p99 of each
// in milliseconds (ours-<op>-<stat>-ms, peer-<op>-<stat>-ms), their ratio ours/peer
// (ratio-<op>-<stat>; above 1 is ours slower) and the samples per side (samples-<op>). The
// operations: create, get, get-unproxied (the same gets with ours straight at our server, without
// the aggregator's hop), update, list of 100 objects, list of the large namespace (listlarge, of
// objects-listlarge objects), and watch, the time from before an update to its event reaching the
// watching client. The throughput of 8 concurrent writers is ours-create-objects/s and
// peer-create-objects/s, with ratio-create-throughput (ours/peer; above 1 is ours faster). One operation (ns/op) is one pass
// over the latency samples.
//
// Both sides are driven by a dynamic client each, so that the client-side cost (JSON into
// unstructured objects) is the same and the difference is the servers'. One more operation,
// listlarge-typed, lists the large namespace as a client-go program does, into typed objects: ours
// with the generated clientset, in protobuf; the CRD's in JSON, the only form a CRD serves.
func BenchmarkAPIvsCRD(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	c := &comparison{sizes: benchmarkSizes(b)}
	peerCRD, extraSpec, err := loadPeerCRD(ctx)
	if err != nil {
		b.Fatal(err)
	}
	peerResource, err := installCRD(ctx, b, peerCRD)
	if err != nil {
		b.Fatal(err)
	}
	tenant, err := benchTenant(ctx, peerResource.Group)
	if err != nil {
		b.Fatal(err)
	}
	if c.ours, err = newSide("ours", tenant, v1alpha1.SchemeGroupVersion.WithResource("vitesscells"), nil); err != nil {
		b.Fatal(err)
	}
	if c.ours.listTyped, err = clientsetList(tenant); err != nil {
		b.Fatal(err)
	}
	if c.ours.unproxied, err = unproxiedClient(); err != nil {
		b.Fatal(err)
	}
	if c.peer, err = newSide("peer", tenant, peerResource, extraSpec); err != nil {
		b.Fatal(err)
	}
	if c.peer.listTyped, err = jsonList(tenant, peerResource); err != nil {
		b.Fatal(err)
	}

	suffix := rand.String(5)
	c.workNamespace, c.list100Namespace, c.largeNamespace = "apivscrd-work-"+suffix, "apivscrd-list100-"+suffix, "apivscrd-large-"+suffix
	for _, namespace := range []string{c.workNamespace, c.list100Namespace, c.largeNamespace} {
		if _, errOut, err := controlPlane.Kubectl(ctx, "create", "namespace", namespace); err != nil {
			b.Fatalf("creating namespace %s: %v: %s", namespace, err, errOut)
		}
	}
	b.Cleanup(func() { c.deleteNamespaces(b) })

	// Filled first, it also warms both sides up: a CRD's first writes after it is established are
	// much slower than the rest, and were counted in the throughput of smoke runs.
	for _, s := range c.sides() {
		if _, err := s.createConcurrently(ctx, c.list100Namespace, objectNames("cell", 100)); err != nil {
			b.Fatalf("%s: filling the namespace of the list of 100: %v", s.name, err)
		}
	}
	if err := c.measureThroughput(ctx); err != nil {
		b.Fatal(err)
	}
	pass := 0
	for b.Loop() {
		pass++
		if err := c.measurePass(ctx, pass); err != nil {
			b.Fatal(err)
		}
	}
	c.report(b)
}

// side is one way of serving VitessCells: ours, or the CRD peer.
type side struct {
	name     string // "ours" or "peer", the prefix of its metrics
	resource schema.GroupVersionResource
	client   dynamic.Interface
	// unproxied reaches the same objects without the aggregator's hop, where there is one: ours
	// straight at our server (nil for the peer, which kube-apiserver serves itself).
	unproxied dynamic.Interface
	extraSpec map[string]any // what the peer's schema requires beyond ours (the operator's allCells)
	// listTyped lists a namespace into typed VitessCells, as a client-go program would, and
	// returns how many it read.
	listTyped func(ctx context.Context, namespace string) (int, error)

	latencies   map[string][]time.Duration            // by operation
	lastWritten map[string]*unstructured.Unstructured // each timed object as last written, by name
	created     int                                   // objects created by the concurrent writers
	createTime  time.Duration                         // the wall time they took
}

// benchTenant is the identity both sides are driven as: a ServiceAccount that RBAC lets manage
// VitessCells of both groups, as a platform team's tenants are. An administrator in system:masters
// would skip authorization altogether, on both sides, and hide what it costs.
func benchTenant(ctx context.Context, peerGroup string) (*rest.Config, error) {
	const namespace, name = "apivscrd-tenant", "tenant"
	manifest := fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: %[2]s, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: apivscrd-cells}
rules:
- apiGroups: [%[3]s, %[4]s]
  resources: [vitesscells]
  verbs: [get, list, watch, create, update, patch, delete, deletecollection]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: apivscrd-cells}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: apivscrd-cells}
subjects:
- {kind: ServiceAccount, name: %[2]s, namespace: %[1]s}
`, namespace, name, v1alpha1.SchemeGroupVersion.Group, peerGroup)
	if _, errOut, err := controlPlane.KubectlInput(ctx, manifest, "apply", "-f", "-"); err != nil {
		return nil, fmt.Errorf("the benchmark's tenant: %v: %s", err, errOut)
	}
	return controlPlane.ServiceAccountConfig(ctx, namespace, name)
}

// newSide makes a side with a client of its own, authenticated as tenant.
func newSide(name string, tenant *rest.Config, resource schema.GroupVersionResource, extraSpec map[string]any) (*side, error) {
	config := rest.CopyConfig(tenant)
	// Client-side throttling would measure the limiter, not the servers.
	config.QPS, config.Burst = 1000, 1000
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	return &side{name: name, resource: resource, client: client, extraSpec: extraSpec,
		latencies: map[string][]time.Duration{}, lastWritten: map[string]*unstructured.Unstructured{}}, nil
}

// unproxiedClient reaches our server straight, bypassing kube-apiserver, as an administrator: a
// tenant's token sent straight is authorized by a SubjectAccessReview per object name, which is not
// what a proxied request costs (kube-apiserver authorized it before the hop). What is left is what
// our server itself takes to serve the request.
func unproxiedClient() (dynamic.Interface, error) {
	config := straightToServer(controlPlane.AdminConfig())
	config.QPS, config.Burst = 1000, 1000
	return dynamic.NewForConfig(config)
}

// clientsetList lists our VitessCells with the generated clientset, which asks for protobuf.
func clientsetList(tenant *rest.Config) (func(context.Context, string) (int, error), error) {
	config := rest.CopyConfig(tenant)
	config.QPS, config.Burst = 1000, 1000
	client, err := versioned.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, namespace string) (int, error) {
		list, err := client.VitessV1alpha1().VitessCells(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}, nil
}

// jsonList lists the CRD peer's cells into the same typed VitessCells: JSON, the only form a CRD
// serves, decoded as client-go's JSON serializer decodes it.
func jsonList(tenant *rest.Config, resource schema.GroupVersionResource) (func(context.Context, string) (int, error), error) {
	config := rest.CopyConfig(tenant)
	config.QPS, config.Burst = 1000, 1000
	config.GroupVersion = &schema.GroupVersion{Group: resource.Group, Version: resource.Version}
	config.APIPath = "/apis"
	config.AcceptContentTypes = runtime.ContentTypeJSON
	config.NegotiatedSerializer = clientscheme.Codecs.WithoutConversion()
	client, err := rest.RESTClientFor(config)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, namespace string) (int, error) {
		data, err := client.Get().Namespace(namespace).Resource(resource.Resource).Do(ctx).Raw()
		if err != nil {
			return 0, err
		}
		var list v1alpha1.VitessCellList
		if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &list); err != nil {
			return 0, err
		}
		return len(list.Items), nil
	}, nil
}

func (s *side) in(namespace string) dynamic.ResourceInterface {
	return s.client.Resource(s.resource).Namespace(namespace)
}

// create creates a cell valid for both servers, the same on both sides.
func (s *side) create(ctx context.Context, namespace, name string) (*unstructured.Unstructured, error) {
	spec := map[string]any{
		"name":    "zone1",
		"zone":    "zone-a",
		"gateway": map[string]any{"replicas": int64(1)},
		"globalLockserver": map[string]any{
			"implementation": "etcd2", "address": "example-etcd-client:2379", "rootPath": "/vitess/example/global",
		},
		"images":           map[string]any{"vtgate": "vitess/lite:v24.0.0"},
		"extraVitessFlags": map[string]any{"logtostderr": "true"},
	}
	maps.Copy(spec, s.extraSpec)
	cell := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": s.resource.GroupVersion().String(),
		"kind":       "VitessCell",
		"metadata":   map[string]any{"name": name, "namespace": namespace},
		"spec":       spec,
	}}
	return s.in(namespace).Create(ctx, cell, metav1.CreateOptions{})
}

// update changes the spec of the cell as it was last written (one more vtgate), so that every
// update is a real write and a watch event.
func (s *side) update(ctx context.Context, name string) (*unstructured.Unstructured, error) {
	cell := s.lastWritten[name].DeepCopy()
	replicas, _, err := unstructured.NestedInt64(cell.Object, "spec", "gateway", "replicas")
	if err != nil {
		return nil, err
	}
	if err := unstructured.SetNestedField(cell.Object, replicas+1, "spec", "gateway", "replicas"); err != nil {
		return nil, err
	}
	updated, err := s.in(cell.GetNamespace()).Update(ctx, cell, metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	s.lastWritten[name] = updated
	return updated, nil
}

// createConcurrently creates the named cells with concurrentWriters requests in flight at once and
// returns how long it took.
func (s *side) createConcurrently(ctx context.Context, namespace string, names []string) (time.Duration, error) {
	writers, ctx := errgroup.WithContext(ctx)
	writers.SetLimit(concurrentWriters)
	start := time.Now()
	for _, name := range names {
		writers.Go(func() error {
			_, err := s.create(ctx, namespace, name)
			return err
		})
	}
	err := writers.Wait()
	return time.Since(start), err
}

// comparison is one run of BenchmarkAPIvsCRD.
type comparison struct {
	sizes                                           comparisonSizes
	ours, peer                                      *side
	workNamespace, list100Namespace, largeNamespace string
	operations                                      []string // in the order first measured
}

func (c *comparison) sides() []*side { return []*side{c.ours, c.peer} }

// interleave takes n samples of an operation from each side, ours then the peer's, n times.
func (c *comparison) interleave(operation string, n int, sample func(s *side, i int) (time.Duration, error)) error {
	if !slices.Contains(c.operations, operation) {
		c.operations = append(c.operations, operation)
	}
	for i := range n {
		for _, s := range c.sides() {
			latency, err := sample(s, i)
			if err != nil {
				return fmt.Errorf("%s: %s #%d: %w", s.name, operation, i, err)
			}
			s.latencies[operation] = append(s.latencies[operation], latency)
		}
	}
	return nil
}

func timed(call func() error) (time.Duration, error) {
	start := time.Now()
	err := call()
	return time.Since(start), err
}

func objectNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	return names
}

// measureThroughput fills the large namespace of each side with concurrent writers, in ten rounds
// that alternate between the sides like the latency samples do.
func (c *comparison) measureThroughput(ctx context.Context) error {
	names := objectNames("cell", c.sizes.largeList)
	const rounds = 10
	for round := range rounds {
		batch := names[round*len(names)/rounds : (round+1)*len(names)/rounds]
		for _, s := range c.sides() {
			elapsed, err := s.createConcurrently(ctx, c.largeNamespace, batch)
			if err != nil {
				return fmt.Errorf("%s: concurrent creates: %w", s.name, err)
			}
			s.created += len(batch)
			s.createTime += elapsed
		}
	}
	return nil
}

// measurePass takes one pass of latency samples of every operation; its cells are its own.
func (c *comparison) measurePass(ctx context.Context, pass int) error {
	names := objectNames(fmt.Sprintf("pass%d", pass), c.sizes.writeSamples)
	work := c.workNamespace
	if err := c.interleave("create", len(names), func(s *side, i int) (time.Duration, error) {
		return timed(func() error {
			created, err := s.create(ctx, work, names[i])
			s.lastWritten[names[i]] = created
			return err
		})
	}); err != nil {
		return err
	}
	if err := c.interleave("get", c.sizes.getSamples, func(s *side, i int) (time.Duration, error) {
		return timed(func() error {
			_, err := s.in(work).Get(ctx, names[i%len(names)], metav1.GetOptions{})
			return err
		})
	}); err != nil {
		return err
	}
	// The same gets with ours straight at our server: how much of the gap is the aggregator's hop.
	if err := c.interleave("get-unproxied", c.sizes.getSamples, func(s *side, i int) (time.Duration, error) {
		client := s.client
		if s.unproxied != nil {
			client = s.unproxied
		}
		return timed(func() error {
			_, err := client.Resource(s.resource).Namespace(work).Get(ctx, names[i%len(names)], metav1.GetOptions{})
			return err
		})
	}); err != nil {
		return err
	}
	if err := c.interleave("update", len(names), func(s *side, i int) (time.Duration, error) {
		return timed(func() error {
			_, err := s.update(ctx, names[i])
			return err
		})
	}); err != nil {
		return err
	}
	if err := c.measureWatch(ctx, names); err != nil {
		return err
	}
	lists := []struct {
		operation string
		namespace string
		objects   int
		samples   int
	}{
		{"list100", c.list100Namespace, 100, c.sizes.list100Samples},
		{"listlarge", c.largeNamespace, c.sizes.largeList, c.sizes.largeListSamples},
	}
	for _, list := range lists {
		if err := c.interleave(list.operation, list.samples, func(s *side, i int) (time.Duration, error) {
			return timed(func() error {
				listed, err := s.in(list.namespace).List(ctx, metav1.ListOptions{})
				if err == nil && len(listed.Items) != list.objects {
					err = fmt.Errorf("listed %d objects, want %d", len(listed.Items), list.objects)
				}
				return err
			})
		}); err != nil {
			return err
		}
	}
	// The large list again, into typed objects: ours in protobuf, the CRD's in JSON.
	return c.interleave("listlarge-typed", c.sizes.largeListSamples, func(s *side, i int) (time.Duration, error) {
		return timed(func() error {
			listed, err := s.listTyped(ctx, c.largeNamespace)
			if err == nil && listed != c.sizes.largeList {
				err = fmt.Errorf("listed %d objects, want %d", listed, c.sizes.largeList)
			}
			return err
		})
	})
}

// watchArrival is a watch event as the client received it.
type watchArrival struct {
	resourceVersion string
	at              time.Time
}

// measureWatch updates each named cell once on each side and takes the time from before the
// update to its event arriving on a watch of the work namespace. A goroutine per watch stamps
// each event as it arrives, so that the stamp does not wait for the update's response.
func (c *comparison) measureWatch(ctx context.Context, names []string) error {
	arrivals := map[*side]chan watchArrival{}
	for _, s := range c.sides() {
		// Watched from the current resource version: older writes must not come back as events.
		current, err := s.in(c.workNamespace).List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		watcher, err := s.in(c.workNamespace).Watch(ctx, metav1.ListOptions{ResourceVersion: current.GetResourceVersion()})
		if err != nil {
			return fmt.Errorf("%s: watch: %w", s.name, err)
		}
		defer watcher.Stop()
		// Room for every event, so that the goroutine never blocks once samples stop being read.
		arrived := make(chan watchArrival, len(names)+1)
		arrivals[s] = arrived
		go func() {
			defer close(arrived)
			for event := range watcher.ResultChan() {
				if cell, ok := event.Object.(*unstructured.Unstructured); ok && event.Type == watch.Modified {
					arrived <- watchArrival{resourceVersion: cell.GetResourceVersion(), at: time.Now()}
				}
			}
		}()
	}
	return c.interleave("watch", len(names), func(s *side, i int) (time.Duration, error) {
		start := time.Now()
		updated, err := s.update(ctx, names[i])
		if err != nil {
			return 0, err
		}
		timeout := time.After(30 * time.Second)
		for {
			select {
			case arrival, open := <-arrivals[s]:
				if !open {
					return 0, fmt.Errorf("the watch ended")
				}
				if arrival.resourceVersion == updated.GetResourceVersion() {
					return arrival.at.Sub(start), nil
				}
			case <-timeout:
				return 0, fmt.Errorf("no watch event for resource version %s in 30s", updated.GetResourceVersion())
			}
		}
	})
}

func (c *comparison) report(b *testing.B) {
	milliseconds := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	for _, operation := range c.operations {
		ours, peer := c.ours.latencies[operation], c.peer.latencies[operation]
		for _, stat := range []struct {
			name     string
			quantile float64
		}{{"p50", 0.50}, {"p99", 0.99}} {
			oursAt, peerAt := percentile(ours, stat.quantile), percentile(peer, stat.quantile)
			b.ReportMetric(milliseconds(oursAt), "ours-"+operation+"-"+stat.name+"-ms")
			b.ReportMetric(milliseconds(peerAt), "peer-"+operation+"-"+stat.name+"-ms")
			b.ReportMetric(float64(oursAt)/float64(peerAt), "ratio-"+operation+"-"+stat.name)
		}
		b.ReportMetric(float64(len(ours)), "samples-"+operation)
	}
	oursRate := float64(c.ours.created) / c.ours.createTime.Seconds()
	peerRate := float64(c.peer.created) / c.peer.createTime.Seconds()
	b.ReportMetric(oursRate, "ours-create-objects/s")
	b.ReportMetric(peerRate, "peer-create-objects/s")
	b.ReportMetric(oursRate/peerRate, "ratio-create-throughput")
	b.ReportMetric(float64(c.ours.created), "samples-create-throughput")
	b.ReportMetric(float64(c.sizes.largeList), "objects-listlarge")
}

// percentile is the nearest-rank quantile q of samples.
func percentile(samples []time.Duration, q float64) time.Duration {
	sorted := slices.Sorted(slices.Values(samples))
	rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
	return sorted[rank-1]
}

// deleteNamespaces deletes the run's namespaces, our cells in them first and waiting for those, so
// that the next run (of -count) is not measured while our server deletes thousands of objects.
func (c *comparison) deleteNamespaces(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, namespace := range []string{c.workNamespace, c.list100Namespace, c.largeNamespace} {
		if err := c.ours.in(namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			b.Errorf("deleting our cells in %s: %v", namespace, err)
		}
		if _, errOut, err := controlPlane.Kubectl(ctx, "delete", "namespace", namespace, "--wait=false"); err != nil {
			b.Errorf("deleting namespace %s: %v: %s", namespace, err, errOut)
		}
	}
}

// loadPeerCRD is the operator's VitessCell CRD when operatorCRDsEnv names their directory, else a
// CRD built from our published schema, and what the peer's objects need beyond ours.
func loadPeerCRD(ctx context.Context) (*apiextensionsv1.CustomResourceDefinition, map[string]any, error) {
	dir := os.Getenv(operatorCRDsEnv)
	if dir == "" {
		crd, err := crdFromOurSchema(ctx)
		return crd, nil, err
	}
	path := filepath.Join(dir, "planetscale.com_vitesscells.yaml")
	manifest, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(manifest, &crd); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	// The operator requires the list of all cells, which our VitessCell leaves to its cluster.
	return &crd, map[string]any{"allCells": []any{"zone1"}}, nil
}

// crdFromOurSchema builds the CRD peer of our VitessCell from the OpenAPI v3 schema our server
// publishes through kube-apiserver: the same fields, types, enums and required fields, structural
// (nothing preserved unknown), in peerGroup.
func crdFromOurSchema(ctx context.Context) (*apiextensionsv1.CustomResourceDefinition, error) {
	group := v1alpha1.SchemeGroupVersion
	// The aggregator publishes a group's schema some time after its APIService became available.
	var published []byte
	var readErr error
	if err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		published, readErr = controlPlane.Client().Discovery().RESTClient().Get().
			AbsPath("/openapi/v3/apis", group.Group, group.Version).DoRaw(ctx)
		return readErr == nil, nil
	}); err != nil {
		return nil, fmt.Errorf("reading our OpenAPI v3 schema: %w (%w)", readErr, err)
	}
	var document struct {
		Components struct {
			Schemas map[string]map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(published, &document); err != nil {
		return nil, err
	}
	schemas := document.Components.Schemas
	var cell map[string]any
	for _, candidate := range schemas {
		if isKind(candidate, group.WithKind("VitessCell")) {
			cell = candidate
		}
	}
	if cell == nil {
		return nil, fmt.Errorf("no VitessCell among the %d schemas our server publishes", len(schemas))
	}
	inlined, err := inlineSchema(schemas, cell, nil)
	if err != nil {
		return nil, err
	}
	encoded, err := json.Marshal(inlined)
	if err != nil {
		return nil, err
	}
	var structural apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(encoded, &structural); err != nil {
		return nil, fmt.Errorf("our VitessCell schema as a CRD schema: %w", err)
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "vitesscells." + peerGroup},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: peerGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{
				Plural: "vitesscells", Singular: "vitesscell", Kind: "VitessCell", ListKind: "VitessCellList",
			},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: group.Version, Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &structural},
				// Our VitessCell has a status subresource and a spec.name field selector.
				Subresources:     &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				SelectableFields: []apiextensionsv1.SelectableField{{JSONPath: ".spec.name"}},
			}},
		},
	}, nil
}

// isKind tells whether an OpenAPI schema is the one of kind.
func isKind(openAPISchema map[string]any, kind schema.GroupVersionKind) bool {
	kinds, _ := openAPISchema["x-kubernetes-group-version-kind"].([]any)
	for _, k := range kinds {
		if gvk, ok := k.(map[string]any); ok && gvk["group"] == kind.Group && gvk["version"] == kind.Version && gvk["kind"] == kind.Kind {
			return true
		}
	}
	return false
}

const schemaRefPrefix = "#/components/schemas/"

// inlineSchema turns a published OpenAPI v3 schema into one a CRD accepts as structural:
// references inlined (expanding lists those being inlined, to refuse a recursive type), ObjectMeta
// an object of no declared fields as in every CRD (kube-apiserver validates metadata itself),
// integer-or-string alternatives in the CRD form, and the group-version-kind extension dropped.
// Published defaults are dropped too: a struct field's `{}` stands for Go's zero value, and a CRD
// would refuse it as a default wherever the struct has required fields.
func inlineSchema(schemas map[string]map[string]any, openAPISchema map[string]any, expanding []string) (map[string]any, error) {
	if ref, ok := openAPISchema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, schemaRefPrefix)
		if name == "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" {
			return map[string]any{"type": "object"}, nil
		}
		if slices.Contains(expanding, name) {
			return nil, fmt.Errorf("%s contains itself, which a CRD schema cannot", name)
		}
		target, ok := schemas[name]
		if !ok {
			return nil, fmt.Errorf("%s is not published", ref)
		}
		return inlineSchema(schemas, target, append(expanding, name))
	}
	inlined := map[string]any{}
	// A reference with a description or default of its own is published as allOf of that one
	// reference; a CRD only takes the type's schema itself, completed by the description.
	if allOf, ok := openAPISchema["allOf"]; ok {
		parts, _ := allOf.([]any)
		if len(parts) != 1 {
			return nil, fmt.Errorf("allOf of %d schemas: only single references are inlined", len(parts))
		}
		part, err := inlineSubschema(schemas, parts[0], expanding)
		if err != nil {
			return nil, err
		}
		maps.Copy(inlined, part)
	}
	for key, value := range openAPISchema {
		switch key {
		case "allOf", "default", "x-kubernetes-group-version-kind":
		case "properties":
			properties, _ := value.(map[string]any)
			inlinedProperties := map[string]any{}
			for name, property := range properties {
				inlinedProperty, err := inlineSubschema(schemas, property, expanding)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", name, err)
				}
				inlinedProperties[name] = inlinedProperty
			}
			inlined[key] = inlinedProperties
		case "items", "additionalProperties":
			// additionalProperties may also be a boolean, kept as it is.
			if _, isSchema := value.(map[string]any); !isSchema {
				inlined[key] = value
				continue
			}
			inlinedValue, err := inlineSubschema(schemas, value, expanding)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			inlined[key] = inlinedValue
		case "oneOf":
			if err := checkIntOrString(value); err != nil {
				return nil, err
			}
			inlined["x-kubernetes-int-or-string"] = true
			inlined["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		default:
			inlined[key] = value
		}
	}
	return inlined, nil
}

func inlineSubschema(schemas map[string]map[string]any, value any, expanding []string) (map[string]any, error) {
	subschema, ok := value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a schema of type %T", value)
	}
	return inlineSchema(schemas, subschema, expanding)
}

// checkIntOrString accepts the oneOf the published schema gives IntOrString and Quantity, a
// choice of plain types among integer, number and string, which is what a CRD's
// x-kubernetes-int-or-string stands for.
func checkIntOrString(oneOf any) error {
	alternatives, _ := oneOf.([]any)
	for _, alternative := range alternatives {
		typed, _ := alternative.(map[string]any)
		if len(typed) != 1 || !slices.Contains([]any{"integer", "number", "string"}, typed["type"]) {
			return fmt.Errorf("oneOf %v: only integer-or-string alternatives have a CRD form", oneOf)
		}
	}
	return nil
}

// installCRD creates crd, deleted when the benchmark ends, and waits until its resource is
// served; it returns that resource.
func installCRD(ctx context.Context, b *testing.B, crd *apiextensionsv1.CustomResourceDefinition) (schema.GroupVersionResource, error) {
	crds := apiextensionsclientset.NewForConfigOrDie(controlPlane.AdminConfig()).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		return schema.GroupVersionResource{}, fmt.Errorf("creating CRD %s: %w", crd.Name, err)
	}
	b.Cleanup(func() { deleteCRD(b, crd.Name) })
	var version string
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			version = v.Name
		}
	}
	resource := schema.GroupVersionResource{Group: crd.Spec.Group, Version: version, Resource: crd.Spec.Names.Plural}
	client := dynamic.NewForConfigOrDie(controlPlane.AdminConfig())
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := client.Resource(resource).List(ctx, metav1.ListOptions{Limit: 1})
		return err == nil, nil
	})
	if err != nil {
		return resource, fmt.Errorf("CRD %s not served: %w", crd.Name, err)
	}
	b.Logf("peer: CRD %s, %s", crd.Name, resource)
	return resource, nil
}

// deleteCRD deletes a CRD, which deletes its objects first, and waits until it is gone, so that
// the next run (of -count) can install it again and is not measured while they are deleted.
func deleteCRD(b *testing.B, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	crds := apiextensionsclientset.NewForConfigOrDie(controlPlane.AdminConfig()).ApiextensionsV1().CustomResourceDefinitions()
	if err := crds.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		b.Errorf("deleting CRD %s: %v", name, err)
		return
	}
	if err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := crds.Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	}); err != nil {
		b.Errorf("CRD %s still there: %v", name, err)
	}
}
