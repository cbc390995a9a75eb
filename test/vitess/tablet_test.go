package vitess_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"

	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestTabletsAndVtgate runs a one-shard keyspace end to end on real mysqlds: two tablets, a
// primary elected by PlannedReparentShard, a schema and VSchema applied through vtctld, rows
// written and read through vtgate, and an rdonly tablet that is stopped and started again and goes
// on replicating. Each phase's duration is logged, to keep the cost of such tests in view.
func TestTabletsAndVtgate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := vitess.DataDir(t, "vitess", t.Name())
	phase := phaseTimer(t)

	topo, server := vitess.StartForTest(ctx, t, dir)
	phase("topology and vtctld")
	vtctld := vitess.RawClient(t, server.GRPCAddress)
	if _, err := vtctld.AddCellInfo(ctx, &vtctldatapb.AddCellInfoRequest{
		Name:     "zone1",
		CellInfo: &topodatapb.CellInfo{ServerAddress: topo.Address, Root: vitess.CellRoot("zone1")},
	}); err != nil {
		t.Fatalf("AddCellInfo zone1: %v", err)
	}
	if _, err := vtctld.CreateKeyspace(ctx, &vtctldatapb.CreateKeyspaceRequest{
		Name:             "commerce",
		Type:             topodatapb.KeyspaceType_NORMAL,
		DurabilityPolicy: "none",
	}); err != nil {
		t.Fatalf("CreateKeyspace commerce: %v", err)
	}
	phase("cell and keyspace")

	tablet := func(uid uint32, tabletType string) *vitess.Tablet {
		cfg := vitess.TabletConfig{Cell: "zone1", Keyspace: "commerce", Shard: "-", UID: uid, Type: tabletType}
		tablet := vitess.StartTabletForTest(ctx, t, topo, filepath.Join(dir, fmt.Sprintf("tablet-%d", uid)), cfg)
		phase("tablet " + tablet.Alias() + " (mysqlctl init, mysqld, vttablet)")
		return tablet
	}
	replica := tablet(100, "replica")
	rdonly := tablet(101, "rdonly")

	if _, err := vtctld.PlannedReparentShard(ctx, &vtctldatapb.PlannedReparentShardRequest{
		Keyspace:   "commerce",
		Shard:      "-",
		NewPrimary: &topodatapb.TabletAlias{Cell: "zone1", Uid: replica.Config.UID},
	}); err != nil {
		t.Fatalf("PlannedReparentShard to %s: %v", replica.Alias(), err)
	}
	phase("PlannedReparentShard")
	if _, err := vtctld.ApplySchema(ctx, &vtctldatapb.ApplySchemaRequest{
		Keyspace: "commerce",
		Sql:      []string{"create table product(sku varbinary(128), price bigint, primary key(sku))"},
	}); err != nil {
		t.Fatalf("ApplySchema: %v", err)
	}
	if _, err := vtctld.ApplyVSchema(ctx, &vtctldatapb.ApplyVSchemaRequest{
		Keyspace: "commerce",
		VSchema:  &vschemapb.Keyspace{Tables: map[string]*vschemapb.Table{"product": {}}},
	}); err != nil {
		t.Fatalf("ApplyVSchema: %v", err)
	}
	phase("ApplySchema and ApplyVSchema")

	gate := vitess.StartVtgateForTest(ctx, t, topo, dir, "zone1")
	phase("vtgate")
	primaryDB := gate.Open(t, "commerce")
	if _, err := primaryDB.ExecContext(ctx, "insert into product(sku, price) values ('apple', 100), ('banana', 200)"); err != nil {
		t.Fatalf("insert through vtgate: %v", err)
	}
	want := []product{{"apple", 100}, {"banana", 200}}
	if got, err := products(ctx, primaryDB); err != nil || !slices.Equal(got, want) {
		t.Fatalf("products on the primary = %v, %v; want %v", got, err, want)
	}
	waitForProducts(ctx, t, gate.Open(t, "commerce@rdonly"), want)
	phase("rows written and read through vtgate")

	rdonly.Stop()
	phase("rdonly tablet stopped")
	if err := rdonly.Start(ctx); err != nil {
		t.Fatalf("restarting %s: %v", rdonly.Alias(), err)
	}
	phase("rdonly tablet started again")
	if _, err := primaryDB.ExecContext(ctx, "insert into product(sku, price) values ('cherry', 300)"); err != nil {
		t.Fatalf("insert through vtgate after the rdonly restart: %v", err)
	}
	waitForProducts(ctx, t, gate.Open(t, "commerce@rdonly"), append(want, product{"cherry", 300}))
	phase("rdonly tablet serving and replicating again")
}

// phaseTimer returns a function that logs how long the phase it names took, since the previous one.
func phaseTimer(t *testing.T) func(name string) {
	start := time.Now()
	last := start
	t.Cleanup(func() { t.Logf("total: %v", time.Since(start).Round(time.Millisecond)) })
	return func(name string) {
		now := time.Now()
		t.Logf("%s: %v", name, now.Sub(last).Round(time.Millisecond))
		last = now
	}
}

type product struct {
	sku   string
	price int64
}

func products(ctx context.Context, db *sql.DB) ([]product, error) {
	rows, err := db.QueryContext(ctx, "select sku, price from product order by sku")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []product
	for rows.Next() {
		var p product
		if err := rows.Scan(&p.sku, &p.price); err != nil {
			return nil, err
		}
		all = append(all, p)
	}
	return all, rows.Err()
}

// waitForProducts waits until db reads want: a replica shows a write once it has replicated it, and
// vtgate routes to a restarted tablet once its health check has found it serving again.
func waitForProducts(ctx context.Context, t *testing.T, db *sql.DB, want []product) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var got []product
	var err error
	for {
		if got, err = products(ctx, db); err == nil && slices.Equal(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("products = %v, %v; want %v", got, errors.Join(err, ctx.Err()), want)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
