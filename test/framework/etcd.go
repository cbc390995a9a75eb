package framework

import (
	"context"
	"net/http"
)

// Etcd is a single-member etcd on loopback, for harnesses that need one without a control plane
// (Vitess' topology server, for one).
type Etcd struct {
	// URL is the client endpoint, http://127.0.0.1:<port>.
	URL  string
	proc *Process
}

// StartEtcd runs bin (Tools.Etcd) with its data in dataDir and its output in logPath, and returns
// once it reports itself healthy.
func StartEtcd(ctx context.Context, bin, dataDir, logPath string) (*Etcd, error) {
	clientURL, args, err := etcdFlags(dataDir)
	if err != nil {
		return nil, err
	}
	p, err := StartProcess("etcd", logPath, ProcessOptions{}, bin, args...)
	if err != nil {
		return nil, err
	}
	if err := Poll(ctx, "etcd", p.ExitError, etcdHealthy(clientURL)); err != nil {
		p.Stop()
		return nil, err
	}
	return &Etcd{URL: clientURL, proc: p}, nil
}

// Stop stops etcd; its data stays in dataDir.
func (e *Etcd) Stop() { e.proc.Stop() }

// ExitError is nil while etcd runs, else why it exited.
func (e *Etcd) ExitError() error { return e.proc.ExitError() }

// etcdFlags are the flags of a throwaway single-member etcd on free loopback ports.
func etcdFlags(dataDir string) (clientURL string, args []string, err error) {
	clientPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	peerPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	clientURL, peerURL := "http://"+loopback(clientPort), "http://"+loopback(peerPort)
	return clientURL, []string{
		"--name=local",
		"--data-dir=" + dataDir,
		"--listen-client-urls=" + clientURL,
		"--advertise-client-urls=" + clientURL,
		// The peer port is unused with one member, but etcd binds it: never the shared default 2380.
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=local=" + peerURL,
		// A throwaway cluster: durability is not worth an fsync per write on a shared disk.
		"--unsafe-no-fsync=true",
		"--log-level=warn",
	}, nil
}

func etcdHealthy(clientURL string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		return httpOK(ctx, http.DefaultClient, clientURL+"/health"), nil
	}
}
