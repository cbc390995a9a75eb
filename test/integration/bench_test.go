package integration

import (
	"context"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// BenchmarkCreateThroughAggregator is the latency of one create as a client sees it: kube-apiserver
// authenticates, the aggregator proxies, vitess-apiserver authorises (delegated), defaults,
// validates and stores in its etcd.
func BenchmarkCreateThroughAggregator(b *testing.B) {
	ctx := context.Background()
	namespace := "bench-" + rand.String(5)
	if _, _, err := controlPlane.Kubectl(ctx, "create", "namespace", namespace); err != nil {
		b.Fatal(err)
	}
	defer controlPlane.Kubectl(ctx, "delete", "namespace", namespace, "--wait=false")
	client, err := vitessClientForBench()
	if err != nil {
		b.Fatal(err)
	}
	workflows := client.VitessV1alpha1().VitessWorkflows(namespace)
	i := 0
	for b.Loop() {
		i++
		_, err := workflows.Create(ctx, &v1alpha1.VitessWorkflow{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w%d", i)},
			Spec: v1alpha1.VitessWorkflowSpec{Type: v1alpha1.WorkflowTypeReshard, Cluster: "demo", TargetKeyspace: "customer",
				SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}},
		}, metav1.CreateOptions{})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListThroughAggregator lists 100 clusters, served from the watch cache.
func BenchmarkListThroughAggregator(b *testing.B) {
	ctx := context.Background()
	namespace := "bench-list-" + rand.String(5)
	if _, _, err := controlPlane.Kubectl(ctx, "create", "namespace", namespace); err != nil {
		b.Fatal(err)
	}
	defer controlPlane.Kubectl(ctx, "delete", "namespace", namespace, "--wait=false")
	for i := range 100 {
		if _, _, err := controlPlane.KubectlInput(ctx, clusterManifest(namespace, fmt.Sprintf("c%d", i)), "create", "-f", "-"); err != nil {
			b.Fatal(err)
		}
	}
	client, err := vitessClientForBench()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		list, err := client.VitessV1alpha1().VitessClusters(namespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 100 {
			b.Fatalf("list: %v (%d items)", err, len(list.Items))
		}
	}
}
