package integration

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// operatorSourceEnv names a git checkout (or bare repository) of planetscale/vitess-operator:
// BenchmarkConvergenceVsOperator builds its manager from it with hack/build-operator.sh. The Go
// module proxy does not serve the operator, so nothing here can fetch it.
const operatorSourceEnv = "VITESS_BENCH_OPERATOR_SOURCE"

// operatorNamespace and operatorAccount are where the operator runs, as in its deploy/operator.yaml.
const operatorNamespace, operatorAccount = "vitess-operator-bench", "vitess-operator"

var operatorClusters = schema.GroupVersionResource{Group: "planetscale.com", Version: "v2", Resource: "vitessclusters"}

// BenchmarkConvergenceVsOperator runs the vitess-operator beside our server, on the same
// kube-apiserver and kwok nodes, with its own CRDs (planetscale.com/v2), and applies N copies of
// the example cluster to each in turn, in the same run: ours first, then the operator's, with only
// the apiVersion changed. It reports each side's time to converge, its API writes per created
// object, its writes per minute once converged, its peak RSS and CPU, and the ratios ours/operator.
//
// An operator's cluster has converged when its status has caught up with its generation, its
// lockserver, vtctld and every cell's vtgates are available, and every keyspace has all its
// tablets, up to date and Ready: on kwok, what ours calls Ready. The operator reaches the
// topology through Services that resolve only inside the cluster; on kwok nothing answers there,
// for it or for us, and neither side waits on it.
func BenchmarkConvergenceVsOperator(b *testing.B) {
	source := os.Getenv(operatorSourceEnv)
	if source == "" {
		b.Skipf("%s names no vitess-operator checkout", operatorSourceEnv)
	}
	sizes, settle := convergenceSizes(b)
	manifest, err := loadExample(filepath.Join(repoRoot, "artifacts", "examples", "example-cluster.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	operator := startOperator(b, source)
	// BenchmarkConvergence measures our floor; here it would only add minutes to every run.
	ours := ourSide()
	ours.floor = false
	for _, n := range sizes {
		b.Run("clusters="+strconv.Itoa(n), func(b *testing.B) {
			for i := range b.N {
				ourResult := newConvergenceRun(ours, n, fmt.Sprintf("vo%d-%d-ours", n, i), manifest, settle).measure(b)
				theirs := newConvergenceRun(operator, n, fmt.Sprintf("vo%d-%d-operator", n, i), manifest, settle).measure(b)
				for _, side := range []struct {
					name   string
					result *convergenceResult
				}{{"ours", ourResult}, {"operator", theirs}} {
					b.ReportMetric(side.result.converged.Seconds(), side.name+"-converge-s")
					b.ReportMetric(side.result.created, side.name+"-objects-created")
					b.ReportMetric(side.result.writesPerObject(), side.name+"-writes/object")
					b.ReportMetric(side.result.statusWritesPerObject(), side.name+"-status-writes/object")
					b.ReportMetric(side.result.steadyWritesPerMinute, side.name+"-steady-writes/min")
					b.ReportMetric(side.result.peakRSS/(1<<20), side.name+"-peak-rss-MB")
					b.ReportMetric(side.result.cpuCores, side.name+"-cpu-cores")
				}
				b.ReportMetric(ourResult.converged.Seconds()/theirs.converged.Seconds(), "ratio-converge/operator")
				b.ReportMetric(ourResult.peakRSS/theirs.peakRSS, "ratio-rss/operator")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

// startOperator builds the operator, installs its CRDs and runs it as a ServiceAccount of its own
// (so that the audit logs tell its writes apart) until the benchmark ends.
func startOperator(b *testing.B, source string) *convergenceSide {
	ctx := context.Background()
	built, err := exec.CommandContext(ctx, filepath.Join(repoRoot, "hack", "build-operator.sh"), source).Output()
	if err != nil {
		b.Fatalf("hack/build-operator.sh %s: %v", source, err)
	}
	binary := strings.TrimSpace(string(built))
	// Its CRDs and PriorityClasses (its Pods name one), as the operator's deploy/ installs them,
	// from the commit built.
	deploy, err := exec.CommandContext(ctx, "git", "-C", source, "archive", "HEAD", "deploy/crds", "deploy/priority.yaml").Output()
	if err != nil {
		b.Fatalf("the operator's deploy/ from %s: %v", source, err)
	}
	dir := b.TempDir()
	untar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	untar.Stdin = bytes.NewReader(deploy)
	if out, err := untar.CombinedOutput(); err != nil {
		b.Fatalf("unpacking the operator's deploy/: %v: %s", err, out)
	}
	for _, manifests := range []string{"crds", "priority.yaml"} {
		if _, _, err := controlPlane.Kubectl(ctx, "apply", "--server-side", "-f", filepath.Join(dir, "deploy", manifests)); err != nil {
			b.Fatal(err)
		}
	}
	if _, _, err := controlPlane.Kubectl(ctx, "wait", "--for=condition=Established", "--timeout=60s", "crd/vitessclusters.planetscale.com"); err != nil {
		b.Fatal(err)
	}

	core := kubeClient(b)
	if _, err := core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	if _, err := core.CoreV1().ServiceAccounts(operatorNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: operatorAccount}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	// Cluster-wide, as the operator watching every namespace needs: its deploy/role.yaml is a Role
	// for one namespace. Every right it has there, and no more matters for the benchmark.
	if _, err := core.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: operatorAccount, Namespace: operatorNamespace}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
	}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		b.Fatal(err)
	}
	config, err := controlPlane.ServiceAccountConfig(ctx, operatorNamespace, operatorAccount)
	if err != nil {
		b.Fatal(err)
	}
	kubeconfig := filepath.Join(b.TempDir(), "operator.kubeconfig")
	if err := clientcmd.WriteToFile(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"bench": {Server: config.Host, CertificateAuthorityData: config.CAData}},
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{"operator": {Token: config.BearerToken}},
		Contexts:       map[string]*clientcmdapi.Context{"bench": {Cluster: "bench", AuthInfo: "operator"}},
		CurrentContext: "bench",
	}, kubeconfig); err != nil {
		b.Fatal(err)
	}
	logPath := filepath.Join(controlPlane.LogDir(), "vitess-operator.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(binary)
	// WATCH_NAMESPACE empty: every namespace. Outside a cluster the operator skips its leader
	// election.
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "WATCH_NAMESPACE=", "OPERATOR_NAME=vitess-operator")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	b.Logf("vitess-operator %s running (log %s)", binary, logPath)
	return &convergenceSide{
		clusters: operatorClusters,
		writers:  map[string]bool{"system:serviceaccount:" + operatorNamespace + ":" + operatorAccount: true},
		pid:      cmd.Process.Pid,
		waiting:  operatorWaiting,
	}
}

// operatorWaiting says what an operator's VitessCluster waits for, by its status.
func operatorWaiting(cluster *unstructured.Unstructured) string {
	status, _, _ := unstructured.NestedMap(cluster.Object, "status")
	if status == nil {
		return "no status"
	}
	if observed, _, _ := unstructured.NestedInt64(status, "observedGeneration"); observed != cluster.GetGeneration() {
		return "status behind the spec"
	}
	if available, _, _ := unstructured.NestedString(status, "globalLockserver", "etcd", "available"); available != "True" {
		return "lockserver not available"
	}
	if available, _, _ := unstructured.NestedString(status, "vitessDashboard", "available"); available != "True" {
		return "vtctld not available"
	}
	cells, _, _ := unstructured.NestedMap(status, "cells")
	if len(cells) == 0 {
		return "no cells"
	}
	for name := range cells {
		if available, _, _ := unstructured.NestedString(status, "cells", name, "gatewayAvailable"); available != "True" {
			return "vtgate not available"
		}
	}
	keyspaces, _, _ := unstructured.NestedMap(status, "keyspaces")
	if len(keyspaces) == 0 {
		return "no keyspaces"
	}
	for name := range keyspaces {
		desired, _, _ := unstructured.NestedInt64(status, "keyspaces", name, "desiredTablets")
		ready, _, _ := unstructured.NestedInt64(status, "keyspaces", name, "readyTablets")
		updated, _, _ := unstructured.NestedInt64(status, "keyspaces", name, "updatedTablets")
		if desired == 0 || ready != desired || updated != desired {
			return "tablets not all Ready"
		}
	}
	return ""
}
