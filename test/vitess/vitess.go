// Package vitess runs real Vitess components on loopback for tests: an etcd as the topology
// server, vtctld on top of it, tablets (vttablet with a real mysqld each) and vtgate, with the
// binaries and the MySQL that hack/build-tools.sh provides.
//
// Vitess' binaries refuse to run as root. Tests here often do (CI does), so when we are root the
// harness runs them as UnprivilegedUID/GID, the ids the vitess-operator gives its pods.
package vitess

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// The user Vitess' processes run as when we are root.
const (
	UnprivilegedUID = 999
	UnprivilegedGID = 999
)

// GlobalRoot is where the global topology lives in etcd; each cell's local topology goes under
// CellRoot(cell) in the same etcd.
const GlobalRoot = "/vitess/global"

// CellRoot is the etcd prefix of a cell's local topology, the root to register the cell with.
func CellRoot(cell string) string { return "/vitess/" + cell }

// Topology is an etcd serving Vitess' topology.
type Topology struct {
	// Address is etcd's client endpoint as Vitess' --topo-*-server-address flags take it
	// (host:port, no scheme).
	Address string
	tools   framework.Tools
	etcd    *framework.Etcd
}

// StartTopology starts etcd with its data and log in dir, and returns once it is healthy. Stop it
// with Stop.
func StartTopology(ctx context.Context, dir string) (*Topology, error) {
	tools, err := framework.EnsureRepoTools()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	etcd, err := framework.StartEtcd(ctx, tools.Etcd, filepath.Join(dir, "etcd"), filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, fmt.Errorf("starting the topology server: %w", err)
	}
	return &Topology{Address: strings.TrimPrefix(etcd.URL, "http://"), tools: tools, etcd: etcd}, nil
}

// Stop stops etcd.
func (t *Topology) Stop() { t.etcd.Stop() }

// Vtctld is a running (or stopped) vtctld. Its methods are safe for concurrent use.
type Vtctld struct {
	// GRPCAddress is where vtctldclient and pkg/vtctld connect, 127.0.0.1:<port>. It stays the
	// same across Stop and Start.
	GRPCAddress string
	// WebAddress is its HTTP port (status pages, /debug/vars), 127.0.0.1:<port>.
	WebAddress string

	daemon *daemon
}

// VtctldOption changes how StartVtctld starts vtctld.
type VtctldOption func(args []string) []string

// WithFileBackupStorage has vtctld keep its backups (GetBackups, RemoveBackup) in the directory
// root, laid out as <root>/<keyspace>/<shard>/<backup name>/. Without it vtctld has no backup
// storage.
func WithFileBackupStorage(root string) VtctldOption {
	return func(args []string) []string {
		return append(args, "--backup-storage-implementation", "file", "--file-backup-storage-root", root)
	}
}

// StartVtctld runs vtctld against topo, with its log in dir/vtctld.log, and returns once its gRPC
// API answers. Stop it with Stop.
func StartVtctld(ctx context.Context, topo *Topology, dir string, options ...VtctldOption) (*Vtctld, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	webPort, grpcPort, err := freePorts()
	if err != nil {
		return nil, err
	}
	v := &Vtctld{
		GRPCAddress: loopback(grpcPort),
		WebAddress:  loopback(webPort),
	}
	args := append(topo.globalFlags(), append(serviceFlags(webPort, grpcPort),
		// grpc-vtctld is the typed API of vtctldclient and pkg/vtctld; grpc-vtctl the legacy
		// one, still served as in Vitess' own examples.
		"--service-map", "grpc-vtctl,grpc-vtctld",
	)...)
	for _, option := range options {
		args = option(args)
	}
	v.daemon = &daemon{
		name:    "vtctld",
		bin:     topo.tools.Vtctld,
		logPath: filepath.Join(dir, "vtctld.log"),
		args:    args,
		ready:   v.answers,
	}
	if err := v.Start(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Start starts vtctld again after Stop, on the same ports, and returns once its gRPC API answers.
func (v *Vtctld) Start(ctx context.Context) error { return v.daemon.start(ctx) }

// answers tells whether vtctld serves its gRPC API: listening is not enough, it must have reached
// the topology.
func (v *Vtctld) answers(ctx context.Context) (bool, error) {
	client, err := vtctld.Dial(v.GRPCAddress, vtctld.WithTimeout(2*time.Second))
	if err != nil {
		return false, err
	}
	defer client.Close()
	_, err = client.CellNames(ctx)
	return err == nil, nil
}

// Stop stops vtctld (SIGTERM, then SIGKILL after a grace period); Start brings it back.
func (v *Vtctld) Stop() { v.daemon.stop() }

// LogPath is vtctld's log file.
func (v *Vtctld) LogPath() string { return v.daemon.logPath }

// globalFlags point a Vitess process at the global topology; it finds the cells' from there.
func (t *Topology) globalFlags() []string {
	return []string{
		"--topo-implementation", "etcd2",
		"--topo-global-server-address", t.Address,
		"--topo-global-root", GlobalRoot,
	}
}

// serviceFlags are the listening and logging flags every Vitess server takes.
func serviceFlags(webPort, grpcPort int) []string {
	return []string{
		"--bind-address", "127.0.0.1",
		"--port", strconv.Itoa(webPort),
		"--grpc-bind-address", "127.0.0.1",
		"--grpc-port", strconv.Itoa(grpcPort),
		// v24 logs structured records to stderr (which goes to the log file) and ignores
		// --logtostderr; text reads better than the default JSON in a test log.
		"--log-format", "text",
	}
}

// freePorts returns two loopback ports nobody listens on, typically a server's web and gRPC ports.
func freePorts() (int, int, error) {
	first, err := framework.FreePort()
	if err != nil {
		return 0, 0, err
	}
	second, err := framework.FreePort()
	return first, second, err
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// httpOK tells whether GET url answers 200, as Vitess' /debug/status does once the server runs.
func httpOK(ctx context.Context, url string) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false, nil
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK, nil
}
