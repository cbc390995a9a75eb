package vitess

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// TabletConfig says which tablet to run: where it sits in the topology and what it serves.
type TabletConfig struct {
	Cell     string
	Keyspace string
	// Shard is the shard's name: "0", or a key range such as "-", "-80", "80-".
	Shard string
	// UID is the number in the tablet's alias (zone1-0000000101); unique in the cell.
	UID uint32
	// Type is the type the tablet starts as, "replica" or "rdonly"; PlannedReparentShard makes a
	// replica the primary.
	Type string
	// DBName is the database the tablet serves; empty means Vitess' default, vt_<Keyspace>.
	DBName string
}

// Tablet is a running (or stopped) vttablet with its own mysqld. Call Start and Stop one at a time.
type Tablet struct {
	Config TabletConfig
	// WebAddress is vttablet's HTTP port (/debug/status), GRPCAddress the one vtctld and vtgate
	// use, MySQLAddress mysqld's TCP port; all 127.0.0.1:<port>, the same across Stop and Start.
	WebAddress   string
	GRPCAddress  string
	MySQLAddress string

	mysqld   *daemon
	vttablet *daemon
	logDir   string
}

// unixSocketPathMax is the longest path a unix socket can have on Linux (sun_path less its NUL).
const unixSocketPathMax = 107

// extraMyCnf is added to the my.cnf Vitess generates (through EXTRA_MY_CNF): a test deployment runs
// several mysqlds on two cores, so it trades durability for memory and speed, the way Vitess' own
// test suite does (config/mycnf/test-suite.cnf), and listens on loopback only.
const extraMyCnf = `bind-address = 127.0.0.1
# About 260 MB less per mysqld (420 -> 160 MB resident, measured). Vitess mostly reads
# performance_schema.global_status, which MySQL fills even so; only online DDL's lock diagnostics
# see empty tables.
performance_schema = OFF
innodb_buffer_pool_size = 32M
innodb_log_buffer_size = 1M
innodb_flush_log_at_trx_commit = 0
innodb_doublewrite = 0
sync_binlog = 0
key_buffer_size = 2M
# Native AIO runs into the host's aio-max-nr when several mysqlds start at once.
innodb_use_native_aio = 0
`

// StartTablet initialises a mysqld for the tablet in dir, starts it, and runs vttablet on it against
// topo, returning once vttablet serves its status page, by which time the tablet is in the
// topology. dir must not hold this tablet's data yet: to run a stopped tablet again, use its Start.
//
// The keyspace must exist and cfg.Cell must be registered in the global topology with root
// CellRoot(cfg.Cell) on topo's etcd; vttablet creates the shard if needed. dir is the tablet's
// VTDATAROOT: it is given to the user Vitess runs as, so it must be reachable by that user (not
// under t.TempDir() or root's home), and short enough for mysqld's socket path in it. Logs go to
// dir too (see LogPaths). Stop the tablet with Stop.
func StartTablet(ctx context.Context, topo *Topology, dir string, cfg TabletConfig) (*Tablet, error) {
	if cfg.Cell == "" || cfg.Keyspace == "" || cfg.Shard == "" || cfg.UID == 0 {
		return nil, fmt.Errorf("tablet config %+v lacks a cell, keyspace, shard or uid", cfg)
	}
	if cfg.Type != "replica" && cfg.Type != "rdonly" {
		return nil, fmt.Errorf("tablet type %q: want replica or rdonly", cfg.Type)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	mysqlDir := filepath.Join(dir, fmt.Sprintf("vt_%010d", cfg.UID))
	if socket := filepath.Join(mysqlDir, "mysql.sock"); len(socket) > unixSocketPathMax {
		return nil, fmt.Errorf("mysqld's socket %s would be longer than %d bytes: choose a shorter dir", socket, unixSocketPathMax)
	}
	if _, err := os.Stat(mysqlDir); err == nil {
		return nil, fmt.Errorf("%s already holds tablet data: restart a stopped Tablet with Start", mysqlDir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := ownedByUnprivileged(dir); err != nil {
		return nil, err
	}
	extraCnf := filepath.Join(dir, "extra.cnf")
	if err := os.WriteFile(extraCnf, []byte(extraMyCnf), 0o644); err != nil {
		return nil, err
	}
	mysqlPort, err := framework.FreePort()
	if err != nil {
		return nil, err
	}
	webPort, grpcPort, err := freePorts()
	if err != nil {
		return nil, err
	}
	t := &Tablet{
		Config:       cfg,
		WebAddress:   loopback(webPort),
		GRPCAddress:  loopback(grpcPort),
		MySQLAddress: loopback(mysqlPort),
		logDir:       dir,
	}
	// Both mysqlctl and vttablet find the tablet's my.cnf and socket under VTDATAROOT; mysqlctl
	// also reads the other two when it writes my.cnf.
	env := []string{
		"VTDATAROOT=" + dir,
		"VT_MYSQL_ROOT=" + topo.tools.MysqlRoot,
		"EXTRA_MY_CNF=" + extraCnf,
	}
	if err := initMysqld(ctx, topo, t.logPath("mysqlctl"), env, cfg.UID, mysqlPort); err != nil {
		// So that StartTablet can be tried again in dir.
		_ = os.RemoveAll(mysqlDir)
		return nil, err
	}
	myCnf := filepath.Join(mysqlDir, "my.cnf")

	// mysqld runs under our supervision rather than mysqlctld's, so that it dies with the test
	// process (mysqlctld's child would outlive a killed test) and stops with a plain SIGTERM.
	t.mysqld = &daemon{
		name:    "mysqld " + t.Alias(),
		bin:     filepath.Join(topo.tools.MysqlRoot, "bin", "mysqld"),
		args:    []string{"--defaults-file=" + myCnf},
		logPath: t.logPath("mysqld"),
		inPlace: true,
		ready: func(ctx context.Context) (bool, error) {
			var dialer net.Dialer
			conn, err := dialer.DialContext(ctx, "unix", filepath.Join(mysqlDir, "mysql.sock"))
			if err != nil {
				return false, nil
			}
			conn.Close()
			return true, nil
		},
	}
	args := append(topo.globalFlags(), serviceFlags(webPort, grpcPort)...)
	args = append(args,
		"--tablet-path", t.Alias(),
		"--tablet-hostname", "127.0.0.1",
		"--init-keyspace", cfg.Keyspace,
		"--init-shard", cfg.Shard,
		"--init-tablet-type", cfg.Type,
		"--service-map", "grpc-queryservice,grpc-tabletmanager,grpc-updatestream",
		// Vitess' examples use 5 s; shorter gets a restarted tablet back into vtgate sooner.
		"--health-check-interval", "1s",
		"--heartbeat-on-demand-duration", "5s",
		// On SIGTERM vttablet stops gRPC gracefully, which waits for vtgate's health stream to
		// end, and it does not: without this, every Stop waits out Vitess' 10 s.
		"--onterm-timeout", "1s",
	)
	if cfg.DBName != "" {
		args = append(args, "--init-db-name-override", cfg.DBName)
	}
	t.vttablet = &daemon{
		name:    "vttablet " + t.Alias(),
		bin:     topo.tools.Vttablet,
		args:    args,
		env:     env,
		logPath: t.logPath("vttablet"),
		ready: func(ctx context.Context) (bool, error) {
			return httpOK(ctx, "http://"+t.WebAddress+"/debug/status")
		},
	}
	if err := t.Start(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// initMysqld creates the tablet's my.cnf and data directory with mysqlctl init, which leaves
// mysqld running; it is stopped at once so that Start can run it as a daemon of ours.
func initMysqld(ctx context.Context, topo *Topology, logPath string, env []string, uid uint32, mysqlPort int) error {
	uidFlags := []string{"--tablet-uid", strconv.FormatUint(uint64(uid), 10), "--log-format", "text"}
	initArgs := append(append([]string{}, uidFlags...), "--mysql-port", strconv.Itoa(mysqlPort), "init")
	if err := runToCompletion(ctx, logPath, env, topo.tools.Mysqlctl, initArgs...); err != nil {
		return err
	}
	return runToCompletion(ctx, logPath, env, topo.tools.Mysqlctl, append(uidFlags, "shutdown")...)
}

// Alias is the tablet's alias as Vitess prints it, e.g. zone1-0000000101.
func (t *Tablet) Alias() string { return fmt.Sprintf("%s-%010d", t.Config.Cell, t.Config.UID) }

// Start starts mysqld and vttablet again after Stop, on the same ports and data, and returns once
// vttablet serves its status page.
func (t *Tablet) Start(ctx context.Context) error {
	if err := t.mysqld.start(ctx); err != nil {
		return err
	}
	if err := t.vttablet.start(ctx); err != nil {
		t.mysqld.stop()
		return err
	}
	return nil
}

// Stop stops vttablet, then mysqld, keeping the data for Start.
func (t *Tablet) Stop() {
	t.vttablet.stop()
	t.mysqld.stop()
}

// FreezeVttablet stops vttablet's process (SIGSTOP) without ending it: whoever calls the tablet
// waits, as on a tablet that hangs, until ThawVttablet. mysqld runs on.
func (t *Tablet) FreezeVttablet() error { return t.vttablet.signal(syscall.SIGSTOP) }

// ThawVttablet lets a frozen vttablet go on (SIGCONT).
func (t *Tablet) ThawVttablet() error { return t.vttablet.signal(syscall.SIGCONT) }

// LogPaths are the tablet's log files: mysqlctl's (initialisation), mysqld's output and its error
// log, and vttablet's.
func (t *Tablet) LogPaths() []string {
	return []string{
		t.logPath("mysqlctl"),
		t.logPath("mysqld"),
		filepath.Join(t.logDir, fmt.Sprintf("vt_%010d", t.Config.UID), "error.log"),
		t.logPath("vttablet"),
	}
}

func (t *Tablet) logPath(program string) string {
	return filepath.Join(t.logDir, program+".log")
}
