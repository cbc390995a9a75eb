package node_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestScenarioOnRealNode is the seed's story (test/scenario) with nothing started by hand: every
// etcd member, vtctld, vtgate and tablet is a Pod the reconciler made and the kubelet runs, so the
// 302 step's new shards are real tablets that copy real rows, and the 306 step turns down real
// tablets. vtctld's outage is the cluster's own: its dashboard scaled to zero and back.
func TestScenarioOnRealNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	backend := newRealNodeBackend(ctx, t, "scenario")
	started := time.Now()
	scenario.Run(ctx, t, backend.cp, backend.namespace, backend)
	t.Logf("the story took %s on the real node", time.Since(started).Round(time.Second))
}

// realNodeBackend runs the story's VitessCluster as the reconciler deploys it: its own etcd
// lockserver, and the Pods on the real node.
type realNodeBackend struct {
	ctx       context.Context
	cp        *framework.ControlPlane
	api       versioned.Interface
	namespace string
	initDB    string
}

// newRealNodeBackend is a backend for a VitessCluster in a new namespace of the shared real
// cluster.
func newRealNodeBackend(ctx context.Context, t *testing.T, namespacePrefix string) *realNodeBackend {
	t.Helper()
	rc := sharedRealCluster(t)
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	api, err := versioned.NewForConfig(rc.cp.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	namespace := scenario.NewNamespace(ctx, t, rc.cp, namespacePrefix)
	return &realNodeBackend{ctx: ctx, cp: rc.cp, api: api, namespace: namespace, initDB: exampleInitDB(t, root)}
}

// Cluster adds the Secret the keyspaces' databaseInitScriptSecret names, with the example
// cluster's init_db.sql: tablets that really start need Vitess' MySQL accounts.
func (b *realNodeBackend) Cluster(namespace string, keyspaces ...string) string {
	secret, err := json.Marshal(corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "init", Namespace: namespace},
		StringData: map[string]string{"init_db.sql": b.initDB},
	})
	if err != nil {
		panic(err) // a Secret always marshals
	}
	manifest := fmt.Sprintf(`%s
---
apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessCluster
metadata:
  name: demo
  namespace: %s
spec:
  cells:
  - name: zone1
`, secret, namespace)
	if len(keyspaces) > 0 {
		manifest += "  keyspaces:" + strings.Join(keyspaces, "")
	}
	return manifest
}

// The kubelet runs the reconciler's tablet Pods: nothing to start or stop.
func (b *realNodeBackend) TabletsCreated(*testing.T, string, string, []corev1.Pod) {}
func (b *realNodeBackend) TabletsDeleted(*testing.T, string, string)               {}

// Open reaches vtgate through the cluster's vtgate Service, as an application would.
func (b *realNodeBackend) Open(t *testing.T, target string) *sql.DB {
	t.Helper()
	cluster, err := b.api.VitessV1alpha1().VitessClusters(b.namespace).Get(b.ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	service, err := b.cp.Client().CoreV1().Services(b.namespace).Get(b.ctx, cluster.Status.GatewayServiceName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The story's cluster has no static authentication: any user name will do.
	return vitess.OpenVtgate(t, net.JoinHostPort(service.Spec.ClusterIP, "3306"), target)
}

// VtctldOutage scales the cluster's vtctld to zero through its spec, and back. It returns once
// no vtctld Pod is left, so that the story's next request finds vtctld gone.
func (b *realNodeBackend) VtctldOutage(t *testing.T) (restart func(), ok bool) {
	scale := func(replicas int) {
		patch := fmt.Sprintf(`{"spec":{"vitessDashboard":{"replicas":%d}}}`, replicas)
		if _, err := b.api.VitessV1alpha1().VitessClusters(b.namespace).Patch(b.ctx, "demo", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	scale(0)
	vtctlds := labels.SelectorFromSet(labels.Set{vitessapi.LabelComponent: "vtctld", vitessapi.LabelCluster: "demo"}).String()
	waitFor(b.ctx, t, "no vtctld Pod left", func(ctx context.Context) (bool, error) {
		pods, err := b.cp.Client().CoreV1().Pods(b.namespace).List(ctx, metav1.ListOptions{LabelSelector: vtctlds})
		return err == nil && len(pods.Items) == 0, nil
	})
	return func() { scale(1) }, true
}

// exampleInitDB is init_db.sql of the example cluster's Secret.
func exampleInitDB(t testing.TB, root string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "artifacts", "examples", "example-cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, document := range strings.Split(string(data), "\n---\n") {
		var secret corev1.Secret
		if err := yaml.Unmarshal([]byte(document), &secret); err == nil && secret.Kind == "Secret" && secret.StringData["init_db.sql"] != "" {
			return secret.StringData["init_db.sql"]
		}
	}
	t.Fatal("no Secret with init_db.sql in artifacts/examples/example-cluster.yaml")
	return ""
}
