package integration

import (
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	clientscheme "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/scheme"
)

// TestTenants applies artifacts/examples/tenant-rbac.yaml, which binds the built-in edit and view
// roles (extended by our aggregated ClusterRoles) and our narrow resharder role, and checks what
// each user may do through kube-apiserver's delegated authorisation.
func TestTenants(t *testing.T) {
	ctx := testContext(t)
	mustApply(t, readFile(t, filepath.Join(repoRoot, "artifacts", "examples", "tenant-rbac.yaml")))
	mustApply(t, clusterManifest("team-a", "orders"))
	mustApply(t, clusterManifest("team-b", "billing"))
	keyspace := kindFixtures[3]
	mustApply(t, keyspace.manifest("team-a"))

	as := func(user string) *rest.Config { return controlPlane.ImpersonatedConfig(user) }
	alice := vitessClient(t, as("alice")).VitessV1alpha1()
	bob := vitessClient(t, as("bob")).VitessV1alpha1()
	carol := vitessClient(t, as("carol")).VitessV1alpha1()
	dave := vitessClient(t, as("dave")).VitessV1alpha1()

	expectForbidden := func(what string, err error) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: want 403 Forbidden, got %v", what, err)
		}
	}
	expectAllowed := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}

	// Each tenant manages its own namespace.
	_, err := alice.VitessClusters("team-a").List(ctx, metav1.ListOptions{})
	expectAllowed("alice lists team-a", err)
	_, err = alice.VitessClusters("team-a").Patch(ctx, "orders", types.MergePatchType, []byte(`{"metadata":{"labels":{"owner":"alice"}}}`), metav1.PatchOptions{})
	expectAllowed("alice edits team-a's cluster", err)
	_, err = bob.VitessClusters("team-b").Get(ctx, "billing", metav1.GetOptions{})
	expectAllowed("bob gets team-b's cluster", err)

	// ... and sees nothing of the other's.
	_, err = alice.VitessClusters("team-b").List(ctx, metav1.ListOptions{})
	expectForbidden("alice lists team-b", err)
	_, err = alice.VitessClusters("team-b").Get(ctx, "billing", metav1.GetOptions{})
	expectForbidden("alice gets team-b's cluster", err)
	_, err = alice.VitessClusters("team-b").Watch(ctx, metav1.ListOptions{})
	expectForbidden("alice watches team-b", err)
	_, err = bob.VitessKeyspaces("team-a").List(ctx, metav1.ListOptions{})
	expectForbidden("bob lists team-a's keyspaces", err)
	_, err = alice.VitessClusters("").List(ctx, metav1.ListOptions{})
	expectForbidden("alice lists every namespace", err)

	// Status is the server's to write, not a tenant's.
	orders, err := alice.VitessClusters("team-a").Get(ctx, "orders", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.VitessClusters("team-a").UpdateStatus(ctx, orders, metav1.UpdateOptions{})
	expectForbidden("alice writes status", err)

	// What the loop makes from a cluster is the loop's: an editor neither makes nor changes it.
	handMade := &v1alpha1.VitessShard{ObjectMeta: metav1.ObjectMeta{Name: "hand-made"}, Spec: v1alpha1.VitessShardSpec{
		Name: "-", KeyspaceName: "commerce", Cluster: "orders"}}
	_, err = alice.VitessShards("team-a").Create(ctx, handMade, metav1.CreateOptions{})
	expectForbidden("alice creates a VitessShard", err)
	_, err = alice.VitessKeyspaces("team-a").Patch(ctx, keyspace.name, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	expectForbidden("alice edits a VitessKeyspace", err)
	err = alice.VitessCells("team-a").Delete(ctx, "orders-zone1", metav1.DeleteOptions{})
	expectForbidden("alice deletes a VitessCell", err)
	err = alice.EtcdLockservers("team-a").DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{})
	expectForbidden("alice deletes the EtcdLockservers", err)

	// A viewer reads but does not write.
	_, err = carol.VitessClusters("team-a").Get(ctx, "orders", metav1.GetOptions{})
	expectAllowed("carol gets team-a's cluster", err)
	err = carol.VitessClusters("team-a").Delete(ctx, "orders", metav1.DeleteOptions{})
	expectForbidden("carol deletes", err)
	_, err = carol.VitessWorkflows("team-a").Create(ctx, &v1alpha1.VitessWorkflow{ObjectMeta: metav1.ObjectMeta{Name: "w"}}, metav1.CreateOptions{})
	expectForbidden("carol creates a workflow", err)

	// The resharder may reshard keyspaces and nothing else.
	_, err = dave.VitessKeyspaces("team-a").Get(ctx, keyspace.name, metav1.GetOptions{})
	expectAllowed("dave gets a keyspace", err)
	_, err = dave.VitessKeyspaces("team-a").Patch(ctx, keyspace.name, types.MergePatchType, []byte(`{"metadata":{"labels":{"x":"y"}}}`), metav1.PatchOptions{})
	expectForbidden("dave updates a keyspace", err)
	_, err = dave.VitessClusters("team-a").Get(ctx, "orders", metav1.GetOptions{})
	expectForbidden("dave gets a cluster", err)
	for _, action := range []string{"movetables", "schema"} {
		err = postAction(t, as("dave"), "team-a", "vitesskeyspaces", keyspace.name, action, `{}`)
		expectForbidden("dave posts "+action, err)
	}
	err = postAction(t, as("dave"), "team-a", "vitesskeyspaces", keyspace.name, "reshard", reshardRequest)
	expectAllowed("dave reshards team-a's keyspace", err)
	if _, err := alice.VitessWorkflows("team-a").Get(ctx, "cust2cust", metav1.GetOptions{}); err != nil {
		t.Errorf("the workflow dave's reshard started: %v", err)
	}
	err = postAction(t, as("dave"), "team-b", "vitesskeyspaces", keyspace.name, "reshard", reshardRequest)
	expectForbidden("dave reshards in team-b", err)

	// The server's own audit log records who did what.
	audit := readFile(t, server.AuditLogPath())
	if !strings.Contains(audit, `"username":"alice"`) || !strings.Contains(audit, `"resource":"vitessclusters"`) {
		t.Errorf("vitess-apiserver's audit log lacks alice's requests")
	}
}

const reshardRequest = `{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessReshardRequest","workflow":"cust2cust","sourceShards":["-"],"targetShards":["-80","80-"]}`

// postAction POSTs a request body to an action subresource, as `kubectl create --raw` does.
func postAction(t *testing.T, config *rest.Config, namespace, resource, name, action, body string) error {
	t.Helper()
	config = rest.CopyConfig(config)
	config.GroupVersion = &v1alpha1.SchemeGroupVersion
	config.APIPath = "/apis"
	config.NegotiatedSerializer = clientscheme.Codecs.WithoutConversion()
	client, err := rest.RESTClientFor(config)
	if err != nil {
		t.Fatal(err)
	}
	return client.Post().Namespace(namespace).Resource(resource).Name(name).SubResource(action).
		SetHeader("Content-Type", "application/json").Body([]byte(body)).Do(testContext(t)).Error()
}
