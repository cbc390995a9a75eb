package framework

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// A real node is this machine running the kubelet, containerd and runc, with pods on a CNI bridge,
// so that pods scheduled there really run, from images hack/build-images.sh assembled and
// containerd imported (no registry is reachable). It needs root, as any node does.

const (
	// RealNodeName is the node Options.RealNode adds.
	RealNodeName = "real-node-0"
	// RealNodeTaintKey is the real node's NoSchedule taint: only pods that tolerate it run there,
	// so pods meant for kwok nodes never land on it.
	RealNodeTaintKey = "vitess-apiserver.test/real-node"
)

// RealNodeIP is the real node's bridge address: the pods' gateway, and the node's InternalIP, on
// which the kubelet serves kube-apiserver (logs, exec). A server the test process runs on it while
// the real node runs (an object store) is reachable from the node's Pods.
const RealNodeIP = "10.244.0.1"

// The real node's network interface and addresses are machine-wide names: one real node runs on a
// machine at a time, serialised by a lock file in os.TempDir().
const (
	realNodeBridge    = "vtnode0"
	realNodePodSubnet = "10.244.0.0/24"
	realNodeLockFile  = "vitess-apiserver-real-node.lock"
	// kubeletClientUser is the identity kube-apiserver presents to kubelets.
	kubeletClientUser = "kube-apiserver-kubelet-client"
	// realNodeDrainTimeout bounds how long Stop waits for the kubelet to stop the node's pods.
	realNodeDrainTimeout = time.Minute
)

// OnRealNode makes a pod run on the real node: it selects the node and tolerates its taint.
func OnRealNode(spec *corev1.PodSpec) {
	if spec.NodeSelector == nil {
		spec.NodeSelector = map[string]string{}
	}
	spec.NodeSelector[corev1.LabelHostname] = RealNodeName
	spec.Tolerations = append(spec.Tolerations, corev1.Toleration{Key: RealNodeTaintKey, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
}

// nodeImages are what hack/build-images.sh assembled.
type nodeImages struct {
	// sandbox is the pod sandbox (pause) image's name.
	sandbox string
	// tarballs are the image tarballs to import.
	tarballs []string
}

// ensureNodeImages returns the real node's images, assembling them with hack/build-images.sh
// unless they are cached (which takes a minute or so the first time).
func ensureNodeImages(repoRoot string) (nodeImages, error) {
	cmd := exec.Command("bash", filepath.Join(repoRoot, "hack", "build-images.sh"))
	cmd.Dir = repoRoot
	cmd.Stderr = os.Stderr // progress, when it builds
	out, err := cmd.Output()
	if err != nil {
		return nodeImages{}, fmt.Errorf("hack/build-images.sh: %w\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	dir := lines[len(lines)-1]
	list, err := os.ReadFile(filepath.Join(dir, "images.txt"))
	if err != nil {
		return nodeImages{}, err
	}
	var images nodeImages
	for _, line := range strings.Split(strings.TrimSpace(string(list)), "\n") {
		_, tarball, ok := strings.Cut(line, " ")
		if !ok {
			return nodeImages{}, fmt.Errorf("%s/images.txt: unexpected line %q", dir, line)
		}
		images.tarballs = append(images.tarballs, filepath.Join(dir, tarball))
	}
	pause, err := libVars(repoRoot, "PAUSE_IMAGE")
	if err != nil {
		return nodeImages{}, err
	}
	images.sandbox = pause[0]
	return images, nil
}

// realNode is the running node: containerd and the kubelet, with their files in dir.
type realNode struct {
	dir    string
	images nodeImages
	unlock func()
	// The node's processes, set once started, under the control plane's mutex.
	containerd, kubelet, dns, kubeProxy *process
	// kubeProxyConfig is kube-proxy's configuration file, once written; its --cleanup needs it.
	kubeProxyConfig string
	// stopProvisioner ends provisionLocalVolumes.
	stopProvisioner context.CancelFunc
}

func (n *realNode) containerdSocket() string {
	return filepath.Join(n.dir, "containerd", "containerd.sock")
}

// prepareRealNode installs what the node runs (hack/node-deps.sh), has its images assembled, and
// waits until no other real node runs on this machine. Start calls it before anything starts, so
// that a missing piece fails fast.
func (cp *ControlPlane) prepareRealNode() error {
	if os.Geteuid() != 0 {
		return errors.New("a real node needs root (the kubelet, containerd and CNI manage mounts, cgroups and network interfaces)")
	}
	deps := exec.Command("bash", filepath.Join(cp.repoRoot, "hack", "node-deps.sh"))
	if out, err := deps.CombinedOutput(); err != nil {
		return fmt.Errorf("hack/node-deps.sh: %w\n%s", err, out)
	}
	images, err := ensureNodeImages(cp.repoRoot)
	if err != nil {
		return err
	}
	lock := filepath.Join(os.TempDir(), realNodeLockFile)
	unlock, err := tryLockFile(lock)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		cp.opts.Logf("another real node runs on this machine: waiting until it stops (%s)", lock)
		unlock, err = lockFile(lock)
	}
	if err != nil {
		return err
	}
	cp.realNode = &realNode{dir: filepath.Join(cp.dir, "node"), images: images, unlock: unlock}
	return nil
}

// startRealNode brings up the node's network, containerd with the images, and the kubelet, which
// registers the node; Start then waits for it to be Ready.
func (cp *ControlPlane) startRealNode(ctx context.Context) error {
	n := cp.realNode
	for _, d := range []string{"containerd", "cni", "kubelet", "pod-logs"} {
		if err := os.MkdirAll(filepath.Join(n.dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := createBridge(); err != nil {
		return err
	}
	if err := cp.startContainerd(ctx); err != nil {
		return err
	}
	started := time.Now()
	for _, tarball := range n.images.tarballs {
		if out, err := n.ctr(ctx, "images", "import", "--all-platforms", tarball); err != nil {
			return fmt.Errorf("importing %s: %w\n%s", tarball, err, out)
		}
	}
	cp.opts.Logf("imported %d images into the real node's containerd in %s", len(n.images.tarballs), time.Since(started).Round(time.Millisecond))
	if err := cp.startKubelet(ctx); err != nil {
		return err
	}
	if err := cp.startClusterDNS(ctx); err != nil {
		return err
	}
	if err := cp.startKubeProxy(ctx); err != nil {
		return err
	}
	provisionerCtx, stop := context.WithCancel(context.Background())
	n.stopProvisioner = stop
	go cp.provisionLocalVolumes(provisionerCtx)
	return nil
}

// createBridge creates the bridge the CNI plugin attaches pods to, with the node's address, so that
// the kubelet can serve on it before the first pod exists. Cluster IPs are routed to it too: a
// connection to a Service kube-proxy has not programmed yet then fails, as in a cluster, instead
// of leaving by this machine's default route, where a transparent proxy may answer it (and a gRPC
// client would keep that connection). A bridge left by a run that was killed
// is replaced: we hold the machine's real-node lock, so nobody else uses it.
func createBridge() error {
	_ = exec.Command("ip", "link", "delete", realNodeBridge).Run()
	for _, args := range [][]string{
		{"link", "add", "name", realNodeBridge, "type", "bridge"},
		{"addr", "add", RealNodeIP + "/24", "dev", realNodeBridge},
		{"link", "set", realNodeBridge, "up"},
		{"route", "add", serviceSubnet, "dev", realNodeBridge},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
	}
	return nil
}

func (cp *ControlPlane) startContainerd(ctx context.Context) error {
	n := cp.realNode
	dir := filepath.Join(n.dir, "containerd")
	// Its own root, state and socket, so that it shares nothing with a containerd of the machine;
	// everything not set keeps containerd's default.
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # Lowering a process's oom_score_adj is denied on this kind of machine: without this, runc fails
  # every sandbox with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
  # How each registry is reached (hosts.toml per registry host, see TrustRegistry).
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = %q
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      Root = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), n.containerdSocket(), filepath.Join(dir, "opt"),
		n.images.sandbox, filepath.Join(n.dir, "cni"), n.registryHostsDir(), filepath.Join(dir, "runc"))
	configPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(configPath, []byte(config), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(n.dir, "cni", "10-bridge.conflist"), cniConfig(filepath.Join(n.dir, "cni-ipam")), 0o644); err != nil {
		return err
	}
	if err := cp.startRecorded(func(p *process) { n.containerd = p }, "containerd", "containerd", "--config="+configPath); err != nil {
		return err
	}
	return cp.poll(ctx, "containerd", func(ctx context.Context) (bool, error) {
		_, err := n.ctr(ctx, "version")
		return err == nil, nil
	})
}

func (n *realNode) registryHostsDir() string { return filepath.Join(n.dir, "containerd", "certs.d") }

// TrustRegistry lets the real node's containerd pull images from the registry at host (as a
// Registry serves it, on loopback and without TLS), as a node is configured for a private
// registry.
func (cp *ControlPlane) TrustRegistry(host string) error {
	if cp.realNode == nil {
		return errors.New("the control plane has no real node")
	}
	dir := filepath.Join(cp.realNode.registryHostsDir(), host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	hosts := fmt.Sprintf("server = %q\n\n[host.%q]\n  capabilities = [\"pull\", \"resolve\"]\n", "http://"+host, "http://"+host)
	return os.WriteFile(filepath.Join(dir, "hosts.toml"), []byte(hosts), 0o644)
}

// cniConfig puts pods on the bridge with addresses from realNodePodSubnet, recorded in ipamDir
// rather than the machine's /var/lib/cni. No masquerading: pods need nothing beyond this machine.
func cniConfig(ipamDir string) []byte {
	config, err := json.MarshalIndent(map[string]any{
		"cniVersion": "0.4.0",
		"name":       "vitess-real-node",
		"plugins": []map[string]any{
			{
				"type":        "bridge",
				"bridge":      realNodeBridge,
				"isGateway":   true,
				"hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": realNodePodSubnet, "gateway": RealNodeIP}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": ipamDir,
				},
			},
			{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}, "", "  ")
	if err != nil {
		panic(err) // plain maps always marshal
	}
	return config
}

// ctr runs containerd's client against the node's containerd, in the namespace the CRI uses.
func (n *realNode) ctr(ctx context.Context, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, "ctr", append([]string{"--address", n.containerdSocket(), "--namespace", "k8s.io"}, args...)...).CombinedOutput()
}

func (cp *ControlPlane) startKubelet(ctx context.Context) error {
	n := cp.realNode
	// Registered through the Node authorizer and NodeRestriction admission, as a kubelet is.
	certPEM, keyPEM, err := cp.ca.issue(certSpec{commonName: "system:node:" + RealNodeName, organizations: []string{"system:nodes"}, client: true})
	if err != nil {
		return err
	}
	kubeconfig := filepath.Join(n.dir, "kubelet.kubeconfig")
	if err := writeKubeconfig(kubeconfig, cp.url, cp.ca.CertPEM, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}); err != nil {
		return err
	}
	// The kubelet authorises kube-apiserver's requests (logs, exec) with a SubjectAccessReview.
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "vitess-local:" + kubeletClientUser},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:kubelet-api-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: kubeletClientUser}},
	}
	if _, err := cp.client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	healthzPort, err := freePort()
	if err != nil {
		return err
	}
	// Tainted only beside kwok nodes: alone, it takes every pod, as a one-node cluster's node does.
	config := kubeletConfig(n, port, healthzPort, cp.caFile, cp.opts.Nodes > 0)
	configPath := filepath.Join(n.dir, "kubelet-config.json")
	if err := os.WriteFile(configPath, config, 0o644); err != nil {
		return err
	}
	return cp.startRecorded(func(p *process) { n.kubelet = p }, "kubelet", cp.tools.Kubelet,
		"--config="+configPath,
		"--kubeconfig="+kubeconfig,
		"--root-dir="+filepath.Join(n.dir, "kubelet"),
		"--cert-dir="+filepath.Join(n.dir, "kubelet", "pki"), // not derived from --root-dir
		"--hostname-override="+RealNodeName,
		"--node-ip="+RealNodeIP,
	)
}

// kubeletConfig is the kubelet's configuration, as it runs on this kind of machine (cgroup v1, no
// swap accounting, no control over its own oom_score_adj), with every path in the node's
// directory and its ports free ones, so that it disturbs nothing else here.
func kubeletConfig(n *realNode, port, healthzPort int, clientCAFile string, tainted bool) []byte {
	var taints []corev1.Taint
	if tainted {
		taints = []corev1.Taint{{Key: RealNodeTaintKey, Effect: corev1.TaintEffectNoSchedule}}
	}
	config, err := json.MarshalIndent(map[string]any{
		"apiVersion":               "kubelet.config.k8s.io/v1beta1",
		"kind":                     "KubeletConfiguration",
		"address":                  RealNodeIP,
		"port":                     port,
		"readOnlyPort":             0,
		"healthzBindAddress":       "127.0.0.1",
		"healthzPort":              healthzPort,
		"containerRuntimeEndpoint": "unix://" + n.containerdSocket(),
		"authentication": map[string]any{
			"anonymous": map[string]bool{"enabled": false},
			"webhook":   map[string]bool{"enabled": true},
			"x509":      map[string]string{"clientCAFile": clientCAFile},
		},
		"authorization":                 map[string]string{"mode": "Webhook"},
		"registerWithTaints":            taints,
		"cgroupDriver":                  "cgroupfs",
		"failCgroupV1":                  false,
		"failSwapOn":                    false,
		"cgroupsPerQOS":                 false,
		"enforceNodeAllocatable":        []string{},
		"localStorageCapacityIsolation": false,
		"clusterDomain":                 clusterDomain,
		"clusterDNS":                    []string{RealNodeIP},
		"podLogsDir":                    filepath.Join(n.dir, "pod-logs"),
		"volumePluginDir":               filepath.Join(n.dir, "volume-plugins"),
		// Image garbage collection off: a collected image could not be pulled again.
		"imageGCHighThresholdPercent": 100,
		"imageGCLowThresholdPercent":  99,
		// Evict only when truly short: the disk and memory are shared with everything else here.
		"evictionHard": map[string]string{"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
		// The chains it would add (one drops packets to 127.0.0.0/8 from other addresses, for
		// kube-proxy's sake) would change this machine's firewall for everyone.
		"makeIPTablesUtilChains": false,
	}, "", "  ")
	if err != nil {
		panic(err) // plain maps always marshal
	}
	return config
}

// stopRealNode tears the node down so that nothing of it outlives the control plane: the kubelet
// stops the node's pods (cordoned first, so that controllers' replacements stay pending), then
// the kubelet and containerd stop, and whatever a failure left behind (containers, shims, mounts,
// the bridge) is removed. Stop calls it while kube-apiserver still runs.
func (cp *ControlPlane) stopRealNode() {
	n := cp.realNode
	if n.stopProvisioner != nil {
		n.stopProvisioner()
	}
	cp.drainRealNode()
	cp.mu.Lock()
	containerd, kubelet, dns, kubeProxy := n.containerd, n.kubelet, n.dns, n.kubeProxy
	cp.mu.Unlock()
	for _, p := range []*process{kubeProxy, dns, kubelet} {
		if p != nil {
			p.stop()
		}
	}
	cp.removeKubeProxyRules()
	if containerd != nil {
		n.killContainers()
		containerd.stop()
	}
	killShims(func(socket string) bool { return socket == n.containerdSocket() })
	unmountUnder(n.dir)
	_ = exec.Command("ip", "link", "delete", realNodeBridge).Run()
	n.removeMachineFiles()
	// Unpacked images, container state and the pods' volumes are of no use once stopped (Start
	// imports afresh), and they are large; the logs stay.
	_ = os.RemoveAll(filepath.Join(n.dir, "containerd"))
	_ = os.RemoveAll(n.volumesDir())
	n.unlock()
}

// removeMachineFiles removes what the kubelet leaves outside its directories, at paths it does not
// let us choose: its device-plugin registration socket, and the links in /var/log/containers to
// its containers' logs.
func (n *realNode) removeMachineFiles() {
	_ = os.Remove("/var/lib/kubelet/device-plugins/kubelet.sock")
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, link := range links {
		if target, err := os.Readlink(link); err == nil && strings.HasPrefix(target, n.dir+"/") {
			_ = os.Remove(link)
		}
	}
}

func (cp *ControlPlane) drainRealNode() {
	ctx, cancel := context.WithTimeout(context.Background(), realNodeDrainTimeout)
	defer cancel()
	nodes := cp.client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, RealNodeName, metav1.GetOptions{})
	if err != nil {
		return // never registered
	}
	node.Spec.Unschedulable = true
	_, _ = nodes.Update(ctx, node, metav1.UpdateOptions{})
	onNode := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", RealNodeName).String()}
	for ctx.Err() == nil {
		pods, err := cp.client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, onNode)
		if err != nil || len(pods.Items) == 0 {
			return
		}
		for _, pod := range pods.Items {
			if pod.DeletionTimestamp == nil {
				// Not zero: that would remove the object at once, without waiting for the kubelet.
				_ = cp.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](1)})
			}
		}
		time.Sleep(time.Second)
	}
}

// killContainers kills and deletes the containers containerd still runs (the kubelet stopped
// before it could), so that no container process outlives the node.
func (n *realNode) killContainers() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := n.ctr(ctx, "tasks", "list", "--quiet")
	if err != nil {
		return
	}
	for _, id := range strings.Fields(string(out)) {
		_, _ = n.ctr(ctx, "tasks", "kill", "--signal", "SIGKILL", id)
		_, _ = n.ctr(ctx, "tasks", "delete", "--force", id)
	}
}

// RemoveClusterDir removes the directory of a control plane that may have had a real node, even
// when the run that made it was killed before it could stop its node: the containers' shims are
// killed and the mounts below dir detached first.
func RemoveClusterDir(dir string) error {
	killShims(func(socket string) bool { return strings.HasPrefix(socket, dir+"/") })
	unmountUnder(dir)
	return os.RemoveAll(dir)
}

// killShims kills the containerd shims still running for a containerd whose socket ours says is
// one of ours: shims leave containerd's process group on purpose, so stopping containerd does not
// stop them.
func killShims(ours func(socket string) bool) {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", p.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") && slices.ContainsFunc(args, ours) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// unmountUnder detaches every mount below dir (pod volumes, container root filesystems, sandbox
// /dev/shm), deepest first, so that the directory can be removed.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mounts []string
	scanner := bufio.NewScanner(bytes.NewReader(data))
	for scanner.Scan() {
		fields := strings.Fields(scanner.Text())
		if len(fields) < 5 {
			continue
		}
		// Octal escapes (\040 for a space) never occur in the paths we create.
		if point := fields[4]; strings.HasPrefix(point, dir+"/") {
			mounts = append(mounts, point)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(mounts)))
	for _, point := range mounts {
		_ = syscall.Unmount(point, syscall.MNT_DETACH)
	}
}
