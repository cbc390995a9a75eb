package vitess_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestFirstPrimaryIsTheMostAdvancedReplica: a shard without a primary whose second replica holds
// a transaction the first lacks (as after a restore, or volumes kept from an earlier life) gets
// that replica as its first primary, and the other replicates the transaction from it. The loop
// once named the first replica, and the transaction was then on no primary (Vitess refused to
// attach the second replica, whose GTID was errant).
func TestFirstPrimaryIsTheMostAdvancedReplica(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// Short: mysqld's socket path lies under it.
	dir := vitess.DataDir(t, "vitess", "election")
	topo, server := vitess.StartForTest(ctx, t, dir)
	raw := vitess.RawClient(t, server.GRPCAddress)
	client, err := vtctld.Dial(server.GRPCAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if err := client.AddCell(ctx, "zone1", topo.Address, vitess.CellRoot("zone1")); err != nil {
		t.Fatal(err)
	}
	if err := client.CreateKeyspace(ctx, "commerce", "none"); err != nil {
		t.Fatal(err)
	}
	var tablets []*vitess.Tablet
	for _, uid := range []uint32{100, 101} {
		cfg := vitess.TabletConfig{Cell: "zone1", Keyspace: "commerce", Shard: "-", UID: uid, Type: "replica"}
		tablets = append(tablets, vitess.StartTabletForTest(ctx, t, topo, filepath.Join(dir, fmt.Sprintf("tablet-%d", uid)), cfg))
	}
	lagging, advanced := tablets[0], tablets[1]

	// A replica is super-read-only until it is promoted; the DBA lifts that for one statement.
	for _, statement := range []string{"set global super_read_only = off", "create database only_on_101", "set global super_read_only = on"} {
		asDBA(ctx, t, raw, advanced, statement)
	}

	promoted, err := client.ElectPrimary(ctx, "commerce", "-", []string{lagging.Alias(), advanced.Alias()})
	if err != nil {
		t.Fatalf("ElectPrimary: %v", err)
	}
	if promoted != advanced.Alias() {
		t.Fatalf("Vitess promoted %s; want %s, the only replica with database only_on_101", promoted, advanced.Alias())
	}
	deadline := time.Now().Add(time.Minute)
	for !hasDatabase(ctx, t, raw, lagging, "only_on_101") {
		if time.Now().After(deadline) {
			t.Fatalf("%s never replicated database only_on_101 from the new primary", lagging.Alias())
		}
		time.Sleep(time.Second)
	}
}

func asDBA(ctx context.Context, t *testing.T, raw vtctlservicepb.VtctldClient, tablet *vitess.Tablet, statement string) *vtctldatapb.ExecuteFetchAsDBAResponse {
	t.Helper()
	resp, err := raw.ExecuteFetchAsDBA(ctx, &vtctldatapb.ExecuteFetchAsDBARequest{
		TabletAlias: &topodatapb.TabletAlias{Cell: tablet.Config.Cell, Uid: tablet.Config.UID},
		Query:       statement,
		MaxRows:     100,
	})
	if err != nil {
		t.Fatalf("%q on %s: %v", statement, tablet.Alias(), err)
	}
	return resp
}

func hasDatabase(ctx context.Context, t *testing.T, raw vtctlservicepb.VtctldClient, tablet *vitess.Tablet, name string) bool {
	return len(asDBA(ctx, t, raw, tablet, "show databases like '"+name+"'").GetResult().GetRows()) == 1
}
