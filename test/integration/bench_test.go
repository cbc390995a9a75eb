package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
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

// BenchmarkTabletWatchers serves the tablets of a real vtctld, two keyspaces of two shards of
// three tablets, to 1 and to 100 watches through the aggregator. An operation is a list; it also
// reports the vtctld calls the server made per minute while the watches ran, which should not
// grow with them: every watch and list is answered from one reading of the cluster per poll
// interval.
func BenchmarkTabletWatchers(b *testing.B) {
	ctx := context.Background()
	topo, vtctld, raw := startVitessWithZone1(ctx, b, vitess.DataDir(b, "vitess", b.Name()))
	records, err := clientv3.New(clientv3.Config{Endpoints: []string{topo.Address}})
	if err != nil {
		b.Fatal(err)
	}
	defer records.Close()
	uid := uint32(100)
	for _, keyspace := range []string{"commerce", "customer"} {
		if _, err := raw.CreateKeyspace(ctx, &vtctldatapb.CreateKeyspaceRequest{Name: keyspace, DurabilityPolicy: "none"}); err != nil {
			b.Fatal(err)
		}
		for _, shard := range []string{"-80", "80-"} {
			if _, err := raw.CreateShard(ctx, &vtctldatapb.CreateShardRequest{Keyspace: keyspace, ShardName: shard}); err != nil {
				b.Fatal(err)
			}
			// Tablet records alone, where vtctld reads a cell's tablets: the server reads the
			// topology, not the tablets themselves.
			for range 3 {
				record, err := proto.Marshal(&topodatapb.Tablet{
					Alias:    &topodatapb.TabletAlias{Cell: "zone1", Uid: uid},
					Keyspace: keyspace, Shard: shard, Type: topodatapb.TabletType_REPLICA,
					Hostname: fmt.Sprintf("tablet-%d", uid), PortMap: map[string]int32{"vt": 15000, "grpc": 16000},
				})
				if err != nil {
					b.Fatal(err)
				}
				key := fmt.Sprintf("%s/tablets/zone1-%010d/Tablet", vitess.CellRoot("zone1"), uid)
				if _, err := records.Put(ctx, key, string(record)); err != nil {
					b.Fatal(err)
				}
				uid++
			}
		}
		if _, err := raw.RebuildKeyspaceGraph(ctx, &vtctldatapb.RebuildKeyspaceGraphRequest{Keyspace: keyspace}); err != nil {
			b.Fatal(err)
		}
	}
	namespace := "bench-tablets-" + rand.String(5)
	if _, _, err := controlPlane.Kubectl(ctx, "create", "namespace", namespace); err != nil {
		b.Fatal(err)
	}
	defer controlPlane.Kubectl(ctx, "delete", "namespace", namespace, "--wait=false")
	if _, _, err := controlPlane.KubectlInput(ctx, realVitessCluster(namespace, topo, vtctld), "apply", "-f", "-"); err != nil {
		b.Fatal(err)
	}
	client, err := vitessClientForBench()
	if err != nil {
		b.Fatal(err)
	}
	tablets := client.VitessV1alpha1().VitessTablets(namespace)
	const all = 12
	if err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		list, err := tablets.List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == all, nil
	}); err != nil {
		b.Fatalf("the %d tablets were not listed: %v", all, err)
	}

	for _, watches := range []int{1, 100} {
		b.Run(fmt.Sprintf("watches=%d", watches), func(b *testing.B) {
			watchCtx, stopWatches := context.WithCancel(ctx)
			defer stopWatches()
			for range watches {
				w, err := tablets.Watch(watchCtx, metav1.ListOptions{})
				if err != nil {
					b.Fatal(err)
				}
				defer w.Stop()
				for range all {
					if event := <-w.ResultChan(); event.Type != watch.Added {
						b.Fatalf("watch event %s, want the tablets added", event.Type)
					}
				}
				go func() {
					for range w.ResultChan() {
					}
				}()
			}
			// Several poll intervals with every watch open.
			const window = 12 * time.Second
			before := serverCounter(b, "vitess_apiserver_vtctld_requests_total")
			time.Sleep(window)
			perMinute := (serverCounter(b, "vitess_apiserver_vtctld_requests_total") - before) * float64(time.Minute) / float64(window)
			for b.Loop() {
				list, err := tablets.List(ctx, metav1.ListOptions{})
				if err != nil || len(list.Items) != all {
					b.Fatalf("list: %v", err)
				}
			}
			b.ReportMetric(perMinute, "vtctld-calls/min")
		})
	}
}
