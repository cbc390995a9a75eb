package vitesscluster

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

func TestVtctldAddressAnnotationRefusedUnlessAllowed(t *testing.T) {
	annotation := field.NewPath("metadata", "annotations").Key(vitess.AnnotationVtctldAddress).String()
	cluster := &vitess.VitessCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "team-a", Annotations: map[string]string{
			vitess.AnnotationVtctldAddress: "example-vtctld.example.svc:15999",
		}},
		Spec: vitess.VitessClusterSpec{Cells: []vitess.VitessCellTemplate{{Name: "zone1"}}},
	}
	refuses := func(errs field.ErrorList) bool {
		for _, err := range errs {
			if err.Field == annotation && err.Type == field.ErrorTypeForbidden {
				return true
			}
		}
		return false
	}
	scheme := runtime.NewScheme()
	ctx := context.Background()
	for _, allowed := range []bool{false, true} {
		strategy := NewStrategy(scheme, allowed)
		if got := refuses(strategy.Validate(ctx, cluster)); got == allowed {
			t.Errorf("allowed=%v: create refuses the annotation: %v", allowed, got)
		}
		if got := refuses(strategy.ValidateUpdate(ctx, cluster, cluster.DeepCopy())); got == allowed {
			t.Errorf("allowed=%v: update refuses the annotation: %v", allowed, got)
		}
	}
	plain := cluster.DeepCopy()
	plain.Annotations = nil
	if refuses(NewStrategy(scheme, false).Validate(ctx, plain)) {
		t.Error("a cluster without the annotation is refused for it")
	}
}
