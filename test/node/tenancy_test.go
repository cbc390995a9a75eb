package node_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
)

// TestTenantCannotPointAClusterAtAnotherVtctld: a user with edit in one namespace must not be able
// to point a VitessCluster at another namespace's vtctld (and from there run schema changes and
// workflows in that tenant's database). The server as shipped refuses the annotation that would,
// with the field named. (It used to accept it and dial whatever address it named.)
func TestTenantCannotPointAClusterAtAnotherVtctld(t *testing.T) {
	rc := sharedRealCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := scenario.NewNamespace(ctx, t, rc.cp, "team-a")
	const user = "team-a-editor"
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "edit", Namespace: ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
	}
	if _, err := rc.cp.Client().RbacV1().RoleBindings(ns).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	editor, err := versioned.NewForConfig(rc.cp.ImpersonatedConfig(user))
	if err != nil {
		t.Fatal(err)
	}
	cluster := &v1alpha1.VitessCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "stolen", Namespace: ns, Annotations: map[string]string{
			vitessapi.AnnotationVtctldAddress: "example-vtctld.example.svc:15999",
		}},
		Spec: v1alpha1.VitessClusterSpec{Cells: []v1alpha1.VitessCellTemplate{{Name: "zone1"}}},
	}
	// The role binding reaches the authorizer's cache within moments.
	var created error
	waitFor(ctx, t, "an answer other than Forbidden", func(ctx context.Context) (bool, error) {
		_, created = editor.VitessV1alpha1().VitessClusters(ns).Create(ctx, cluster, metav1.CreateOptions{})
		return !apierrors.IsForbidden(created), nil
	})
	want := fmt.Sprintf("metadata.annotations[%s]", vitessapi.AnnotationVtctldAddress)
	if !apierrors.IsInvalid(created) || !strings.Contains(created.Error(), want) {
		t.Fatalf("creating a VitessCluster that names another namespace's vtctld: %v; want 422 naming %s", created, want)
	}
}
