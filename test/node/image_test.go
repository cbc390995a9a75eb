package node_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
)

// TestServerImageFromALoopbackRegistry builds the server's image as `make image` does, pushes it
// as `make push REGISTRY=...` does into a real OCI registry on loopback, and has the real node's
// containerd pull it from there (the tag is new, so nothing else can have put it on the node) and
// run it under the restricted Pod Security Standard. The index holds linux/amd64 and linux/arm64,
// each the static binary alone, run as a non-root user.
func TestServerImageFromALoopbackRegistry(t *testing.T) {
	cluster := sharedRealCluster(t)
	// The image build cross-compiles the server twice with -trimpath, which a warm build cache for
	// the tests does not help: minutes each on 2 cores.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	root, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tools, err := framework.EnsureTools(root)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cluster.cp.Dir(), "image")
	version := "e2e-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	script(ctx, t, root, []string{"VERSION=" + version}, "hack/build-server-image.sh", filepath.Join(dir, "layout"))
	registry, err := framework.StartRegistry(ctx, tools.Crane, filepath.Join(dir, "registry"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(registry.Stop)
	pushed := script(ctx, t, root, nil, "hack/push-server-image.sh", registry.Host+"/vitess-system", filepath.Join(dir, "layout"))
	image := registry.Host + "/vitess-system/vitess-apiserver:" + version
	if !strings.HasPrefix(pushed, image+"@sha256:") {
		t.Fatalf("push printed %q, want %s@<digest>", pushed, image)
	}
	digest := strings.TrimPrefix(pushed, image+"@")

	var index struct {
		Manifests []struct {
			Platform struct{ OS, Architecture string }
		}
	}
	if err := json.Unmarshal([]byte(crane(ctx, t, tools, "manifest", image)), &index); err != nil {
		t.Fatal(err)
	}
	var platforms []string
	for _, manifest := range index.Manifests {
		platforms = append(platforms, manifest.Platform.OS+"/"+manifest.Platform.Architecture)
	}
	if strings.Join(platforms, " ") != "linux/amd64 linux/arm64" {
		t.Errorf("the index holds %v, want linux/amd64 and linux/arm64", platforms)
	}
	for _, platform := range platforms {
		var config struct {
			Architecture string
			Config       struct {
				User       string
				Entrypoint []string
				Labels     map[string]string
			}
		}
		if err := json.Unmarshal([]byte(crane(ctx, t, tools, "config", "--platform", platform, image)), &config); err != nil {
			t.Fatal(err)
		}
		if config.Architecture != strings.TrimPrefix(platform, "linux/") || config.Config.User != "65532:65532" ||
			strings.Join(config.Config.Entrypoint, " ") != "/vitess-apiserver" || config.Config.Labels["org.opencontainers.image.version"] != version {
			t.Errorf("%s config: %+v", platform, config)
		}
		files := crane(ctx, t, tools, "export", "--platform", platform, image, "-")
		if names := tarNames(t, files); strings.Join(names, " ") != "vitess-apiserver" {
			t.Errorf("%s holds %v, want the binary alone", platform, names)
		}
	}

	if err := cluster.cp.TrustRegistry(registry.Host); err != nil {
		t.Fatal(err)
	}
	core := cluster.cp.Client().CoreV1()
	ns := scenario.NewNamespace(ctx, t, cluster.cp, "image")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "vitess-apiserver-help", Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name: "server", Image: image, ImagePullPolicy: corev1.PullIfNotPresent, Args: []string{"--help"},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
					Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
	framework.OnRealNode(&pod.Spec)
	if _, err := core.Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the server's image pulled from the registry and run to completion", func(ctx context.Context) (bool, error) {
		pod, err := core.Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if pod.Status.Phase == corev1.PodFailed {
			t.Fatalf("the Pod failed: %+v", pod.Status)
		}
		return pod.Status.Phase == corev1.PodSucceeded, nil
	})
	pod, err = core.Pods(ns).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if imageID := pod.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(imageID, digest) {
		t.Errorf("the node ran image %s, want the pushed %s", imageID, digest)
	}
	logs, err := core.Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || !bytes.Contains(logs, []byte("--etcd-servers")) {
		t.Errorf("the container's output is not the server's help (%v):\n%s", err, logs)
	}
}

// script runs one of the repository's scripts as a user would and returns the last line it printed.
func script(ctx context.Context, t *testing.T, root string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, filepath.Join(root, name), args...)
	cmd.Dir, cmd.Env, cmd.Stderr = root, append(os.Environ(), env...), os.Stderr
	// The scripts start a registry in the background. Killing the script alone when ctx ends would
	// leave the registry holding its output pipe, and Output waiting for it for ever: kill its
	// process group, and stop waiting for the pipe soon after.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func crane(ctx context.Context, t *testing.T, tools framework.Tools, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, tools.Crane, args...).Output()
	if err != nil {
		t.Fatalf("crane %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// tarNames are the names of the regular files in a tarball.
func tarNames(t *testing.T, data string) []string {
	t.Helper()
	var names []string
	reader := tar.NewReader(strings.NewReader(data))
	for {
		header, err := reader.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		if header.Typeflag == tar.TypeReg {
			names = append(names, strings.TrimPrefix(header.Name, "/"))
		}
	}
}
