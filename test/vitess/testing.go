package vitess

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"
)

// StartForTest starts a topology and a vtctld on it, with their data and logs in dir (emptied
// first and kept afterwards, so a failure can be read), and stops them when the test ends.
func StartForTest(ctx context.Context, t testing.TB, dir string, options ...VtctldOption) (*Topology, *Vtctld) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	topo, err := StartTopology(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(topo.Stop)
	server, err := StartVtctld(ctx, topo, dir, options...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(server.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("vtctld log: %s", server.LogPath())
		}
	})
	return topo, server
}

// RawClient calls vtctld's generated gRPC API directly, for what pkg/vtctld does not offer
// (creating and deleting shards, rebuilding the serving graph, reading a cell's root).
func RawClient(t testing.TB, address string) vtctlservicepb.VtctldClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return vtctlservicepb.NewVtctldClient(conn)
}

// StartTabletForTest starts a tablet (see StartTablet) and stops it when the test ends, naming its
// logs if the test failed.
func StartTabletForTest(ctx context.Context, t testing.TB, topo *Topology, dir string, cfg TabletConfig) *Tablet {
	t.Helper()
	tablet, err := StartTablet(ctx, topo, dir, cfg)
	if err != nil {
		t.Fatalf("starting tablet %+v: %v", cfg, err)
	}
	t.Cleanup(tablet.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("tablet %s logs: %s", tablet.Alias(), strings.Join(tablet.LogPaths(), " "))
		}
	})
	return tablet
}

// StartVtgateForTest starts a vtgate (see StartVtgate) and stops it when the test ends, naming its
// log if the test failed.
func StartVtgateForTest(ctx context.Context, t testing.TB, topo *Topology, dir, cell string) *Vtgate {
	t.Helper()
	gate, err := StartVtgate(ctx, topo, dir, cell)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gate.Stop)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("vtgate log: %s", gate.LogPath())
		}
	})
	return gate
}

// Open opens a pool of connections to vtgate, closed when the test ends, with target as the
// database: a keyspace, keyspace@rdonly (or @replica) to read from that tablet type, or
// keyspace:shard for one shard.
func (g *Vtgate) Open(t testing.TB, target string) *sql.DB {
	t.Helper()
	return OpenVtgate(t, g.MySQLAddress, target)
}

// OpenVtgate is Open for the vtgate at address (host:port of its MySQL protocol), as user "user"
// with no password: the example cluster's login, and any name where vtgate does no
// authentication.
func OpenVtgate(t testing.TB, address, target string) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.User, cfg.Net, cfg.Addr, cfg.DBName = "user", "tcp", address, target
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(connector)
	t.Cleanup(func() { _ = db.Close() })
	return db
}
