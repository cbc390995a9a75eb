package framework

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets between SIGTERM and SIGKILL. kube-apiserver needs a few
// seconds to drain; nothing here holds state that a kill would corrupt beyond what a crash would.
const stopGrace = 15 * time.Second

// process is one child process whose output goes to a log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has exited
	err     error         // exit status, valid once done is closed
}

func startProcess(name, logPath, bin string, args ...string) (*process, error) {
	return startProcessWith(name, logPath, ProcessOptions{}, bin, args...)
}

// ProcessOptions are the settings of StartProcess beyond its command line.
type ProcessOptions struct {
	// Credential runs the process as another user (Vitess' binaries refuse to run as root); nil
	// runs it as ourselves.
	Credential *syscall.Credential
	// Dir is its working directory; empty means ours.
	Dir string
}

// Process is a child process started by StartProcess, for harnesses outside this package that run
// other programs the way the control plane runs its components.
type Process struct{ p *process }

// StartProcess starts bin with its output appended to logPath. Like the control plane's
// components, it gets a process group of its own and is killed by the kernel if this process dies
// without stopping it.
func StartProcess(name, logPath string, opts ProcessOptions, bin string, args ...string) (*Process, error) {
	p, err := startProcessWith(name, logPath, opts, bin, args...)
	if err != nil {
		return nil, err
	}
	return &Process{p: p}, nil
}

// Stop sends SIGTERM to the process group, then SIGKILL after a grace period, and returns once the
// process has exited. Stopping a process that has exited does nothing.
func (p *Process) Stop() { p.p.stop() }

// Signal sends sig to the process group, e.g. SIGSTOP and SIGCONT to freeze a process in the
// middle of what it does and let it go on.
func (p *Process) Signal(sig syscall.Signal) error { return syscall.Kill(-p.p.cmd.Process.Pid, sig) }

// ExitError is nil while the process runs; once it has exited it describes the exit, with the
// end of the log to show why.
func (p *Process) ExitError() error {
	if !p.p.exited() {
		return nil
	}
	return p.p.exitError()
}

// FreePort returns a loopback port nobody listens on, never the same one twice in this process.
func FreePort() (int, error) { return freePort() }

func startProcessWith(name, logPath string, opts ProcessOptions, bin string, args ...string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(logFile, "=== %s starting %s %s\n", time.Now().Format(time.RFC3339), bin, strings.Join(args, " "))

	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = opts.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Go sets the parent-death signal below after switching to this user, so the switch does
		// not clear it.
		Credential: opts.Credential,
		// Own process group: a Ctrl-C in the terminal reaches only us, so we stop the children in
		// order; and Stop can signal the whole group.
		Setpgid: true,
		// If we die without running Stop (SIGKILL, go test timeout), the kernel kills the child.
		Pdeathsig: syscall.SIGKILL,
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}

	started := make(chan error, 1)
	go func() {
		// Pdeathsig fires when the *thread* that forked the child exits, not the process. Go may
		// retire idle threads, so start the child from a locked thread and keep that thread busy
		// in Wait for as long as the child lives.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			logFile.Close()
			started <- err
			return
		}
		started <- nil
		p.err = cmd.Wait()
		fmt.Fprintf(logFile, "=== %s exited: %v\n", time.Now().Format(time.RFC3339), p.err)
		logFile.Close()
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitError describes an unexpected exit, with the end of the log to show why.
func (p *process) exitError() error {
	return fmt.Errorf("%s exited unexpectedly (%v); last lines of %s:\n%s", p.name, p.err, p.logPath, tailFile(p.logPath, 30))
}

// stop sends SIGTERM to the process group, then SIGKILL after the grace period.
func (p *process) stop() {
	if p.exited() {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Reap anything the child left behind in its group.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
}

// kill sends SIGKILL to the process group and returns once the process has exited.
func (p *process) kill() {
	if !p.exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

func tailFile(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

var (
	portsMu    sync.Mutex
	portsGiven = map[int]bool{}
)

// freePort returns a loopback port nobody listens on. The port is released before the caller's
// process binds it, so remember the ones handed out to avoid giving the same one twice in this
// process; across processes the kernel's ephemeral allocation makes reuse unlikely.
func freePort() (int, error) {
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !portsGiven[port] {
			portsGiven[port] = true
			return port, nil
		}
	}
	return 0, errors.New("no free loopback port found")
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
