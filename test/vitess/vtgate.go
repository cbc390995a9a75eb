package vitess

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// Vtgate is a running vtgate. Clients reach it with any user name and no password: it does no
// authentication.
type Vtgate struct {
	// MySQLAddress is its MySQL protocol port, 127.0.0.1:<port>. MySQL 9's command-line client
	// cannot log in there (vtgate offers only mysql_native_password, which that client lacks);
	// github.com/go-sql-driver/mysql can.
	MySQLAddress string
	// GRPCAddress is its vtgateservice API, WebAddress its HTTP port (/debug/status).
	GRPCAddress string
	WebAddress  string

	daemon *daemon
}

// StartVtgate runs vtgate for cell against topo, with its log in dir/vtgate.log, and returns once
// it accepts MySQL connections. Before that, vtgate waits up to 5 s for a serving primary, replica
// and rdonly tablet in each shard it knows: a query for a tablet type it has not found yet fails
// until its health check finds one. Stop it with Stop.
func StartVtgate(ctx context.Context, topo *Topology, dir, cell string) (*Vtgate, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	webPort, grpcPort, err := freePorts()
	if err != nil {
		return nil, err
	}
	mysqlPort, err := framework.FreePort()
	if err != nil {
		return nil, err
	}
	g := &Vtgate{
		MySQLAddress: loopback(mysqlPort),
		GRPCAddress:  loopback(grpcPort),
		WebAddress:   loopback(webPort),
	}
	g.daemon = &daemon{
		name:    "vtgate",
		bin:     topo.tools.Vtgate,
		logPath: filepath.Join(dir, "vtgate.log"),
		args: append(topo.globalFlags(), append(serviceFlags(webPort, grpcPort),
			"--cell", cell,
			"--cells-to-watch", cell,
			"--tablet-types-to-wait", "PRIMARY,REPLICA,RDONLY",
			// Not Vitess' 30 s: a shard may well lack a type (a primary and an rdonly tablet,
			// say), and vtgate keeps looking for tablets after it starts serving anyway.
			"--gateway-initial-tablet-timeout", "5s",
			// Tests add keyspaces and shards as they go: find their tablets within a second,
			// not Vitess' minute.
			"--tablet-refresh-interval", "1s",
			"--service-map", "grpc-vtgateservice",
			"--mysql-server-bind-address", "127.0.0.1",
			"--mysql-server-port", strconv.Itoa(mysqlPort),
			"--mysql-auth-server-impl", "none",
		)...),
		ready: g.acceptsMySQL,
	}
	if err := g.daemon.start(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// acceptsMySQL tells whether vtgate listens on its MySQL port, which it opens only once it has
// waited for the tablets.
func (g *Vtgate) acceptsMySQL(ctx context.Context) (bool, error) {
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", g.MySQLAddress)
	if err != nil {
		return false, nil
	}
	conn.Close()
	return true, nil
}

// Stop stops vtgate.
func (g *Vtgate) Stop() { g.daemon.stop() }

// LogPath is vtgate's log file.
func (g *Vtgate) LogPath() string { return g.daemon.logPath }
