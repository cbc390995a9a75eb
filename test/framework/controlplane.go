// Package framework runs a real Kubernetes control plane on loopback for integration tests and for
// `make run`: etcd, kube-apiserver (with its aggregator), kube-controller-manager, kube-scheduler and
// kwok with fake nodes, all as local processes built from source by hack/build-tools.sh, and on
// request a real node (realnode.go). Our
// aggregated API server is then started as another local process and registered through a real
// APIService (see aggregated.go), so requests take the same path as in a cluster.
package framework

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// serviceSubnet is where Services get their cluster IPs.
const serviceSubnet = "10.96.0.0/16"

// NoNodes as Options.Nodes starts no kwok and creates no nodes.
const NoNodes = -1

// waitTimeout bounds every readiness wait, so that a broken component fails a test with its log
// instead of hanging until the go test timeout.
const waitTimeout = 3 * time.Minute

// Options configure Start. The zero value is a complete single-node cluster in a temporary directory.
type Options struct {
	// Dir holds everything the cluster writes: PKI, etcd data, logs, audit logs. Empty means a new
	// temporary directory, removed by Stop (kept if Start fails, for its logs).
	Dir string
	// RepoRoot is this repository's root; empty means found from the working directory.
	RepoRoot string
	// Tools overrides the binaries; nil means EnsureTools(RepoRoot).
	Tools *Tools
	// Nodes is the number of kwok nodes: 0 means 1, NoNodes means none (kwok is not started).
	Nodes int
	// TaintNodes gives the fake nodes kwok's kwok.x-k8s.io/node=fake:NoSchedule taint, so only pods
	// that tolerate it land there. Off by default: every node here is fake, and the pods our server
	// creates do not carry that toleration.
	TaintNodes bool
	// DisableControllerManager and DisableScheduler leave those components out (then nothing
	// creates ServiceAccounts, ReplicaSets' pods or the default StorageClass, binds
	// PersistentVolumeClaims, or schedules pods).
	DisableControllerManager bool
	DisableScheduler         bool
	// RealNode adds a real node, RealNodeName, besides the kwok nodes: the kubelet, containerd and
	// runc on this machine, so that pods placed there really run, from the images of
	// hack/build-images.sh, with cluster DNS, kube-proxy and a provisioner of writable volumes
	// (realnode_services.go). Beside kwok nodes it is tainted (see OnRealNode); with Nodes:
	// NoNodes it is the cluster's only node and takes every pod. It needs root, and waits for any
	// other real node on the machine to stop.
	RealNode bool
	// ExtraAPIServerArgs are appended to kube-apiserver's flags (a repeated flag overrides ours).
	ExtraAPIServerArgs []string
	// Logf receives progress messages (e.g. t.Logf); nil discards them. Process output always goes
	// to files in LogDir().
	Logf func(format string, args ...any)
}

// ControlPlane is a running local cluster. Its methods are safe for concurrent use.
type ControlPlane struct {
	opts      Options
	dir       string
	removeDir bool
	repoRoot  string
	tools     Tools

	ca              *certAuthority
	caFile, caKey   string
	saKey, saPub    string
	url             string
	apiPort         int
	adminKubeconfig string
	admin           *rest.Config
	client          kubernetes.Interface
	auditPolicy     string
	nodes           []string
	realNode        *realNode

	mu      sync.Mutex
	procs   []*process
	servers []*Server
	// registered is the server the APIService points at.
	registered *Server
	stopped    bool
}

// Start brings up a control plane and returns once it is usable: kube-apiserver ready, the default
// ServiceAccount and the default StorageClass created (with the controller manager) and the nodes
// Ready.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, err error) {
	if opts.Nodes == 0 {
		opts.Nodes = 1
	}
	if opts.Nodes < 0 {
		opts.Nodes = 0
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	cp := &ControlPlane{opts: opts, dir: opts.Dir, repoRoot: opts.RepoRoot}
	if cp.repoRoot == "" {
		if cp.repoRoot, err = RepoRoot(); err != nil {
			return nil, err
		}
	}
	if opts.Tools != nil {
		cp.tools = *opts.Tools
	} else if cp.tools, err = EnsureTools(cp.repoRoot); err != nil {
		return nil, err
	}
	if cp.dir == "" {
		if cp.dir, err = os.MkdirTemp("", "vitess-controlplane-"); err != nil {
			return nil, err
		}
		cp.removeDir = true
	}
	if cp.dir, err = filepath.Abs(cp.dir); err != nil {
		return nil, err
	}
	for _, d := range []string{cp.pkiDir(), cp.LogDir(), filepath.Join(cp.dir, "audit"), filepath.Join(cp.dir, "etcd")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			cp.removeDir = false // keep the logs of a failed start
			_ = cp.Stop()
			err = fmt.Errorf("%w (logs in %s)", err, cp.LogDir())
		}
	}()

	started := time.Now()
	cp.opts.Logf("starting control plane in %s", cp.dir)
	if err := cp.writePKI(); err != nil {
		return nil, fmt.Errorf("generating PKI: %w", err)
	}
	if err := cp.writeAuditPolicy(); err != nil {
		return nil, err
	}
	if opts.RealNode {
		if err := cp.prepareRealNode(); err != nil {
			return nil, err
		}
	}
	etcdURL, err := cp.startEtcd(ctx)
	if err != nil {
		return nil, err
	}
	if err := cp.startAPIServer(ctx, etcdURL); err != nil {
		return nil, err
	}
	var healthz []int
	if !opts.DisableControllerManager {
		port, err := cp.startControllerManager()
		if err != nil {
			return nil, err
		}
		healthz = append(healthz, port)
	}
	if !opts.DisableScheduler {
		port, err := cp.startScheduler()
		if err != nil {
			return nil, err
		}
		healthz = append(healthz, port)
	}
	if opts.Nodes > 0 {
		if err := cp.startKwok(); err != nil {
			return nil, err
		}
		if _, err := cp.createNodes(ctx, opts.Nodes); err != nil {
			return nil, err
		}
	}
	if opts.RealNode {
		if err := cp.startRealNode(ctx); err != nil {
			return nil, err
		}
	}
	for _, port := range healthz {
		if err := cp.waitHealthz(ctx, port); err != nil {
			return nil, err
		}
	}
	if !opts.DisableControllerManager {
		// Pods are refused until the ServiceAccount controller created the namespace's default
		// ServiceAccount: waiting here spares every test a retry loop.
		if err := cp.poll(ctx, "the default ServiceAccount", func(ctx context.Context) (bool, error) {
			_, err := cp.client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		}); err != nil {
			return nil, err
		}
		// With the hostPath provisioner enabled below, a default StorageClass is all it takes for
		// PersistentVolumeClaims to bind, and so for pods with volumes to be scheduled.
		if err := cp.createDefaultStorageClass(ctx, !cp.realNodeOnly()); err != nil {
			return nil, err
		}
		if opts.RealNode {
			if err := cp.createRealNodeStorageClass(ctx, cp.realNodeOnly()); err != nil {
				return nil, err
			}
		}
	}
	if opts.Nodes > 0 {
		if err := cp.waitNodesReady(ctx, "kwok nodes", cp.nodes); err != nil {
			return nil, err
		}
	}
	if opts.RealNode {
		if err := cp.waitNodesReady(ctx, "the real node", []string{RealNodeName}); err != nil {
			return nil, err
		}
		cp.opts.Logf("real node %s Ready %s after Start began", RealNodeName, time.Since(started).Round(time.Millisecond))
	}
	cp.opts.Logf("control plane ready at %s in %s (kubeconfig %s)", cp.url, time.Since(started).Round(time.Millisecond), cp.adminKubeconfig)
	return cp, nil
}

// realNodeOnly tells whether the real node is the cluster's only node.
func (cp *ControlPlane) realNodeOnly() bool { return cp.opts.RealNode && cp.opts.Nodes == 0 }

func (cp *ControlPlane) pkiDir() string { return filepath.Join(cp.dir, "pki") }

// writePKI creates the cluster CA and everything signed by it, the front-proxy CA the aggregator
// authenticates to aggregated servers with, the service-account key and the kubeconfigs.
func (cp *ControlPlane) writePKI() error {
	dir := cp.pkiDir()
	var err error
	if cp.ca, err = newCA("vitess-local-cluster-ca"); err != nil {
		return err
	}
	if cp.caFile, cp.caKey, err = cp.ca.writeTo(dir, "ca"); err != nil {
		return err
	}
	if _, _, err = cp.ca.issueToFiles(dir, "kube-apiserver", certSpec{
		commonName: "kube-apiserver",
		dnsNames:   []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
		ips:        []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, net.ParseIP("10.96.0.1")},
		server:     true,
	}); err != nil {
		return err
	}
	frontProxyCA, err := newCA("vitess-local-front-proxy-ca")
	if err != nil {
		return err
	}
	if _, _, err = frontProxyCA.writeTo(dir, "front-proxy-ca"); err != nil {
		return err
	}
	// The CN must match --requestheader-allowed-names: aggregated servers accept identity headers
	// only from a client certificate with that name.
	if _, _, err = frontProxyCA.issueToFiles(dir, "front-proxy-client", certSpec{commonName: "front-proxy-client", client: true}); err != nil {
		return err
	}
	if _, _, err = cp.ca.issueToFiles(dir, kubeletClientUser, certSpec{commonName: kubeletClientUser, client: true}); err != nil {
		return err
	}
	if cp.saKey, cp.saPub, err = newServiceAccountKey(dir); err != nil {
		return err
	}
	// kube-apiserver's port is only known once picked; pick it now so kubeconfigs can be written.
	if cp.apiPort, err = freePort(); err != nil {
		return err
	}
	cp.url = "https://" + loopback(cp.apiPort)
	for _, c := range []struct{ file, cn, org string }{
		{"admin", "vitess-local-admin", "system:masters"},
		{"kube-controller-manager", "system:kube-controller-manager", ""},
		{"kube-scheduler", "system:kube-scheduler", ""},
	} {
		spec := certSpec{commonName: c.cn, client: true}
		if c.org != "" {
			spec.organizations = []string{c.org}
		}
		certPEM, keyPEM, err := cp.ca.issue(spec)
		if err != nil {
			return err
		}
		path := filepath.Join(cp.dir, c.file+".kubeconfig")
		if err := writeKubeconfig(path, cp.url, cp.ca.CertPEM, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}); err != nil {
			return err
		}
		if c.file == "admin" {
			cp.adminKubeconfig = path
			cp.admin = &rest.Config{
				Host:            cp.url,
				TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.CertPEM, CertData: certPEM, KeyData: keyPEM},
				// Client-side throttling at client-go's defaults (5 qps) would dominate test time.
				QPS:   100,
				Burst: 200,
			}
		}
	}
	cp.client, err = kubernetes.NewForConfig(cp.admin)
	return err
}

// auditPolicy logs every request once, at Metadata level: enough to count who wrote what without
// the cost of request bodies. RequestReceived is omitted so that each request is one line.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

func (cp *ControlPlane) writeAuditPolicy() error {
	cp.auditPolicy = filepath.Join(cp.dir, "audit-policy.yaml")
	return os.WriteFile(cp.auditPolicy, []byte(auditPolicy), 0o644)
}

// start runs a component that Stop stops in reverse start order.
func (cp *ControlPlane) start(name, bin string, args ...string) error {
	return cp.startRecorded(func(p *process) { cp.procs = append(cp.procs, p) }, name, bin, args...)
}

// startRecorded runs a process with its output in LogDir()/<name>.log, unless Stop has begun, and
// hands it to record under the mutex, so that Stop finds it.
func (cp *ControlPlane) startRecorded(record func(*process), name, bin string, args ...string) error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.stopped {
		return errors.New("control plane is stopped")
	}
	p, err := startProcess(name, filepath.Join(cp.LogDir(), name+".log"), bin, args...)
	if err != nil {
		return err
	}
	record(p)
	return nil
}

func (cp *ControlPlane) startEtcd(ctx context.Context) (string, error) {
	clientURL, args, err := etcdFlags(filepath.Join(cp.dir, "etcd"))
	if err != nil {
		return "", err
	}
	if err := cp.start("etcd", cp.tools.Etcd, args...); err != nil {
		return "", err
	}
	return clientURL, cp.poll(ctx, "etcd", etcdHealthy(clientURL))
}

func (cp *ControlPlane) startAPIServer(ctx context.Context, etcdURL string) error {
	pki := cp.pkiDir()
	// Endpoints may not hold a loopback address, so the kubernetes Service cannot point at a
	// loopback advertise address: without a real node nothing in the cluster needs it (the
	// aggregator routes default/kubernetes to loopback by itself). Pods on a real node reach the
	// API as in any cluster, through that Service, at the node's bridge address: the server
	// installed in the cluster (make install) talks to it from its Pods.
	bind, advertise, endpoints := "127.0.0.1", "127.0.0.1", "none"
	if cp.opts.RealNode {
		bind, advertise, endpoints = "0.0.0.0", RealNodeIP, "lease"
	}
	args := []string{
		"--etcd-servers=" + etcdURL,
		"--bind-address=" + bind,
		"--advertise-address=" + advertise,
		"--endpoint-reconciler-type=" + endpoints,
		"--secure-port=" + strconv.Itoa(cp.apiPort),
		"--cert-dir=" + pki, // never the shared default /var/run/kubernetes
		"--tls-cert-file=" + filepath.Join(pki, "kube-apiserver.crt"),
		"--tls-private-key-file=" + filepath.Join(pki, "kube-apiserver.key"),
		"--client-ca-file=" + cp.caFile,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + cp.saPub,
		"--service-account-signing-key-file=" + cp.saKey,
		"--service-cluster-ip-range=" + serviceSubnet,
		"--authorization-mode=Node,RBAC",
		// On top of the default-enabled plugins, as kubeadm does.
		"--enable-admission-plugins=NodeRestriction",
		"--allow-privileged=true",
		// Aggregation: the aggregator presents front-proxy-client to aggregated servers, which trust
		// the identity headers below from a certificate signed by the front-proxy CA.
		"--requestheader-client-ca-file=" + filepath.Join(pki, "front-proxy-ca.crt"),
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-uid-headers=X-Remote-Uid",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + filepath.Join(pki, "front-proxy-client.crt"),
		"--proxy-client-key-file=" + filepath.Join(pki, "front-proxy-client.key"),
		// Route to a Service's cluster IP / ExternalName rather than to endpoint IPs: this is what
		// lets an ExternalName Service send the aggregator to our server on localhost.
		"--enable-aggregator-routing=false",
		"--audit-log-path=" + cp.AuditLogPath(),
		// Never rotated (by default the log rotates at 100 MB, as it does within a run of 100
		// clusters): tests count what they look for in this one file.
		"--audit-log-maxsize=0",
		"--audit-policy-file=" + cp.auditPolicy,
		// For logs, exec and port-forward on a real node; nodes register no resolvable hostname.
		"--kubelet-client-certificate=" + filepath.Join(pki, kubeletClientUser+".crt"),
		"--kubelet-client-key=" + filepath.Join(pki, kubeletClientUser+".key"),
		"--kubelet-preferred-address-types=InternalIP",
	}
	if err := cp.start("kube-apiserver", cp.tools.KubeAPIServer, append(args, cp.opts.ExtraAPIServerArgs...)...); err != nil {
		return err
	}
	return cp.poll(ctx, "kube-apiserver /readyz", func(ctx context.Context) (bool, error) {
		body, err := cp.client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		return err == nil && string(body) == "ok", nil
	})
}

func (cp *ControlPlane) startControllerManager() (int, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	kubeconfig := filepath.Join(cp.dir, "kube-controller-manager.kubeconfig")
	return port, cp.start("kube-controller-manager", cp.tools.KubeControllerManager,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(cp.dir, "kube-controller-manager"),
		"--leader-elect=false",
		// Each controller acts as its own ServiceAccount, as in a real cluster, so RBAC problems of
		// the built-in controllers (e.g. garbage collection of our objects) show up here too.
		"--use-service-account-credentials=true",
		"--root-ca-file="+cp.caFile,
		"--service-account-private-key-file="+cp.saKey,
		"--cluster-signing-cert-file="+cp.caFile,
		"--cluster-signing-key-file="+cp.caKey,
		"--controllers=*",
		// Dynamic provisioning as in a single-node dev cluster, for the default StorageClass
		// (storage.go, which also tells where the volumes go: not in Dir).
		"--enable-hostpath-provisioner=true",
	)
}

func (cp *ControlPlane) startScheduler() (int, error) {
	port, err := freePort()
	if err != nil {
		return 0, err
	}
	kubeconfig := filepath.Join(cp.dir, "kube-scheduler.kubeconfig")
	return port, cp.start("kube-scheduler", cp.tools.KubeScheduler,
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(port),
		"--cert-dir="+filepath.Join(cp.dir, "kube-scheduler"),
		"--leader-elect=false",
	)
}

// waitHealthz waits for a component's /healthz. They serve a self-signed certificate generated at
// startup, so this probe (and only this probe) skips verification; it never leaves loopback.
func (cp *ControlPlane) waitHealthz(ctx context.Context, port int) error {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	url := "https://" + loopback(port) + "/healthz"
	return cp.poll(ctx, url, func(ctx context.Context) (bool, error) { return httpOK(ctx, client, url), nil })
}

func httpOK(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode == http.StatusOK
}

// poll calls cond until it returns true, an error, a process of ours dies, or waitTimeout passes.
func (cp *ControlPlane) poll(ctx context.Context, what string, cond func(context.Context) (bool, error)) error {
	return Poll(ctx, what, cp.checkProcesses, cond)
}

// Poll calls cond every 250 ms, each time with a 10 s deadline, until it returns true or an error,
// alive returns an error (a process that should serve has died), or a 3-minute bound passes: a
// broken component fails a test with its log instead of hanging until the go test timeout.
func Poll(ctx context.Context, what string, alive func() error, cond func(context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	for {
		if err := alive(); err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		callCtx, callCancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := cond(callCtx)
		callCancel()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s: %w", what, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// checkProcesses reports a component that exited although nobody stopped it.
func (cp *ControlPlane) checkProcesses() error {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, p := range cp.procs {
		if p.exited() {
			return p.exitError()
		}
	}
	for _, s := range cp.servers {
		if s.proc != nil && s.proc.exited() && !s.stopped {
			return s.proc.exitError()
		}
	}
	if cp.realNode != nil {
		n := cp.realNode
		for _, p := range []*process{n.containerd, n.kubelet, n.dns, n.kubeProxy} {
			if p != nil && p.exited() {
				return p.exitError()
			}
		}
	}
	return nil
}

// Stop removes the directories of the hostPath volumes still provisioned (they live outside Dir,
// see storage.go), stops our servers, then the control plane in reverse start order, and removes
// Dir if Start created it. It is idempotent.
func (cp *ControlPlane) Stop() error {
	cp.mu.Lock()
	if cp.stopped {
		cp.mu.Unlock()
		return nil
	}
	cp.stopped = true
	servers, procs := cp.servers, cp.procs
	cp.mu.Unlock()

	if cp.realNode != nil {
		cp.stopRealNode()
	}
	cp.removeHostPathVolumes()

	for _, s := range servers {
		_ = s.Stop()
	}
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].stop()
	}
	if cp.removeDir {
		return os.RemoveAll(cp.dir)
	}
	return nil
}

// Dir is the directory the cluster writes to.
// PauseAPIServer stops kube-apiserver with SIGSTOP for d, then lets it go on with SIGCONT: a
// stalled kube-apiserver, whose clients' calls hang and whose leases go unrenewed meanwhile.
func (cp *ControlPlane) PauseAPIServer(d time.Duration) error {
	cp.mu.Lock()
	var apiserver *process
	for _, p := range cp.procs {
		if p.name == "kube-apiserver" && !p.exited() {
			apiserver = p
		}
	}
	cp.mu.Unlock()
	if apiserver == nil {
		return errors.New("kube-apiserver is not running")
	}
	pid := apiserver.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	time.Sleep(d)
	return syscall.Kill(pid, syscall.SIGCONT)
}

func (cp *ControlPlane) Dir() string { return cp.dir }

// LogDir holds one <component>.log per process.
func (cp *ControlPlane) LogDir() string { return filepath.Join(cp.dir, "logs") }

// URL is kube-apiserver's address, https://127.0.0.1:<port>.
func (cp *ControlPlane) URL() string { return cp.url }

// CACert is the PEM of the CA that signed kube-apiserver's serving certificate.
func (cp *ControlPlane) CACert() []byte { return cp.ca.CertPEM }

// Tools are the binaries this control plane runs.
func (cp *ControlPlane) Tools() Tools { return cp.tools }

// Nodes are the names of the kwok nodes (a real node is RealNodeName).
func (cp *ControlPlane) Nodes() []string { return append([]string(nil), cp.nodes...) }

// KubeconfigPath is a kubeconfig for a cluster administrator (group system:masters).
func (cp *ControlPlane) KubeconfigPath() string { return cp.adminKubeconfig }

// AdminConfig is a client config for a cluster administrator (group system:masters).
func (cp *ControlPlane) AdminConfig() *rest.Config { return rest.CopyConfig(cp.admin) }

// Client is a clientset for AdminConfig.
func (cp *ControlPlane) Client() kubernetes.Interface { return cp.client }

// AuditLogPath is kube-apiserver's audit log: one JSON event per request, Metadata level.
func (cp *ControlPlane) AuditLogPath() string {
	return filepath.Join(cp.dir, "audit", "kube-apiserver.log")
}

// ImpersonatedConfig is AdminConfig acting as user (with groups) through impersonation, the way
// to test what a particular user is allowed to do without minting credentials for them.
func (cp *ControlPlane) ImpersonatedConfig(user string, groups ...string) *rest.Config {
	cfg := cp.AdminConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: groups}
	return cfg
}

// ServiceAccountConfig is a client config authenticating as a ServiceAccount with a token from the
// TokenRequest API (valid for a day), i.e. as a pod of that ServiceAccount would.
func (cp *ControlPlane) ServiceAccountConfig(ctx context.Context, namespace, name string) (*rest.Config, error) {
	token, err := cp.serviceAccountToken(ctx, namespace, name, 24*time.Hour)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:            cp.url,
		TLSClientConfig: rest.TLSClientConfig{CAData: cp.ca.CertPEM},
		BearerToken:     token,
		QPS:             cp.admin.QPS,
		Burst:           cp.admin.Burst,
	}, nil
}

func (cp *ControlPlane) serviceAccountToken(ctx context.Context, namespace, name string, validity time.Duration) (string, error) {
	tr, err := cp.client.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(validity.Seconds()))},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", namespace, name, err)
	}
	return tr.Status.Token, nil
}

// Kubectl runs the built kubectl as the cluster administrator.
func (cp *ControlPlane) Kubectl(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	return cp.KubectlInput(ctx, "", args...)
}

// KubectlInput is Kubectl with stdin (e.g. for `apply -f -`).
func (cp *ControlPlane) KubectlInput(ctx context.Context, stdin string, args ...string) (stdout, stderr string, err error) {
	full := append([]string{
		"--kubeconfig=" + cp.adminKubeconfig,
		// A discovery cache per cluster: ports are reused between clusters, and a shared cache in
		// $HOME could describe another cluster's API.
		"--cache-dir=" + filepath.Join(cp.dir, "kubectl-cache"),
	}, args...)
	cmd := exec.CommandContext(ctx, cp.tools.Kubectl, full...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errOut.String()))
	}
	return out.String(), errOut.String(), err
}
