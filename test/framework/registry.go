package framework

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Registry is a real OCI registry (crane's) on loopback, with its blobs on disk: the kind of
// registry a user pushes the server's image to, which a real node's containerd pulls from.
type Registry struct {
	// Host is 127.0.0.1:<port>, the registry part of an image reference.
	Host string
	p    *process
}

// StartRegistry serves a registry with crane from tools, its blobs and log in dir.
func StartRegistry(ctx context.Context, crane, dir string) (*Registry, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil { // crane does not create it
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := loopback(port)
	p, err := startProcess("registry", filepath.Join(dir, "registry.log"), crane, "registry", "serve",
		"--address", host, "--disk", blobs)
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: host, p: p}
	// /v2/ answers once it serves.
	for ctx.Err() == nil {
		if httpOK(ctx, http.DefaultClient, "http://"+host+"/v2/") {
			return r, nil
		}
		if p.exited() {
			return nil, p.exitError()
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("registry on %s: %w", host, ctx.Err())
}

// Stop stops the registry.
func (r *Registry) Stop() { r.p.stop() }
