package vitess

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// daemon is one long-running process of a Vitess deployment that can be stopped and started again
// with the same command line. Its methods are safe for concurrent use.
type daemon struct {
	name    string
	bin     string
	args    []string
	env     []string // added to ours, as NAME=value
	logPath string
	// inPlace says the unprivileged user can already run bin where it is (the MySQL tree), so
	// it is not linked into the process' private directory.
	inPlace bool
	// ready tells whether the started process serves; start waits for it.
	ready func(ctx context.Context) (bool, error)

	mu     sync.Mutex
	proc   *framework.Process
	runDir string
}

// start starts the process and returns once ready says it serves.
func (d *daemon) start(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		return fmt.Errorf("%s is already running", d.name)
	}
	runDir, bin, err := reachableBinary(d.bin, d.inPlace)
	if err != nil {
		return err
	}
	d.runDir = runDir
	command, args := withEnv(d.env, bin, d.args)
	d.proc, err = framework.StartProcess(d.name, d.logPath, processOptions(runDir), command, args...)
	if err != nil {
		d.stopLocked()
		return err
	}
	if err := framework.Poll(ctx, d.name+" to serve", d.proc.ExitError, d.ready); err != nil {
		d.stopLocked()
		return fmt.Errorf("%w; log in %s", err, d.logPath)
	}
	return nil
}

// stop stops the process (SIGTERM, then SIGKILL after a grace period); start brings it back.
func (d *daemon) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
}

// signal sends sig to the running process.
func (d *daemon) signal(sig syscall.Signal) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		return fmt.Errorf("%s is not running", d.name)
	}
	return d.proc.Signal(sig)
}

func (d *daemon) stopLocked() {
	if d.proc != nil {
		d.proc.Stop()
		d.proc = nil
	}
	if d.runDir != "" {
		_ = os.RemoveAll(d.runDir)
		d.runDir = ""
	}
}

// runToCompletion runs a short-lived Vitess command (mysqlctl) the way daemons run, with its output
// appended to logPath. When it fails, whatever it started in its process group (mysqld) is killed
// with it, so that a failed start leaves nothing running.
func runToCompletion(ctx context.Context, logPath string, env []string, bin string, args ...string) error {
	runDir, bin, err := reachableBinary(bin, false)
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	fmt.Fprintf(logFile, "=== running %s %s\n", bin, strings.Join(args, " "))

	command, args := withEnv(env, bin, args)
	cmd := exec.CommandContext(ctx, command, args...)
	cmd.Dir = runDir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: processOptions(runDir).Credential,
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
	}
	// Pdeathsig fires when the thread that forked the child exits: keep that thread.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Run(); err != nil {
		if cmd.Process != nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		return fmt.Errorf("%s %s: %w; log in %s", filepath.Base(bin), strings.Join(args, " "), err, logPath)
	}
	return nil
}

// withEnv returns a command line that runs bin with env added to ours. framework.StartProcess
// passes our environment on unchanged, so env(1) adds the rest; it execs bin, which thus keeps the
// process id that signals are sent to.
func withEnv(env []string, bin string, args []string) (command string, commandArgs []string) {
	if len(env) == 0 {
		return bin, args
	}
	return "env", append(append(append([]string{}, env...), bin), args...)
}

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
// the path of bin from there. As ourselves, or when inPlace, that is bin itself. When Vitess runs
// unprivileged the tools cache may be out of its reach (it is under root's home, mode 0700, by
// default), so the binary is hard-linked, or copied if linking fails, into a directory that user
// owns under the system's temporary directory, which the caller removes when the process has
// stopped.
func reachableBinary(bin string, inPlace bool) (dir, path string, err error) {
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
	if inPlace {
		return dir, bin, nil
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

// ownedByUnprivileged creates dir if needed and gives it to the user Vitess runs as, after checking
// that this user can reach it: a directory under one only root may enter (t.TempDir() is mode
// 0700, and so is root's home) would otherwise fail deep inside mysqld.
func ownedByUnprivileged(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if !asUnprivileged() {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for parent := filepath.Dir(abs); ; parent = filepath.Dir(parent) {
		fi, err := os.Stat(parent)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is out of reach of uid %d: %s has mode %v", dir, UnprivilegedUID, parent, fi.Mode().Perm())
		}
		if parent == filepath.Dir(parent) {
			break
		}
	}
	return os.Chown(abs, UnprivilegedUID, UnprivilegedGID)
}
