// Package vitess runs real Vitess components on loopback for tests: an etcd as the topology
// server and vtctld on top of it, with the binaries hack/build-tools.sh builds.
//
// Vitess' binaries refuse to run as root. Tests here often do (CI does), so when we are root the
// harness runs them as UnprivilegedUID/GID, the ids the vitess-operator gives its pods.
package vitess

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
	tools, err := ensureTools()
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

func ensureTools() (framework.Tools, error) {
	root, err := framework.RepoRoot()
	if err != nil {
		return framework.Tools{}, err
	}
	return framework.EnsureTools(root)
}

// Vtctld is a running (or stopped) vtctld. Its methods are safe for concurrent use.
type Vtctld struct {
	// GRPCAddress is where vtctldclient and pkg/vtctld connect, 127.0.0.1:<port>. It stays the
	// same across Stop and Start.
	GRPCAddress string
	// WebAddress is its HTTP port (status pages, /debug/vars), 127.0.0.1:<port>.
	WebAddress string

	bin     string // the vtctld binary in runDir
	runDir  string
	logPath string
	args    []string

	mu   sync.Mutex
	proc *framework.Process
}

// StartVtctld runs vtctld against topo, with its log in dir/vtctld.log, and returns once its gRPC
// API answers. Stop it with Stop.
func StartVtctld(ctx context.Context, topo *Topology, dir string) (*Vtctld, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	webPort, err := framework.FreePort()
	if err != nil {
		return nil, err
	}
	grpcPort, err := framework.FreePort()
	if err != nil {
		return nil, err
	}
	v := &Vtctld{
		GRPCAddress: "127.0.0.1:" + strconv.Itoa(grpcPort),
		WebAddress:  "127.0.0.1:" + strconv.Itoa(webPort),
		logPath:     filepath.Join(dir, "vtctld.log"),
		args: []string{
			"--topo-implementation", "etcd2",
			"--topo-global-server-address", topo.Address,
			"--topo-global-root", GlobalRoot,
			"--bind-address", "127.0.0.1",
			"--port", strconv.Itoa(webPort),
			"--grpc-bind-address", "127.0.0.1",
			"--grpc-port", strconv.Itoa(grpcPort),
			// grpc-vtctld is the typed API of vtctldclient and pkg/vtctld; grpc-vtctl the legacy
			// one, still served as in Vitess' own examples.
			"--service-map", "grpc-vtctl,grpc-vtctld",
			// v24 logs structured records to stderr (which goes to the log file) and ignores
			// --logtostderr; text reads better than the default JSON in a test log.
			"--log-format", "text",
		},
	}
	if err := v.Start(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Start starts vtctld again after Stop, on the same ports, and returns once its gRPC API answers.
func (v *Vtctld) Start(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.proc != nil {
		return errors.New("vtctld is already running")
	}
	tools, err := ensureTools()
	if err != nil {
		return err
	}
	if v.runDir, v.bin, err = reachableBinary(tools.Vtctld); err != nil {
		return err
	}
	v.proc, err = framework.StartProcess("vtctld", v.logPath, processOptions(v.runDir), v.bin, v.args...)
	if err != nil {
		return err
	}
	if err := framework.Poll(ctx, "vtctld gRPC at "+v.GRPCAddress, v.proc.ExitError, v.answers); err != nil {
		v.stopLocked()
		return fmt.Errorf("%w; log in %s", err, v.logPath)
	}
	return nil
}

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
func (v *Vtctld) Stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.stopLocked()
}

func (v *Vtctld) stopLocked() {
	if v.proc != nil {
		v.proc.Stop()
		v.proc = nil
	}
	if v.runDir != "" {
		_ = os.RemoveAll(v.runDir)
		v.runDir = ""
	}
}

// LogPath is vtctld's log file.
func (v *Vtctld) LogPath() string { return v.logPath }

// asUnprivileged tells whether Vitess' processes must be run as another user.
func asUnprivileged() bool { return os.Geteuid() == 0 }

func processOptions(dir string) framework.ProcessOptions {
	opts := framework.ProcessOptions{Dir: dir}
	if asUnprivileged() {
		// No supplementary groups: root's must not follow the process.
		opts.Credential = &syscall.Credential{Uid: UnprivilegedUID, Gid: UnprivilegedGID, Groups: []uint32{}}
	}
	return opts
}

// reachableBinary returns a private directory for one Vitess process (its working directory) and
// the path of bin from there. As ourselves that is bin itself. When Vitess runs unprivileged the
// tools cache may be out of its reach (it is under root's home, mode 0700, by default), so the
// binary is hard-linked, or copied if linking fails, into a directory that user owns under the
// system's temporary directory, which the caller removes when the process has stopped.
func reachableBinary(bin string) (dir, path string, err error) {
	if dir, err = os.MkdirTemp("", "vitess-"+filepath.Base(bin)+"-"); err != nil {
		return "", "", err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if !asUnprivileged() {
		return dir, bin, nil
	}
	if err := os.Chown(dir, UnprivilegedUID, UnprivilegedGID); err != nil {
		return "", "", err
	}
	path = filepath.Join(dir, filepath.Base(bin))
	if os.Link(bin, path) == nil {
		return dir, path, nil
	}
	return dir, path, copyExecutable(bin, path)
}

func copyExecutable(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
