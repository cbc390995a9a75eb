package vitess_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

func TestMain(m *testing.M) {
	if os.Getenv("VITESS_APISERVER_INTEGRATION") != "1" {
		fmt.Println("Vitess tests skipped: set VITESS_APISERVER_INTEGRATION=1 (make test-integration does)")
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestVtctldClient runs every call of pkg/vtctld against a real vtctld on a real etcd, including
// vtctld going away and coming back.
func TestVtctldClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Kept after the test, like the other integration tests' logs, so a failure can be read.
	topo, server := vitess.StartForTest(ctx, t, vitess.DataDir(t, "vitess", t.Name()))

	client, err := vtctld.Dial(server.GRPCAddress)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })

	// Cells: adding one twice is fine; adding it with another location moves it.
	for range 2 {
		if err := client.AddCell(ctx, "zone1", topo.Address, vitess.CellRoot("zone1")); err != nil {
			t.Fatalf("AddCell zone1: %v", err)
		}
	}
	if err := client.AddCell(ctx, "zone2", topo.Address, "/vitess/elsewhere"); err != nil {
		t.Fatalf("AddCell zone2: %v", err)
	}
	if err := client.AddCell(ctx, "zone2", topo.Address, vitess.CellRoot("zone2")); err != nil {
		t.Fatalf("AddCell zone2 with another root: %v", err)
	}
	if root := cellRoot(ctx, t, server.GRPCAddress, "zone2"); root != vitess.CellRoot("zone2") {
		t.Errorf("zone2's root after AddCell with a new one = %q, want %q", root, vitess.CellRoot("zone2"))
	}
	cells, err := client.CellNames(ctx)
	if err != nil || !slices.Equal(cells, []string{"zone1", "zone2"}) {
		t.Errorf("CellNames = %v, %v; want [zone1 zone2]", cells, err)
	}

	// Keyspaces: creating one twice is fine.
	for range 2 {
		if err := client.CreateKeyspace(ctx, "commerce", "none"); err != nil {
			t.Fatalf("CreateKeyspace commerce: %v", err)
		}
	}
	if err := client.CreateKeyspace(ctx, "customer", "semi_sync"); err != nil {
		t.Fatalf("CreateKeyspace customer: %v", err)
	}
	keyspaces, err := client.Keyspaces(ctx)
	wantKeyspaces := []vtctld.Keyspace{{Name: "commerce", DurabilityPolicy: "none"}, {Name: "customer", DurabilityPolicy: "semi_sync"}}
	if err != nil || !slices.Equal(keyspaces, wantKeyspaces) {
		t.Errorf("Keyspaces = %v, %v; want %v", keyspaces, err, wantKeyspaces)
	}

	// A keyspace without shards or serving graph: empty answers, no errors.
	if shards, err := client.Shards(ctx, "commerce"); err != nil || len(shards) != 0 {
		t.Errorf("Shards of a keyspace without shards = %v, %v; want none", shards, err)
	}
	for _, cells := range [][]string{nil, {"zone1"}, {"zone1", "zone2"}, {"nosuchcell"}} {
		if serving, err := client.ServingShards(ctx, "commerce", cells); err != nil || len(serving) != 0 {
			t.Errorf("ServingShards(commerce, cells %v) without a SrvKeyspace = %v, %v; want none", cells, serving, err)
		}
	}
	// A keyspace or shard that does not exist has nothing to list: vtctld says so, as a server
	// error (its "node doesn't exist" carries no code of its own).
	_, err = client.Shards(ctx, "nosuchkeyspace")
	if code := apiCode(vtctld.APIError(err, "listing shards")); err == nil || code != http.StatusInternalServerError {
		t.Errorf("Shards of a missing keyspace = %v (HTTP %d), want an error mapped to 500", err, code)
	}
	_, err = client.Tablets(ctx, "commerce", "0")
	if code := apiCode(vtctld.APIError(err, "listing tablets")); err == nil || code != http.StatusInternalServerError {
		t.Errorf("Tablets of a missing shard = %v (HTTP %d), want an error mapped to 500", err, code)
	}

	// A shard without tablets, created the way vtctldclient CreateShard does (the reconciler
	// leaves that to the tablets, so pkg/vtctld has no call for it).
	if _, err := vitess.RawClient(t, server.GRPCAddress).CreateShard(ctx, &vtctldatapb.CreateShardRequest{Keyspace: "commerce", ShardName: "0"}); err != nil {
		t.Fatalf("CreateShard commerce/0: %v", err)
	}
	shards, err := client.Shards(ctx, "commerce")
	wantShards := []vtctld.Shard{{Keyspace: "commerce", Name: "0", IsPrimaryServing: true}}
	if err != nil || !slices.Equal(shards, wantShards) {
		t.Errorf("Shards of commerce with shard 0 = %v, %v; want %v", shards, err, wantShards)
	}
	if tablets, err := client.Tablets(ctx, "commerce", "0"); err != nil || len(tablets) != 0 {
		t.Errorf("Tablets of a shard without tablets = %v, %v; want none", tablets, err)
	}

	// vtctld goes away: calls fail fast, as unavailable, and map to 503.
	server.Stop()
	start := time.Now()
	_, err = client.CellNames(ctx)
	if elapsed := time.Since(start); elapsed > vtctld.DefaultTimeout {
		t.Errorf("CellNames with vtctld stopped took %v", elapsed)
	}
	if !vtctld.IsUnavailable(err) {
		t.Errorf("CellNames with vtctld stopped = %v, want unavailable", err)
	}
	apiErr := vtctld.APIError(err, "listing cells")
	if code := apiCode(apiErr); code != http.StatusServiceUnavailable || !apierrors.IsServiceUnavailable(apiErr) {
		t.Errorf("APIError with vtctld stopped = %v (HTTP %d), want 503 ServiceUnavailable", apiErr, code)
	}
	if want := "vtctld " + server.GRPCAddress + " unreachable"; !strings.Contains(apiErr.Error(), want) {
		t.Errorf("APIError with vtctld stopped = %q, want it to say %q", apiErr, want)
	}
	if err := client.CreateKeyspace(ctx, "later", "none"); !vtctld.IsUnavailable(err) {
		t.Errorf("CreateKeyspace with vtctld stopped = %v, want unavailable", err)
	}

	// ... and comes back: the same client works again, without waiting out a reconnect backoff.
	if err := server.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cells, err = client.CellNames(ctx)
	if err != nil || !slices.Equal(cells, []string{"zone1", "zone2"}) {
		t.Errorf("CellNames after vtctld restarted = %v, %v; want [zone1 zone2]", cells, err)
	}
	if err := client.CreateKeyspace(ctx, "later", "none"); err != nil {
		t.Errorf("CreateKeyspace after vtctld restarted: %v", err)
	}
}

func apiCode(err error) int32 {
	if s, ok := err.(apierrors.APIStatus); ok {
		return s.Status().Code
	}
	return 0
}

// cellRoot reads a cell's root straight from vtctld, since pkg/vtctld has no call that returns it.
func cellRoot(ctx context.Context, t *testing.T, address, cell string) string {
	t.Helper()
	resp, err := vitess.RawClient(t, address).GetCellInfo(ctx, &vtctldatapb.GetCellInfoRequest{Cell: cell})
	if err != nil {
		t.Fatalf("GetCellInfo %s: %v", cell, err)
	}
	return resp.GetCellInfo().GetRoot()
}
