package framework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// What a real node's pods expect of a cluster beyond the kubelet: DNS names for Services and pods
// (CoreDNS), cluster IPs that route (kube-proxy in iptables mode), and claims that bind to volumes
// the pods can write (a provisioner of local volumes on the node). CoreDNS and kube-proxy run on
// this machine as processes, as they would on a node's host network.

const (
	clusterDomain = "cluster.local"
	// clusterDNSPort is where CoreDNS answers, on the node's address: the port pods' resolv.conf
	// implies, and one that nothing else here uses on an address that is ours.
	clusterDNSPort = 53
	// RealNodeStorageClass provisions a directory on the real node per claim, as a `local`
	// PersistentVolume, which (unlike hostPath) the kubelet gives the pod's fsGroup, so that the
	// non-root etcd and tablet pods can write to their claims. It is the default StorageClass when
	// the real node is the only node.
	RealNodeStorageClass = "real-node-local"
	realNodeProvisioner  = "vitess-apiserver.test/real-node-local"
)

// startClusterDNS runs CoreDNS for the cluster domain on the node's address, with the identity and
// permissions the cluster DNS add-on has, forwarding every other name to this machine's resolver.
func (cp *ControlPlane) startClusterDNS(ctx context.Context) error {
	n := cp.realNode
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "vitess-local:coredns"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"endpoints", "services", "pods", "namespaces"}, Verbs: []string{"list", "watch"}},
			{APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"}, Verbs: []string{"list", "watch"}},
		},
	}
	kubeconfig, err := cp.componentKubeconfig(ctx, "coredns", "system:coredns", role)
	if err != nil {
		return err
	}
	// Where CoreDNS reports that it has synced with kube-apiserver.
	readyPort, err := freePort()
	if err != nil {
		return err
	}
	corefile := fmt.Sprintf(`.:%d {
    bind %s
    errors
    ready 127.0.0.1:%d
    kubernetes %s in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 5
    loadbalance
}
`, clusterDNSPort, RealNodeIP, readyPort, clusterDomain, kubeconfig)
	path := filepath.Join(n.dir, "Corefile")
	if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
		return err
	}
	if err := cp.startRecorded(func(p *process) { n.dns = p }, "coredns", cp.tools.CoreDNS, "-conf", path); err != nil {
		return err
	}
	url := "http://" + loopback(readyPort) + "/ready"
	return cp.poll(ctx, "CoreDNS "+url, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, http.DefaultClient, url), nil
	})
}

// startKubeProxy runs kube-proxy for the node in iptables mode. It leaves this machine's sysctls
// alone (conntrack sizes and timeouts, route_localnet) and serves NodePorts on the node's address
// only; stopRealNode removes its rules.
func (cp *ControlPlane) startKubeProxy(ctx context.Context) error {
	n := cp.realNode
	// system:kube-proxy is bound to system:node-proxier by Kubernetes' bootstrap policy.
	kubeconfig, err := cp.componentKubeconfig(ctx, "kube-proxy", "system:kube-proxy", nil)
	if err != nil {
		return err
	}
	healthz, err := freePort()
	if err != nil {
		return err
	}
	metrics, err := freePort()
	if err != nil {
		return err
	}
	config := fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection:
  kubeconfig: %q
hostnameOverride: %s
mode: iptables
clusterCIDR: %s
healthzBindAddress: %q
metricsBindAddress: %q
nodePortAddresses: ["%s/32"]
iptables:
  localhostNodePorts: false
conntrack:
  maxPerCore: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, kubeconfig, RealNodeName, realNodePodSubnet, loopback(healthz), loopback(metrics), RealNodeIP)
	path := filepath.Join(n.dir, "kube-proxy.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		return err
	}
	n.kubeProxyConfig = path
	if err := cp.startRecorded(func(p *process) { n.kubeProxy = p }, "kube-proxy", cp.tools.KubeProxy, "--config="+path); err != nil {
		return err
	}
	url := "http://" + loopback(healthz) + "/healthz"
	return cp.poll(ctx, "kube-proxy "+url, func(ctx context.Context) (bool, error) {
		return httpOK(ctx, http.DefaultClient, url), nil
	})
}

// removeKubeProxyRules deletes the chains and rules kube-proxy added to this machine's firewall.
func (cp *ControlPlane) removeKubeProxyRules() {
	n := cp.realNode
	if n.kubeProxyConfig == "" {
		return
	}
	log, err := os.OpenFile(filepath.Join(cp.LogDir(), "kube-proxy-cleanup.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer log.Close()
	cmd := exec.Command(cp.tools.KubeProxy, "--config="+n.kubeProxyConfig, "--cleanup")
	cmd.Stdout, cmd.Stderr = log, log
	_ = cmd.Run()
	// --cleanup leaves the KUBE-FIREWALL chain (which kube-proxy shares with kubelets) empty, and
	// the jumps to it. Deleting the chain fails, harmlessly, if anything still uses it.
	for _, tool := range []string{"iptables", "ip6tables"} {
		for _, args := range [][]string{{"-D", "INPUT", "-j", "KUBE-FIREWALL"}, {"-D", "OUTPUT", "-j", "KUBE-FIREWALL"}, {"-X", "KUBE-FIREWALL"}} {
			cmd := exec.Command(tool, args...)
			cmd.Stdout, cmd.Stderr = log, log
			_ = cmd.Run()
		}
	}
}

// componentKubeconfig writes a kubeconfig for a node component authenticating as user with a
// client certificate, after granting role (when not nil) to that user.
func (cp *ControlPlane) componentKubeconfig(ctx context.Context, name, user string, role *rbacv1.ClusterRole) (string, error) {
	if role != nil {
		binding := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: role.Name},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}},
		}
		if _, err := cp.client.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", err
		}
		if _, err := cp.client.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return "", err
		}
	}
	certPEM, keyPEM, err := cp.ca.issue(certSpec{commonName: user, client: true})
	if err != nil {
		return "", err
	}
	path := filepath.Join(cp.realNode.dir, name+".kubeconfig")
	return path, writeKubeconfig(path, cp.url, cp.ca.CertPEM, &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM})
}

// resolvConf is a resolv.conf that sends a process's lookups to the cluster DNS, with the search
// path of a pod in the server's namespace, so that a process on this machine (our server, which
// dials vtctld by its Service name) resolves names as it would in a pod.
func (n *realNode) resolvConf() (string, error) {
	path := filepath.Join(n.dir, "resolv.conf")
	conf := fmt.Sprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n", RealNodeIP, ServerNamespace, clusterDomain, clusterDomain, clusterDomain)
	return path, os.WriteFile(path, []byte(conf), 0o644)
}

// withClusterDNS wraps a command line so that it runs in a mount namespace of its own in which
// /etc/resolv.conf is the cluster's (see resolvConf): the machine's own resolver is left alone.
// unshare and sh exec in place, so the process keeps the PID it was started with.
func withClusterDNS(resolvConf, bin string, args ...string) (string, []string) {
	script := `mount --bind "$0" /etc/resolv.conf && exec "$@"`
	return "unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, resolvConf, bin}, args...)
}

func (cp *ControlPlane) createRealNodeStorageClass(ctx context.Context, isDefault bool) error {
	return cp.createStorageClass(ctx, &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: RealNodeStorageClass},
		Provisioner:       realNodeProvisioner,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
	}, isDefault)
}

// provisionLocalVolumes is the real node's provisioner, until ctx ends: every pending claim of
// RealNodeStorageClass gets a directory under the node's volumes/ and a `local` PersistentVolume
// on the node, bound to the claim; a released volume's directory and object are deleted, as its
// reclaim policy says. Polling keeps it small; a claim binds within a second.
func (cp *ControlPlane) provisionLocalVolumes(ctx context.Context) {
	for {
		if err := cp.provisionLocalVolumesOnce(ctx); err != nil && ctx.Err() == nil {
			cp.opts.Logf("real node provisioner: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (cp *ControlPlane) provisionLocalVolumesOnce(ctx context.Context) error {
	core := cp.client.CoreV1()
	claims, err := core.PersistentVolumeClaims(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var errs []error
	for i := range claims.Items {
		claim := &claims.Items[i]
		if ptr.Deref(claim.Spec.StorageClassName, "") != RealNodeStorageClass || claim.Spec.VolumeName != "" || claim.DeletionTimestamp != nil {
			continue
		}
		errs = append(errs, cp.provisionLocalVolume(ctx, claim))
	}
	volumes, err := core.PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, pv := range volumes.Items {
		if pv.Annotations["pv.kubernetes.io/provisioned-by"] != realNodeProvisioner || pv.Status.Phase != corev1.VolumeReleased ||
			pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
			continue
		}
		if err := os.RemoveAll(pv.Spec.Local.Path); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := core.PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (cp *ControlPlane) provisionLocalVolume(ctx context.Context, claim *corev1.PersistentVolumeClaim) error {
	name := "pvc-" + string(claim.UID)
	dir := filepath.Join(cp.realNode.volumesDir(), name)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	capacity := claim.Spec.Resources.Requests[corev1.ResourceStorage]
	if capacity.IsZero() {
		capacity = resource.MustParse("1Gi")
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"pv.kubernetes.io/provisioned-by": realNodeProvisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: capacity},
			AccessModes:                   claim.Spec.AccessModes,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete,
			StorageClassName:              RealNodeStorageClass,
			VolumeMode:                    claim.Spec.VolumeMode,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace, Name: claim.Name, UID: claim.UID,
			},
			PersistentVolumeSource: corev1.PersistentVolumeSource{Local: &corev1.LocalVolumeSource{Path: dir}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{RealNodeName}}},
			}}}},
		},
	}
	if _, err := cp.client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("provisioning %s/%s: %w", claim.Namespace, claim.Name, err)
	}
	return nil
}

func (n *realNode) volumesDir() string { return filepath.Join(n.dir, "volumes") }
