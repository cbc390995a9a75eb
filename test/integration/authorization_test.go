package integration

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestProxiedRequestsAreAuthorizedOnce: kube-apiserver authorizes a request before its aggregator
// proxies it, so the server does not ask it again with a SubjectAccessReview; a request that comes
// to the server any other way is authorized by the server in full.
func TestProxiedRequestsAreAuthorizedOnce(t *testing.T) {
	// The SubjectAccessReviews the server has sent kube-apiserver.
	const delegatedAuthorizations = "apiserver_delegated_authz_request_total"
	ctx := testContext(t)
	namespace := "authz-" + rand.String(5)
	mustApply(t, fmt.Sprintf(`apiVersion: v1
kind: Namespace
metadata: {name: %[1]s}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: tenant, namespace: %[1]s}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cells, namespace: %[1]s}
rules:
- apiGroups: [vitess.planetscale.com]
  resources: [vitesscells]
  verbs: [get, list, create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant-cells, namespace: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cells}
subjects:
- {kind: ServiceAccount, name: tenant, namespace: %[1]s}
`, namespace))
	t.Cleanup(func() { kubectl(t, "delete", "namespace", namespace, "--wait=false") })
	cell := func(name string) *v1alpha1.VitessCell {
		return &v1alpha1.VitessCell{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.VitessCellSpec{
			VitessCellTemplate: v1alpha1.VitessCellTemplate{Name: name}}}
	}
	tenantConfig, err := controlPlane.ServiceAccountConfig(ctx, namespace, "tenant")
	if err != nil {
		t.Fatal(err)
	}

	// Through the aggregator: every request has attributes the server has not seen, so a second
	// authorization could not have come from its cache.
	throughAggregator := vitessClient(t, tenantConfig).VitessV1alpha1().VitessCells(namespace)
	before := serverCounter(t, delegatedAuthorizations)
	const proxied = 10
	for i := range proxied {
		name := fmt.Sprintf("proxied-%d", i)
		if _, err := throughAggregator.Create(ctx, cell(name), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s through the aggregator: %v", name, err)
		}
		if _, err := throughAggregator.Get(ctx, name, metav1.GetOptions{}); err != nil {
			t.Fatalf("get %s through the aggregator: %v", name, err)
		}
	}
	if _, err := vitessClient(t, tenantConfig).VitessV1alpha1().VitessCells("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the tenant lists another namespace through the aggregator: want 403, got %v", err)
	}
	if asked := serverCounter(t, delegatedAuthorizations) - before; asked != 0 {
		t.Errorf("the server asked kube-apiserver %v times to authorize %d requests kube-apiserver had authorized before proxying them, want 0", asked, 2*proxied)
	}

	// Straight to the server, with the same token: the server authenticates it and authorizes
	// every request itself.
	straight := vitessClient(t, straightToServer(tenantConfig)).VitessV1alpha1()
	before = serverCounter(t, delegatedAuthorizations)
	if _, err := straight.VitessCells(namespace).Create(ctx, cell("direct"), metav1.CreateOptions{}); err != nil {
		t.Errorf("create straight to the server: %v", err)
	}
	if _, err := straight.VitessCells("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("the tenant lists another namespace straight at the server: want 403, got %v", err)
	}
	_, err = straight.VitessCells(namespace).Get(ctx, "proxied-0", metav1.GetOptions{})
	if err != nil {
		t.Errorf("get straight from the server: %v", err)
	}
	if asked := serverCounter(t, delegatedAuthorizations) - before; asked < 3 {
		t.Errorf("the server asked kube-apiserver %v times to authorize 3 requests sent straight to it, want 3", asked)
	}
	if err := straight.VitessCells(namespace).Delete(ctx, "proxied-0", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "cannot delete") {
		t.Errorf("the tenant deletes straight at the server without the verb: want 403, got %v", err)
	}
}
