package validation

import (
	"testing"
)

// BenchmarkValidateVitessCluster is the validation cost of one create of a two-keyspace cluster.
func BenchmarkValidateVitessCluster(b *testing.B) {
	cluster := validCluster()
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateVitessCluster(cluster); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}

// BenchmarkValidateReshardTo256Shards is the cost of the largest ordinary update: adding a
// 256-way partitioning beside the serving one.
func BenchmarkValidateReshardTo256Shards(b *testing.B) {
	old := validCluster()
	resharded := validCluster()
	customer := &resharded.Spec.Keyspaces[1]
	customer.Partitionings = append(customer.Partitionings, equal(256))
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateVitessClusterUpdate(resharded, old); len(errs) != 0 {
			b.Fatal(errs)
		}
	}
}
