package framework

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// Names shared with artifacts/install.yaml.
const (
	ServerNamespace      = "vitess-system"
	ServerName           = "vitess-apiserver"
	APIGroup             = "vitess.planetscale.com"
	APIVersion           = "v1alpha1"
	APIServiceName       = APIVersion + "." + APIGroup
	serverServiceDNSName = ServerName + "." + ServerNamespace + ".svc"
)

var apiServicesGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// ServerOptions configure StartVitessAPIServer.
type ServerOptions struct {
	// Binary is the server to run; empty means BuildServer, once per test binary.
	Binary string
	// Name tells replicas apart: the server's log, audit log, serving certificate, kubeconfig
	// and default DataDir are named after it. Empty means vitess-apiserver.
	Name string
	// DataDir is passed as --data-dir (embedded etcd lives there). Empty means <Dir>/<Name>.
	// Restart keeps it; pass the same DataDir to a new server to test recovery from a previous
	// server's data.
	DataDir string
	// EtcdServers are passed as --etcd-servers: replicas given the same etcd serve the same
	// objects. Empty means the embedded etcd in DataDir, which only one server can use.
	EtcdServers []string
	// Standby leaves the APIService pointing where it does, as for a second replica that the
	// aggregator does not route to until Register points it there.
	Standby bool
	// Port is the secure port on 127.0.0.1; 0 means a free one.
	Port int
	// ExtraArgs are appended to the server's flags.
	ExtraArgs []string
}

// Server is our aggregated API server running as a local process, registered with the control
// plane's aggregator through APIService v1alpha1.vitess.planetscale.com.
type Server struct {
	cp             *ControlPlane
	name           string
	binary         string
	args           []string
	port           int
	dataDir        string
	kubeconfigPath string
	auditLogPath   string
	logPath        string
	caPEM          []byte

	// guarded by cp.mu
	proc    *process
	stopped bool
}

// StartVitessAPIServer runs our server the way the shipped manifests run it: as ServiceAccount
// vitess-system/vitess-apiserver with the RBAC from artifacts/deploy/rbac*.yaml, delegating
// authentication and authorization to kube-apiserver, reached by the aggregator through an
// APIService. It returns once the API is served through kube-apiserver, or once the server
// serves on its own port if it is on standby (ServerOptions.Standby).
func (cp *ControlPlane) StartVitessAPIServer(ctx context.Context, opts ServerOptions) (*Server, error) {
	name := opts.Name
	if name == "" {
		name = ServerName
	}
	s := &Server{
		cp:             cp,
		name:           name,
		binary:         opts.Binary,
		port:           opts.Port,
		dataDir:        opts.DataDir,
		kubeconfigPath: filepath.Join(cp.dir, name+".kubeconfig"),
		auditLogPath:   filepath.Join(cp.dir, "audit", name+".log"),
		logPath:        filepath.Join(cp.LogDir(), name+".log"),
	}
	var err error
	if s.binary == "" {
		if s.binary, err = buildServerOnce(cp.repoRoot); err != nil {
			return nil, err
		}
	}
	if s.dataDir == "" {
		s.dataDir = filepath.Join(cp.dir, name)
	}
	if s.dataDir, err = filepath.Abs(s.dataDir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return nil, err
	}
	if s.port == 0 {
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
	}
	if err := cp.setUpServerIdentity(ctx, s.kubeconfigPath); err != nil {
		return nil, err
	}
	certFile, keyFile, err := s.writeServingCert()
	if err != nil {
		return nil, err
	}
	s.args = append([]string{
		"--secure-port=" + strconv.Itoa(s.port),
		"--bind-address=127.0.0.1",
		"--tls-cert-file=" + certFile,
		"--tls-private-key-file=" + keyFile,
		"--kubeconfig=" + s.kubeconfigPath,
		"--authentication-kubeconfig=" + s.kubeconfigPath,
		"--authorization-kubeconfig=" + s.kubeconfigPath,
		"--audit-log-path=" + s.auditLogPath,
		"--audit-log-maxsize=0", // never rotated, as kube-apiserver's
		"--audit-policy-file=" + cp.auditPolicy,
		"--data-dir=" + s.dataDir,
	}, opts.ExtraArgs...)
	if len(opts.EtcdServers) > 0 {
		s.args = append(s.args, "--etcd-servers="+strings.Join(opts.EtcdServers, ","))
	}

	cp.mu.Lock()
	if cp.stopped {
		cp.mu.Unlock()
		return nil, errors.New("control plane is stopped")
	}
	cp.servers = append(cp.servers, s)
	cp.mu.Unlock()

	if err := s.launch(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	if opts.Standby {
		cp.opts.Logf("%s serving %s/%s on %s, on standby: not registered (log %s)", name, APIGroup, APIVersion, s.URL(), s.logPath)
		return s, nil
	}
	if err := s.Register(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	cp.opts.Logf("%s serving %s/%s on %s, registered as APIService %s (log %s)", name, APIGroup, APIVersion, s.URL(), APIServiceName, s.logPath)
	return s, nil
}

// Register points the APIService at this server, as a Service's endpoints would move to a live
// replica, and waits until the aggregator serves the API through it.
func (s *Server) Register(ctx context.Context) error {
	if err := s.cp.registerAPIService(ctx, s); err != nil {
		return err
	}
	s.cp.mu.Lock()
	s.cp.registered = s
	s.cp.mu.Unlock()
	return s.WaitAvailable(ctx)
}

// setUpServerIdentity creates the server's namespace and ServiceAccount, grants it the shipped RBAC
// and writes a kubeconfig with a token for it.
func (cp *ControlPlane) setUpServerIdentity(ctx context.Context, kubeconfigPath string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ServerNamespace}}
	if _, err := cp.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: ServerName, Namespace: ServerNamespace}}
	if _, err := cp.client.CoreV1().ServiceAccounts(ServerNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	rbac, err := shippedRBAC(filepath.Join(cp.repoRoot, "artifacts", "install.yaml"))
	if err != nil {
		return err
	}
	if _, _, err := cp.KubectlInput(ctx, rbac, "apply", "-f", "-"); err != nil {
		return fmt.Errorf("applying the shipped RBAC: %w", err)
	}
	cp.opts.Logf("applied the RBAC of artifacts/install.yaml")
	// A long-lived token: the server may run for the whole life of a local cluster, and a real pod
	// would have its projected token refreshed by the kubelet, which we do not have.
	token, err := cp.serviceAccountToken(ctx, ServerNamespace, ServerName, 365*24*time.Hour)
	if err != nil {
		return err
	}
	return writeKubeconfig(kubeconfigPath, cp.url, cp.ca.CertPEM, &clientcmdapi.AuthInfo{Token: token})
}

// shippedRBAC is the Roles, ClusterRoles and their bindings of the install manifest at path, as
// a YAML stream: what the server's ServiceAccount and its users are granted when it is installed.
func shippedRBAC(path string) (string, error) {
	file, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer file.Close()
	decoder := utilyaml.NewYAMLOrJSONDecoder(file, 4096)
	var documents []string
	for {
		var object map[string]any
		if err := decoder.Decode(&object); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		switch object["kind"] {
		case "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding":
			document, err := json.Marshal(object)
			if err != nil {
				return "", err
			}
			documents = append(documents, string(document))
		}
	}
	if len(documents) == 0 {
		return "", fmt.Errorf("%s holds no RBAC", path)
	}
	return strings.Join(documents, "\n---\n"), nil
}

// writeServingCert issues the server's certificate from a CA of its own, as an installation would
// (the APIService's caBundle names that CA). The aggregator verifies it against
// <service>.<namespace>.svc whatever address it dials.
func (s *Server) writeServingCert() (certFile, keyFile string, err error) {
	dir := filepath.Join(s.cp.dir, s.name+"-pki")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	ca, err := newCA(ServerName + "-ca")
	if err != nil {
		return "", "", err
	}
	if _, _, err := ca.writeTo(dir, "ca"); err != nil {
		return "", "", err
	}
	s.caPEM = ca.CertPEM
	return ca.issueToFiles(dir, "serving", certSpec{
		commonName: serverServiceDNSName,
		dnsNames:   []string{serverServiceDNSName, serverServiceDNSName + ".cluster.local", ServerName, "localhost"},
		ips:        []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		server:     true,
	})
}

// launch starts the process and waits for its own /readyz.
func (s *Server) launch(ctx context.Context) error {
	cp := s.cp
	cp.mu.Lock()
	if cp.stopped {
		cp.mu.Unlock()
		return errors.New("control plane is stopped")
	}
	bin, args := s.binary, s.args
	if cp.realNode != nil {
		// As in a pod: the server dials vtctld by its Service name.
		resolvConf, err := cp.realNode.resolvConf()
		if err != nil {
			cp.mu.Unlock()
			return err
		}
		bin, args = withClusterDNS(resolvConf, bin, args...)
	}
	p, err := startProcess(s.name, s.logPath, bin, args...)
	if err == nil {
		s.proc, s.stopped = p, false
	}
	cp.mu.Unlock()
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverServiceDNSName}}}
	defer client.CloseIdleConnections()
	return cp.poll(ctx, s.name+" /readyz", func(ctx context.Context) (bool, error) {
		return httpOK(ctx, client, s.URL()+"/readyz"), nil
	})
}

// registerAPIService points the aggregator at the server. An APIService can only name a Service,
// and Endpoints/EndpointSlices may not hold loopback addresses; but with
// --enable-aggregator-routing=false the aggregator resolves an ExternalName Service to
// <externalName>:<APIService port> (ResolveCluster in k8s.io/apiserver/pkg/util/proxy) and does not
// look for endpoints of such a Service when checking availability. So an ExternalName Service for
// "localhost" and the server's port in the APIService route the aggregator to 127.0.0.1:<port>.
func (cp *ControlPlane) registerAPIService(ctx context.Context, s *Server) error {
	svcs := cp.client.CoreV1().Services(ServerNamespace)
	existing, err := svcs.Get(ctx, ServerName, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err != nil || existing.Spec.Type != corev1.ServiceTypeExternalName || existing.Spec.ExternalName != "localhost" {
		if err == nil {
			// A Service of another type (e.g. from artifacts/deploy) cannot become an ExternalName
			// one in place without clearing its cluster IP: replace it.
			if err := svcs.Delete(ctx, ServerName, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return err
			}
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: ServerName, Namespace: ServerNamespace},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
		}
		if _, err := svcs.Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Service %s/%s: %w", ServerNamespace, ServerName, err)
		}
	}

	apiService := map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": APIServiceName},
		"spec": map[string]any{
			"group":                APIGroup,
			"version":              APIVersion,
			"groupPriorityMinimum": 1000,
			"versionPriority":      15,
			"caBundle":             base64.StdEncoding.EncodeToString(s.caPEM),
			"service":              map[string]any{"namespace": ServerNamespace, "name": ServerName, "port": s.port},
		},
	}
	body, err := json.Marshal(apiService)
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cp.admin)
	if err != nil {
		return err
	}
	// Server-side apply with force: creates it, or takes over one applied from artifacts/deploy.
	_, err = dyn.Resource(apiServicesGVR).Patch(ctx, APIServiceName, types.ApplyPatchType, body,
		metav1.PatchOptions{FieldManager: "vitess-test-framework", Force: ptr.To(true)})
	if err != nil {
		return fmt.Errorf("applying APIService %s: %w", APIServiceName, err)
	}
	return nil
}

// WaitAvailable waits until the aggregator reports the APIService Available, requests for the
// group version go through kube-apiserver, and kubectl discovers the group's resources.
func (s *Server) WaitAvailable(ctx context.Context) error {
	cp := s.cp
	dyn, err := dynamic.NewForConfig(cp.admin)
	if err != nil {
		return err
	}
	last := ""
	err = cp.poll(ctx, "APIService "+APIServiceName+" to be Available", func(ctx context.Context) (bool, error) {
		obj, err := dyn.Resource(apiServicesGVR).Get(ctx, APIServiceName, metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		status, _ := obj.Object["status"].(map[string]any)
		conditions, _ := status["conditions"].([]any)
		for _, c := range conditions {
			c, _ := c.(map[string]any)
			if c["type"] == "Available" {
				last = fmt.Sprintf("Available=%v %v: %v", c["status"], c["reason"], c["message"])
				if c["status"] != "True" {
					return false, nil
				}
			}
		}
		// The condition may still be True from before a restart: ask through the aggregator too.
		if _, err := cp.client.Discovery().RESTClient().Get().AbsPath("/apis", APIGroup, APIVersion).DoRaw(ctx); err != nil {
			last = "GET /apis/" + APIGroup + "/" + APIVersion + ": " + err.Error()
			return false, nil
		}
		out, _, err := cp.Kubectl(ctx, "api-resources", "--api-group="+APIGroup, "-o", "name")
		if err != nil || strings.TrimSpace(out) == "" {
			last = fmt.Sprintf("kubectl api-resources --api-group=%s: %q %v", APIGroup, out, err)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last: %s); server log %s ends with:\n%s", err, last, s.logPath, tailFile(s.logPath, 20))
	}
	return nil
}

// Stop terminates the server (SIGTERM, then SIGKILL after a grace period). The APIService stays,
// reporting the server unavailable, so that Restart can bring it back.
func (s *Server) Stop() error {
	s.cp.mu.Lock()
	p := s.proc
	s.stopped = true
	s.cp.mu.Unlock()
	if p != nil {
		p.stop()
	}
	return nil
}

// Pid is the server process' id, for a harness that hands it over to another program (make install
// stops make run's server when it takes over).
func (s *Server) Pid() int {
	s.cp.mu.Lock()
	defer s.cp.mu.Unlock()
	return s.proc.cmd.Process.Pid
}

// Kill ends the server at once with SIGKILL, as a crash or a node's loss would: no lease is
// released, no request drained. Restart brings it back.
func (s *Server) Kill() {
	s.cp.mu.Lock()
	p := s.proc
	s.stopped = true
	s.cp.mu.Unlock()
	if p != nil {
		p.kill()
	}
}

// Restart stops the server and starts it again with the same port, data dir and flags, and waits
// until it serves: through the aggregator if the APIService points at it, else on its own port.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.Stop(); err != nil {
		return err
	}
	if err := s.launch(ctx); err != nil {
		return err
	}
	s.cp.mu.Lock()
	registered := s.cp.registered == s
	s.cp.mu.Unlock()
	if !registered {
		return nil
	}
	return s.WaitAvailable(ctx)
}

// Port is the server's secure port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// URL is the server's own address, https://127.0.0.1:<port> (its certificate is for
// vitess-apiserver.vitess-system.svc, signed by CACert). Tests normally go through kube-apiserver.
func (s *Server) URL() string { return "https://" + loopback(s.port) }

// CACert is the PEM of the CA that signed the server's serving certificate (the APIService's caBundle).
func (s *Server) CACert() []byte { return s.caPEM }

// DataDir is the server's --data-dir.
func (s *Server) DataDir() string { return s.dataDir }

// AuditLogPath is the server's own audit log (Metadata level, one JSON event per request).
func (s *Server) AuditLogPath() string { return s.auditLogPath }

// LogPath is the server's stdout/stderr, appended to across restarts.
func (s *Server) LogPath() string { return s.logPath }

// KubeconfigPath is the kubeconfig the server uses: its ServiceAccount's token.
func (s *Server) KubeconfigPath() string { return s.kubeconfigPath }
