package framework_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

func integration(t *testing.T) {
	t.Helper()
	if os.Getenv("VITESS_APISERVER_INTEGRATION") != "1" {
		t.Skip("set VITESS_APISERVER_INTEGRATION=1 to run tests that start a local control plane")
	}
}

// TestControlPlane proves the pieces work together: the controller manager turns a Deployment into
// a Pod, the scheduler places it on the kwok node, and kwok reports it Running; a claim without a
// storage class binds to a volume the hostPath provisioner creates, so a pod using it runs too.
func TestControlPlane(t *testing.T) {
	integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	cp, err := framework.Start(ctx, framework.Options{Dir: t.TempDir(), Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })

	if nodes := cp.Nodes(); len(nodes) != 1 {
		t.Fatalf("nodes = %v, want one", nodes)
	}
	client := cp.Client()
	labels := map[string]string{"app": "smoke"}
	deploy := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(int32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					// Never pulled: kwok only pretends to run it.
					Containers: []corev1.Container{{Name: "main", Image: "example.invalid/smoke:1"}},
					// In case the nodes are created with kwok's taint (Options.TaintNodes).
					Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists}},
				},
			},
		},
	}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, deploy, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	var pod corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		pods, err := client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=smoke"})
		if err != nil || len(pods.Items) != 1 {
			return false, nil
		}
		pod = pods.Items[0]
		return pod.Spec.NodeName != "" && pod.Status.Phase == corev1.PodRunning && framework.PodReady(&pod), nil
	})
	if err != nil {
		t.Fatalf("pod not Running on a kwok node: %v; last seen: node=%q phase=%q conditions=%v", err, pod.Spec.NodeName, pod.Status.Phase, pod.Status.Conditions)
	}
	if pod.Spec.NodeName != cp.Nodes()[0] {
		t.Fatalf("pod scheduled on %q, want %q", pod.Spec.NodeName, cp.Nodes()[0])
	}
	t.Logf("pod %s Running on %s", pod.Name, pod.Spec.NodeName)

	// The Deployment controller reports the replica available: the whole loop closed.
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		d, err := client.AppsV1().Deployments("default").Get(ctx, "smoke", metav1.GetOptions{})
		return err == nil && d.Status.AvailableReplicas == 1, nil
	})
	if err != nil {
		t.Fatalf("deployment never became available: %v", err)
	}

	testDynamicVolume(ctx, t, cp)

	out, _, err := cp.Kubectl(ctx, "get", "nodes", "-o", "name")
	if err != nil || strings.TrimSpace(out) != "node/"+cp.Nodes()[0] {
		t.Fatalf("kubectl get nodes: %q, %v", out, err)
	}

	// Impersonation and RBAC are real: an unprivileged user may not list pods.
	nobody, err := kubernetes.NewForConfig(cp.ImpersonatedConfig("nobody"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nobody.CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err == nil {
		t.Fatal("user nobody could list pods")
	}
	// ServiceAccount tokens work (kube-controller-manager created the default ServiceAccount).
	saCfg, err := cp.ServiceAccountConfig(ctx, "default", "default")
	if err != nil {
		t.Fatal(err)
	}
	sa, err := kubernetes.NewForConfig(saCfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sa.Discovery().ServerVersion(); err != nil {
		t.Fatalf("service account cannot reach the API: %v", err)
	}

	if n := countAudit(t, cp.AuditLogPath(), "create", "deployments", "vitess-local-admin"); n != 1 {
		t.Fatalf("audit log %s shows %d Deployment creates by the admin, want 1", cp.AuditLogPath(), n)
	}

	addr := strings.TrimPrefix(cp.URL(), "https://")
	if err := cp.Stop(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		conn.Close()
		t.Fatalf("kube-apiserver still listening on %s after Stop", addr)
	}
}

// TestVitessAPIServer registers our server through a real APIService, and restarts it.
func TestVitessAPIServer(t *testing.T) {
	integration(t)
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "apiserver")); err != nil {
		t.Skip("cmd/apiserver does not exist yet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	cp, err := framework.Start(ctx, framework.Options{Dir: t.TempDir(), Nodes: framework.NoNodes, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })

	srv, err := cp.StartVitessAPIServer(ctx, framework.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := cp.Kubectl(ctx, "api-resources", "--api-group="+framework.APIGroup, "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resources:\n%s", out)

	if err := srv.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(srv.AuditLogPath()); err != nil {
		t.Errorf("server audit log: %v", err)
	}
}

// testDynamicVolume checks that a PersistentVolumeClaim with no storageClassName gets the default
// StorageClass and binds to a dynamically provisioned hostPath volume, that a Pod mounting it is
// scheduled on the kwok node and Running, and that deleting the claim deletes the volume.
func testDynamicVolume(ctx context.Context, t *testing.T, cp *framework.ControlPlane) {
	client := cp.Client()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke-data", Namespace: "default"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
			},
		},
	}
	if _, err := client.CoreV1().PersistentVolumeClaims("default").Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke-pvc", Namespace: "default"},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:         "main",
				Image:        "example.invalid/smoke:1",
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
			}},
			Volumes: []corev1.Volume{{
				Name: "data",
				VolumeSource: corev1.VolumeSource{
					PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: pvc.Name},
				},
			}},
			Tolerations: []corev1.Toleration{{Key: "kwok.x-k8s.io/node", Operator: corev1.TolerationOpExists}},
		},
	}
	if _, err := client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := client.CoreV1().PersistentVolumeClaims("default").Get(ctx, pvc.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pvc = got
		return pvc.Status.Phase == corev1.ClaimBound, nil
	})
	if err != nil {
		t.Fatalf("PVC %s not Bound: %v; last seen: phase=%q class=%v volume=%q", pvc.Name, err, pvc.Status.Phase, ptr.Deref(pvc.Spec.StorageClassName, "<nil>"), pvc.Spec.VolumeName)
	}
	if class := ptr.Deref(pvc.Spec.StorageClassName, ""); class != framework.StorageClass {
		t.Errorf("PVC storageClassName = %q, want the default %q", class, framework.StorageClass)
	}
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, pvc.Spec.VolumeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Spec.HostPath == nil {
		t.Fatalf("PV %s is not a hostPath volume: %+v", pv.Name, pv.Spec.PersistentVolumeSource)
	}
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("PV %s reclaim policy = %q, want Delete", pv.Name, pv.Spec.PersistentVolumeReclaimPolicy)
	}
	// The controller manager runs on this machine, so its directory is here.
	hostPath := pv.Spec.HostPath.Path
	if _, err := os.Stat(hostPath); err != nil {
		t.Errorf("provisioned directory: %v", err)
	}
	t.Logf("PVC %s Bound to %s (%s, hostPath %s)", pvc.Name, pv.Name, pv.Spec.Capacity.Storage(), hostPath)

	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := client.CoreV1().Pods("default").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		pod = got
		return pod.Spec.NodeName != "" && pod.Status.Phase == corev1.PodRunning && framework.PodReady(pod), nil
	})
	if err != nil {
		t.Fatalf("pod %s not Running on a kwok node: %v; last seen: node=%q phase=%q conditions=%v", pod.Name, err, pod.Spec.NodeName, pod.Status.Phase, pod.Status.Conditions)
	}
	if pod.Spec.NodeName != cp.Nodes()[0] {
		t.Fatalf("pod %s scheduled on %q, want %q", pod.Name, pod.Spec.NodeName, cp.Nodes()[0])
	}
	t.Logf("pod %s with the claim Running on %s", pod.Name, pod.Spec.NodeName)

	// Reclaim policy Delete: once the pod and the claim are gone, so are the volume and its directory.
	if err := client.CoreV1().Pods("default").Delete(ctx, pod.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().PersistentVolumeClaims("default").Delete(ctx, pvc.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := client.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		t.Fatalf("PV %s not deleted with its claim: %v", pv.Name, err)
	}
	if _, err := os.Stat(hostPath); !os.IsNotExist(err) {
		t.Errorf("directory %s of deleted PV %s: %v, want it removed", hostPath, pv.Name, err)
	}
}

// countAudit counts the audit events of verb on resource by user.
func countAudit(t *testing.T, path, verb, resource, user string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var ev struct {
			Verb      string                     `json:"verb"`
			User      struct{ Username string }  `json:"user"`
			ObjectRef *struct{ Resource string } `json:"objectRef"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if ev.Verb == verb && ev.User.Username == user && ev.ObjectRef != nil && ev.ObjectRef.Resource == resource {
			n++
		}
	}
	return n
}
