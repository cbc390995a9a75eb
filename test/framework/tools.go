package framework

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

const modulePath = "github.com/vitess-apiserver/vitess-apiserver"

// Tools are the absolute paths of the binaries a control plane runs, and of the Vitess binaries
// that tests run against it.
type Tools struct {
	KubeAPIServer         string
	KubeControllerManager string
	KubeScheduler         string
	Kubectl               string
	Kubelet               string
	KubeProxy             string
	CoreDNS               string
	Etcd                  string
	Kwok                  string
	// Crane is go-containerregistry's crane, which also serves a real OCI registry.
	Crane string
	// Helm installs the chart in artifacts/charts.
	Helm string
	// Weed is SeaweedFS, whose S3 gateway is the object store backups are tested against.
	Weed string

	Vtctld       string
	Vtctldclient string
	Vtgate       string
	Vttablet     string
	Vtorc        string
	Mysqlctl     string
	Mysqlctld    string
	// MysqlRoot is the MySQL installation the tablets run, Vitess' VT_MYSQL_ROOT: its bin/ has
	// mysqld and the client programs mysqlctl uses. Everyone can read it, uid 999 included.
	MysqlRoot string
}

// RepoRoot finds the root of this repository by walking up from the working directory (go test runs
// in the package directory, go run in the caller's).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for _, line := range strings.Split(string(data), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && strings.Trim(f[1], `"`) == modulePath {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", modulePath)
		}
		dir = parent
	}
}

// EnsureTools returns the cached control-plane and Vitess binaries, building them with hack/build-tools.sh
// when some are missing. The versions and the cache location are read from hack/lib.sh so that they
// have a single source of truth.
func EnsureTools(repoRoot string) (Tools, error) {
	tools, err := toolPaths(repoRoot)
	if err != nil {
		return Tools{}, err
	}
	if tools.missing() == "" {
		// Skipping the script when everything is cached avoids racing a build that is already
		// running in another process (the script itself has no lock).
		return tools, nil
	}
	// Parallel test packages may all find the cache cold: serialise them on a lock next to it.
	unlock, err := lockFile(filepath.Join(filepath.Dir(filepath.Dir(tools.Etcd)), ".framework-build.lock"))
	if err != nil {
		return Tools{}, err
	}
	defer unlock()
	if tools.missing() == "" {
		return tools, nil
	}
	cmd := exec.Command("bash", filepath.Join(repoRoot, "hack", "build-tools.sh"))
	cmd.Dir = repoRoot
	cmd.Stderr = os.Stderr // the build takes minutes when cold: show its progress
	if out, err := cmd.Output(); err != nil {
		return Tools{}, fmt.Errorf("hack/build-tools.sh: %w\n%s", err, out)
	}
	if m := tools.missing(); m != "" {
		return Tools{}, fmt.Errorf("hack/build-tools.sh succeeded but %s is missing", m)
	}
	return tools, nil
}

// EnsureRepoTools is EnsureTools for the repository the working directory is in.
func EnsureRepoTools() (Tools, error) {
	root, err := RepoRoot()
	if err != nil {
		return Tools{}, err
	}
	return EnsureTools(root)
}

func toolPaths(repoRoot string) (Tools, error) {
	dirs, err := libVars(repoRoot, "K8S_BIN", "ETCD_BIN", "KWOK_BIN", "VITESS_BIN", "MYSQL_ROOT", "COREDNS_BIN", "CRANE_BIN", "HELM_BIN", "SEAWEEDFS_BIN")
	if err != nil {
		return Tools{}, err
	}
	k8s, etcd, kwok, vitess, mysqlRoot, coredns, crane, helm, seaweedfs := dirs[0], dirs[1], dirs[2], dirs[3], dirs[4], dirs[5], dirs[6], dirs[7], dirs[8]
	return Tools{
		KubeAPIServer:         filepath.Join(k8s, "kube-apiserver"),
		KubeControllerManager: filepath.Join(k8s, "kube-controller-manager"),
		KubeScheduler:         filepath.Join(k8s, "kube-scheduler"),
		Kubectl:               filepath.Join(k8s, "kubectl"),
		Kubelet:               filepath.Join(k8s, "kubelet"),
		KubeProxy:             filepath.Join(k8s, "kube-proxy"),
		CoreDNS:               filepath.Join(coredns, "coredns"),
		Etcd:                  filepath.Join(etcd, "etcd"),
		Kwok:                  filepath.Join(kwok, "kwok"),
		Crane:                 filepath.Join(crane, "crane"),
		Helm:                  filepath.Join(helm, "helm"),
		Weed:                  filepath.Join(seaweedfs, "weed"),
		Vtctld:                filepath.Join(vitess, "vtctld"),
		Vtctldclient:          filepath.Join(vitess, "vtctldclient"),
		Vtgate:                filepath.Join(vitess, "vtgate"),
		Vttablet:              filepath.Join(vitess, "vttablet"),
		Vtorc:                 filepath.Join(vitess, "vtorc"),
		Mysqlctl:              filepath.Join(vitess, "mysqlctl"),
		Mysqlctld:             filepath.Join(vitess, "mysqlctld"),
		MysqlRoot:             mysqlRoot,
	}, nil
}

// libVars reads variables of hack/lib.sh, the single source of truth for versions, cache
// locations and image names. None of them may be empty.
func libVars(repoRoot string, names ...string) ([]string, error) {
	script := fmt.Sprintf("source %q", filepath.Join(repoRoot, "hack", "lib.sh"))
	for _, name := range names {
		script += fmt.Sprintf(" && echo \"$%s\"", name)
	}
	out, err := exec.Command("bash", "-c", script).Output()
	if err != nil {
		return nil, fmt.Errorf("reading %s from hack/lib.sh: %w", strings.Join(names, ", "), err)
	}
	values := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(values) != len(names) || slices.Contains(values, "") {
		return nil, fmt.Errorf("unexpected output from hack/lib.sh for %s: %q", strings.Join(names, ", "), out)
	}
	return values, nil
}

func (t Tools) missing() string {
	for _, p := range []string{
		t.KubeAPIServer, t.KubeControllerManager, t.KubeScheduler, t.Kubectl, t.Kubelet, t.KubeProxy, t.CoreDNS, t.Etcd, t.Kwok, t.Crane, t.Helm, t.Weed,
		t.Vtctld, t.Vtctldclient, t.Vtgate, t.Vttablet, t.Vtorc, t.Mysqlctl, t.Mysqlctld,
		filepath.Join(t.MysqlRoot, "bin", "mysqld"),
	} {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
			return p
		}
	}
	return ""
}

// BuildServer builds our server into <repoRoot>/.local/bin/vitess-apiserver and returns its path.
func BuildServer(repoRoot string) (string, error) {
	out := filepath.Join(repoRoot, ".local", "bin", "vitess-apiserver")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	// go build replaces the output by renaming, so a server that is running from the old binary is
	// not disturbed; the lock only keeps parallel test packages from building twice at once.
	unlock, err := lockFile(out + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	cmd := exec.Command("go", "build", "-o", out, "./cmd/apiserver")
	cmd.Dir = repoRoot
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/apiserver: %w\n%s", err, b)
	}
	return out, nil
}

var serverBuilds sync.Map // repoRoot -> func() (string, error)

// buildServerOnce builds the server at most once per test binary: every test that starts a server
// gets the current source, without paying for go build each time.
func buildServerOnce(repoRoot string) (string, error) {
	f, _ := serverBuilds.LoadOrStore(repoRoot, sync.OnceValues(func() (string, error) { return BuildServer(repoRoot) }))
	return f.(func() (string, error))()
}

// lockFile waits for an exclusive lock on path.
func lockFile(path string) (unlock func(), err error) { return flockFile(path, syscall.LOCK_EX) }

// tryLockFile is lockFile that fails with syscall.EWOULDBLOCK instead of waiting.
func tryLockFile(path string) (unlock func(), err error) {
	return flockFile(path, syscall.LOCK_EX|syscall.LOCK_NB)
}

func flockFile(path string, how int) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
