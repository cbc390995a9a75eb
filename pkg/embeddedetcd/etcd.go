// Package embeddedetcd runs a single-member etcd inside the server process, so that a lone
// vitess-apiserver needs no etcd of its own. It keeps its data in a directory that survives
// restarts, and listens on loopback only.
package embeddedetcd

import (
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

// startTimeout bounds how long a start may take; a fresh member needs well under a second, a
// large data directory a few seconds to replay.
const startTimeout = time.Minute

// Server is a running embedded etcd.
type Server struct {
	etcd *embed.Etcd
	// ClientURL is where the API server's storage connects.
	ClientURL string
}

// Start runs etcd with its data in dataDir/etcd, listening on free loopback ports.
func Start(dataDir string) (*Server, error) {
	cfg := embed.NewConfig()
	cfg.Name = "vitess-apiserver"
	cfg.Dir = filepath.Join(dataDir, "etcd")
	// Port 0 picks a free port; the URLs are stored in the member's data as written, so a
	// restart with the same data directory finds the same (port-less) identity.
	loopback := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls = []url.URL{loopback}
	cfg.AdvertiseClientUrls = []url.URL{loopback}
	cfg.ListenPeerUrls = []url.URL{loopback}
	cfg.AdvertisePeerUrls = []url.URL{loopback}
	cfg.ListenMetricsUrls = nil
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"

	etcd, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("starting embedded etcd in %s: %w", cfg.Dir, err)
	}
	select {
	case <-etcd.Server.ReadyNotify():
	case err := <-etcd.Err():
		etcd.Close()
		return nil, fmt.Errorf("embedded etcd in %s failed: %w", cfg.Dir, err)
	case <-time.After(startTimeout):
		etcd.Close()
		return nil, fmt.Errorf("embedded etcd in %s was not ready after %s", cfg.Dir, startTimeout)
	}
	return &Server{etcd: etcd, ClientURL: "http://" + etcd.Clients[0].Addr().String()}, nil
}

// Stop shuts etcd down, flushing its data.
func (s *Server) Stop() {
	s.etcd.Close()
}
