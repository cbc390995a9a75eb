package registry_test

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apiserver"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
)

func shard(generation int64, replicas int32, phase string) *vitess.VitessShard {
	return &vitess.VitessShard{
		ObjectMeta: metav1.ObjectMeta{Name: "example-commerce-x-x", Namespace: "example", Generation: generation},
		Spec: vitess.VitessShardSpec{
			Name: "-", KeyspaceName: "commerce", Cluster: "example",
			VitessShardTemplate: vitess.VitessShardTemplate{
				TabletPools: []vitess.VitessShardTabletPool{{Cell: "zone1", Type: vitess.TabletPoolTypeReplica, Replicas: replicas}},
			},
		},
		Status: vitess.VitessShardStatus{PrimaryAlias: phase},
	}
}

func specStrategy() registry.SpecStrategy[*vitess.VitessShard] {
	noErrors := func(*vitess.VitessShard) field.ErrorList { return nil }
	return registry.SpecStrategy[*vitess.VitessShard]{
		NamespacedStrategy: registry.NewNamespacedStrategy(apiserver.Scheme),
		ValidateCreate:     noErrors,
		ValidateChange:     func(_, _ *vitess.VitessShard) field.ErrorList { return nil },
	}
}

func TestSpecStrategyOwnsTheSpecOnly(t *testing.T) {
	ctx := context.Background()
	strategy := specStrategy()

	created := shard(0, 2, "zone1-100")
	strategy.PrepareForCreate(ctx, created)
	if created.Status.PrimaryAlias != "" || created.Generation != 1 {
		t.Errorf("create kept status %+v or set generation %d", created.Status, created.Generation)
	}

	old := shard(1, 2, "zone1-100")
	relabelled := shard(1, 2, "zone1-999")
	relabelled.Labels = map[string]string{"team": "payments"}
	strategy.PrepareForUpdate(ctx, relabelled, old)
	if relabelled.Status.PrimaryAlias != "zone1-100" {
		t.Errorf("an update of the main resource wrote status: %+v", relabelled.Status)
	}
	if relabelled.Generation != 1 {
		t.Errorf("a metadata-only update bumped the generation to %d", relabelled.Generation)
	}

	scaled := shard(1, 3, "zone1-100")
	strategy.PrepareForUpdate(ctx, scaled, old)
	if scaled.Generation != 2 {
		t.Errorf("a spec change left the generation at %d", scaled.Generation)
	}
}

func TestStatusStrategyOwnsTheStatusOnly(t *testing.T) {
	ctx := context.Background()
	strategy := registry.StatusStrategy[*vitess.VitessShard]{NamespacedStrategy: registry.NewNamespacedStrategy(apiserver.Scheme)}

	old := shard(1, 2, "")
	reported := shard(1, 5, "zone1-100")
	strategy.PrepareForUpdate(ctx, reported, old)
	if reported.Spec.TabletPools[0].Replicas != 2 {
		t.Errorf("a status update wrote the spec: replicas %d", reported.Spec.TabletPools[0].Replicas)
	}
	if reported.Status.PrimaryAlias != "zone1-100" {
		t.Errorf("a status update lost the status: %+v", reported.Status)
	}
	relabelled := shard(1, 2, "zone1-100")
	relabelled.Labels = map[string]string{"planetscale.com/shard": "x-80"}
	relabelled.Annotations = map[string]string{"note": "x"}
	relabelled.Finalizers = []string{"example.com/hold"}
	relabelled.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "vitess-reconciler", Subresource: "status"}}
	strategy.PrepareForUpdate(ctx, relabelled, old)
	if relabelled.Labels != nil || relabelled.Annotations != nil || relabelled.Finalizers != nil {
		t.Errorf("a status update wrote metadata: labels %v, annotations %v, finalizers %v", relabelled.Labels, relabelled.Annotations, relabelled.Finalizers)
	}
	if len(relabelled.ManagedFields) != 1 || relabelled.ManagedFields[0].Subresource != "status" {
		t.Errorf("a status update lost its managedFields: %v", relabelled.ManagedFields)
	}

	reported.Status.ObservedGeneration = -1
	reported.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: "Maybe"}}
	errs := strategy.ValidateUpdate(ctx, reported, old)
	fields := map[string]bool{}
	for _, err := range errs {
		fields[err.Field] = true
	}
	for _, want := range []string{"status.observedGeneration", "status.conditions[0].status", "status.conditions[0].reason", "status.conditions[0].lastTransitionTime"} {
		if !fields[want] {
			t.Errorf("status validation misses %s: %v", want, errs)
		}
	}
}

func TestResetFields(t *testing.T) {
	spec := specStrategy().GetResetFields()
	status := registry.StatusStrategy[*vitess.VitessShard]{}.GetResetFields()
	for version, set := range spec {
		if set.String() != ".status" {
			t.Errorf("main resource of %s resets %s, want .status", version, set)
		}
	}
	for version, set := range status {
		if set.String() != ".spec" {
			t.Errorf("status subresource of %s resets %s, want .spec", version, set)
		}
	}
}
