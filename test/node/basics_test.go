// Package node runs pods for real, on the control plane's real node (framework.Options.RealNode):
// the kubelet, containerd and runc on this machine, with the images hack/build-images.sh
// assembles and no registry. It needs root; the kwok tiers in test/integration do not.
package node_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// TestRealNodeRunsVitessPods runs etcd, vtctld and the tablets' mysqld exporter the way the
// reconciler's pods run them (non-root, read-only root filesystem, no capabilities, the runtime's
// seccomp profile, probes on their HTTP ports), from the images the reconciler names by default,
// which are never pulled. vtctld keeps the Vitess topology in the etcd pod: it must become Ready
// through the kubelet's probe, its log must be readable with kubectl logs, and vtctldclient run in
// its container with kubectl exec must create a cell in that topology. A pod that does not
// tolerate the real node's taint must go to the kwok node instead.
func TestRealNodeRunsVitessPods(t *testing.T) {
	skipUnlessIntegration(t)
	stopRealCluster() // this test's node runs beside kwok nodes
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// Kept under .local so that the logs of a failed run can be read afterwards.
	dir := filepath.Join(root, ".local", "node")
	if err := framework.RemoveClusterDir(dir); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	cp, err := framework.Start(ctx, framework.Options{Dir: dir, RealNode: true, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cp.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("logs of the control plane and the real node: %s", cp.LogDir())
		}
	})
	t.Logf("control plane with a Ready real node in %s", time.Since(started).Round(time.Millisecond))
	client := cp.Client()
	const ns = "default"

	kwokPod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "on-kwok", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.invalid/never-pulled:1"}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, kwokPod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	etcd := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "etcd", Namespace: ns},
		Spec: corev1.PodSpec{
			SecurityContext: nonRoot(65532),
			Containers: []corev1.Container{{
				Name:            "etcd",
				Image:           vitessapi.DefaultEtcdImage,
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"etcd"},
				Args: []string{
					"--name=etcd",
					"--data-dir=/var/etcd/data",
					"--listen-client-urls=http://0.0.0.0:2379",
					"--advertise-client-urls=http://$(POD_IP):2379",
					"--listen-metrics-urls=http://0.0.0.0:2381",
				},
				Env:             []corev1.EnvVar{podIPEnv},
				Ports:           []corev1.ContainerPort{{Name: "client", ContainerPort: 2379}, {Name: "metrics", ContainerPort: 2381}},
				ReadinessProbe:  httpProbe("/health", 2381),
				VolumeMounts:    []corev1.VolumeMount{{Name: "data", MountPath: "/var/etcd"}},
				SecurityContext: restricted(),
			}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		},
	}
	framework.OnRealNode(&etcd.Spec)
	etcd = runPod(ctx, t, client, etcd)
	t.Logf("etcd Ready at %s", etcd.Status.PodIP)

	topology := etcd.Status.PodIP + ":2379" // the pod has no Service, so no DNS name
	vtctld := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vtctld", Namespace: ns},
		Spec: corev1.PodSpec{
			SecurityContext: nonRoot(999),
			Containers: []corev1.Container{{
				Name:            "vtctld",
				Image:           vitessapi.DefaultVitessImage,
				ImagePullPolicy: corev1.PullNever,
				Command:         []string{"/vt/bin/vtctld"},
				Args: []string{
					"--cell=zone1",
					"--grpc-port=15999",
					"--logtostderr=true",
					"--port=15000",
					"--service-map=grpc-vtctl,grpc-vtctld",
					"--topo-global-root=/vitess/global",
					"--topo-global-server-address=" + topology,
					"--topo-implementation=etcd2",
				},
				Ports:           []corev1.ContainerPort{{Name: "web", ContainerPort: 15000}, {Name: "grpc", ContainerPort: 15999}},
				ReadinessProbe:  httpProbe("/debug/health", 15000),
				SecurityContext: restricted(),
			}},
		},
	}
	framework.OnRealNode(&vtctld.Spec)
	vtctld = runPod(ctx, t, client, vtctld)
	t.Logf("vtctld Ready at %s", vtctld.Status.PodIP)

	// The pod network is reachable from this machine, as from the kubelet's probes.
	httpGet(t, fmt.Sprintf("http://%s:15000/debug/health", vtctld.Status.PodIP))

	logs, _, err := cp.Kubectl(ctx, "logs", "--namespace", ns, "vtctld")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, "15999") {
		t.Fatalf("kubectl logs vtctld does not mention its gRPC port 15999:\n%s", logs)
	}

	vtctldclient := []string{"exec", "--namespace", ns, "vtctld", "--", "/vt/bin/vtctldclient", "--server=localhost:15999"}
	addCell := append(vtctldclient, "AddCellInfo", "--root=/vitess/zone1", "--server-address="+topology, "zone1")
	if out, errOut, err := cp.Kubectl(ctx, addCell...); err != nil {
		t.Fatalf("%v\n%s%s", err, out, errOut)
	}
	cells, _, err := cp.Kubectl(ctx, append(vtctldclient, "GetCellInfoNames")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(cells) != "zone1" {
		t.Fatalf("cells in the topology after AddCellInfo: %q, want zone1", cells)
	}

	// The tablets' exporter sidecar starts without a MySQL to watch, and says so in its metrics.
	exporter := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "mysqld-exporter", Namespace: ns},
		Spec: corev1.PodSpec{
			SecurityContext: nonRoot(999),
			Containers: []corev1.Container{{
				Name:            "mysqld-exporter",
				Image:           vitessapi.DefaultMysqldExporterImage,
				ImagePullPolicy: corev1.PullNever,
				Args:            []string{"--web.listen-address=:9104"},
				Env:             []corev1.EnvVar{{Name: "DATA_SOURCE_NAME", Value: "vt_monitoring@tcp(127.0.0.1:3306)/"}},
				Ports:           []corev1.ContainerPort{{Name: "metrics", ContainerPort: 9104}},
				ReadinessProbe:  httpProbe("/", 9104),
				SecurityContext: restricted(),
			}},
		},
	}
	framework.OnRealNode(&exporter.Spec)
	exporter = runPod(ctx, t, client, exporter)
	if metrics := httpGet(t, fmt.Sprintf("http://%s:9104/metrics", exporter.Status.PodIP)); !strings.Contains(metrics, "mysql_up 0") {
		t.Fatalf("exporter metrics without a MySQL do not say mysql_up 0:\n%s", metrics)
	}

	got, err := client.CoreV1().Pods(ns).Get(ctx, kwokPod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != cp.Nodes()[0] {
		t.Fatalf("pod without the real node's toleration went to %q, want the kwok node %s", got.Spec.NodeName, cp.Nodes()[0])
	}
}

// httpGet returns the body of a 200 response to a GET of url, and fails the test on anything else.
func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %q %v", url, resp.Status, body, err)
	}
	return string(body)
}

var podIPEnv = corev1.EnvVar{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}

func nonRoot(uid int64) *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(uid), RunAsGroup: ptr.To(uid), FSGroup: ptr.To(uid),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restricted() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
		Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

func httpProbe(path string, port int32) *corev1.Probe {
	return &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromInt32(port)}},
		PeriodSeconds: 2,
	}
}

// runPod creates pod and waits until it runs on the real node and is Ready. A container that
// cannot start fails the test at once, with its state.
func runPod(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	created := time.Now()
	if _, err := client.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	last := pod
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := client.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = got
		for _, c := range got.Status.ContainerStatuses {
			if w := c.State.Waiting; w != nil && w.Reason != "ContainerCreating" {
				return false, fmt.Errorf("container %s waiting: %s: %s", c.Name, w.Reason, w.Message)
			}
			if term := c.LastTerminationState.Terminated; term != nil {
				return false, fmt.Errorf("container %s exited %d (%s): %s", c.Name, term.ExitCode, term.Reason, term.Message)
			}
		}
		return framework.PodReady(got), nil
	})
	if err != nil {
		t.Fatalf("pod %s not Ready: %v; last seen: %+v", pod.Name, err, last.Status)
	}
	if last.Spec.NodeName != framework.RealNodeName {
		t.Fatalf("pod %s ran on %q, want %s", pod.Name, last.Spec.NodeName, framework.RealNodeName)
	}
	t.Logf("pod %s Ready on %s %s after it was created", pod.Name, last.Spec.NodeName, time.Since(created).Round(time.Millisecond))
	return last
}
