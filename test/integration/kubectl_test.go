package integration

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestDiscovery checks what kubectl learns from discovery: every resource with its short name and
// the vitess category, status subresources, and no clash with the vitess-operator's short names.
func TestDiscovery(t *testing.T) {
	out := kubectl(t, "api-resources", "--api-group=vitess.planetscale.com", "-o", "wide")
	for _, want := range []string{"vitessclusters", "vtcl", "etcdlockservers", "vtetcd", "vitesscells", "vtcell",
		"vitesskeyspaces", "vtks", "vitessshards", "vtsh", "vitessworkflows", "vtwf", "vitess"} {
		if !strings.Contains(out, want) {
			t.Errorf("api-resources lacks %q:\n%s", want, out)
		}
	}
	for _, operatorShortName := range []string{" vt ", " vtc ", " vtk ", " vts ", " etcdls "} {
		if strings.Contains(out, operatorShortName) {
			t.Errorf("short name %q belongs to the vitess-operator:\n%s", operatorShortName, out)
		}
	}
	group := kubectl(t, "get", "--raw", "/apis/vitess.planetscale.com/v1alpha1")
	for _, sub := range []string{"vitessclusters/status", "vitessworkflows/status", "vitessshards/status"} {
		if !strings.Contains(group, `"`+sub+`"`) {
			t.Errorf("discovery lacks %s: %s", sub, group)
		}
	}
}

// TestExplain proves the OpenAPI v3 schema reaches kubectl down to nested fields.
func TestExplain(t *testing.T) {
	for path, want := range map[string]string{
		"vitessclusters.spec.keyspaces.partitionings.equal.parts":                                             "number of shards",
		"vitessclusters.spec.keyspaces.partitionings.equal.shardTemplate.tabletPools.dataVolumeClaimTemplate": "PersistentVolumeClaimSpec",
		"vitessworkflows.status.streams.rowsCopied":                                                           "RowsCopied",
		"vtsh.spec.keyRange": "VitessKeyRange",
	} {
		out := kubectl(t, "explain", path)
		if !strings.Contains(out, want) {
			t.Errorf("kubectl explain %s lacks %q:\n%s", path, want, out)
		}
	}
	openapi := kubectl(t, "get", "--raw", "/openapi/v3/apis/vitess.planetscale.com/v1alpha1")
	if !strings.Contains(openapi, "com.github.vitess-apiserver") && !strings.Contains(openapi, "VitessCluster") {
		t.Errorf("OpenAPI v3 document lacks the group's schemas")
	}
	if v2 := kubectl(t, "get", "--raw", "/openapi/v2"); !strings.Contains(v2, "VitessWorkflowSpec") {
		t.Errorf("OpenAPI v2 document lacks the group's schemas")
	}
}

// TestEveryKind drives each kind through kubectl: apply, get with columns, describe, server-side
// apply with a field manager, dry-run, watch, finalizers and delete.
func TestEveryKind(t *testing.T) {
	for _, kind := range kindFixtures {
		t.Run(kind.resource, func(t *testing.T) {
			ns := newNamespace(t, "kinds")
			manifest := kind.manifest(ns)

			// A server-side dry run validates and defaults but stores nothing.
			if out, err := kubectlWithInput(t, manifest, "create", "--dry-run=server", "-o", "yaml", "-f", "-"); err != nil {
				t.Fatalf("dry-run create: %v\n%s", err, out)
			}
			if out, err := controlPlaneKubectlErr(t, "get", kind.resource, kind.name, "-n", ns); err == nil {
				t.Fatalf("dry run stored the object:\n%s", out)
			}

			mustApply(t, manifest)
			table := kubectl(t, "get", kind.resource, "-n", ns)
			if !strings.Contains(table, kind.name) || !strings.Contains(table, "AGE") {
				t.Errorf("kubectl get shows no row or columns:\n%s", table)
			}
			if wide := kubectl(t, "get", kind.resource, "-n", ns, "-o", "wide"); len(strings.Fields(strings.Split(wide, "\n")[0])) <= len(strings.Fields(strings.Split(table, "\n")[0])) {
				t.Errorf("-o wide adds no column:\n%s", wide)
			}
			if describe := kubectl(t, "describe", kind.resource, kind.name, "-n", ns); !strings.Contains(describe, "Spec:") {
				t.Errorf("kubectl describe shows no spec:\n%s", describe)
			}
			if byCategory := kubectl(t, "get", "vitess", "-n", ns, "-o", "name"); !strings.Contains(byCategory, kind.name) {
				t.Errorf("kubectl get vitess misses the object:\n%s", byCategory)
			}

			// Server-side apply: the field manager owns what it applied.
			if out, err := kubectlWithInput(t, manifest, "apply", "--server-side", "--field-manager=platform-team", "-f", "-"); err != nil {
				t.Fatalf("server-side apply: %v\n%s", err, out)
			}
			managed := kubectl(t, "get", kind.resource, kind.name, "-n", ns, "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
			if !strings.Contains(managed, "platform-team") {
				t.Errorf("managedFields lack the apply manager: %q", managed)
			}

			// A watch started before a change sees it.
			watch := startWatch(t, kind.resource, ns)
			kubectl(t, "label", kind.resource, kind.name, "-n", ns, "team=payments")
			watch.expect(t, kind.name)

			// A finalizer holds the object after delete until it is removed.
			kubectl(t, "patch", kind.resource, kind.name, "-n", ns, "--type=merge", "-p", `{"metadata":{"finalizers":["example.com/hold"]}}`)
			kubectl(t, "delete", kind.resource, kind.name, "-n", ns, "--wait=false")
			if ts := kubectl(t, "get", kind.resource, kind.name, "-n", ns, "-o", "jsonpath={.metadata.deletionTimestamp}"); ts == "" {
				t.Errorf("deleted object with a finalizer has no deletionTimestamp")
			}
			kubectl(t, "patch", kind.resource, kind.name, "-n", ns, "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
			eventually(t, "object gone once its finalizer is removed", func() (bool, error) {
				_, err := controlPlaneKubectlErr(t, "get", kind.resource, kind.name, "-n", ns)
				return err != nil, nil
			})
		})
	}
}

// TestFieldSelectors selects shards and workflows by spec fields, as the reconciler and users do.
func TestFieldSelectors(t *testing.T) {
	ns := newNamespace(t, "selectors")
	for _, kind := range kindFixtures {
		if kind.resource == "vitessshards" || kind.resource == "vitessworkflows" {
			mustApply(t, kind.manifest(ns))
		}
	}
	if out := kubectl(t, "get", "vitessshards", "-n", ns, "--field-selector", "spec.keyspaceName=commerce", "-o", "name"); !strings.Contains(out, "demo-commerce-x-80") {
		t.Errorf("field selector spec.keyspaceName=commerce: %q", out)
	}
	if out := kubectl(t, "get", "vitessshards", "-n", ns, "--field-selector", "spec.keyspaceName=customer", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("field selector spec.keyspaceName=customer matched: %q", out)
	}
	if out := kubectl(t, "get", "vitessworkflows", "-n", ns, "--field-selector", "spec.type=MoveTables,spec.targetKeyspace=customer", "-o", "name"); !strings.Contains(out, "commerce2customer") {
		t.Errorf("field selector on workflows: %q", out)
	}
	if out, err := controlPlaneKubectlErr(t, "get", "vitessshards", "-n", ns, "--field-selector", "spec.replicas=3"); err == nil || !strings.Contains(out, "field label not supported") {
		t.Errorf("an unknown field label is not refused: %v %s", err, out)
	}
}

func controlPlaneKubectlErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, errOut, err := controlPlane.Kubectl(testContext(t), args...)
	return out + errOut, err
}

// kubectlWatch is a `kubectl get --watch` running in the background.
type kubectlWatch struct {
	cmd    *exec.Cmd
	output *lockedWriter
	cancel context.CancelFunc
}

func startWatch(t *testing.T, resource, namespace string) *kubectlWatch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	w := &kubectlWatch{output: &lockedWriter{b: &strings.Builder{}}, cancel: cancel}
	w.cmd = exec.CommandContext(ctx, controlPlane.Tools().Kubectl, "--kubeconfig", controlPlane.KubeconfigPath(),
		"get", resource, "-n", namespace, "--watch-only", "-o", "custom-columns=NAME:.metadata.name,TEAM:.metadata.labels.team", "--no-headers")
	w.cmd.Stdout = w.output
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = w.cmd.Wait() })
	// The watch must be established before the change it is to see.
	time.Sleep(time.Second)
	return w
}

func (w *kubectlWatch) expect(t *testing.T, name string) {
	t.Helper()
	eventually(t, "kubectl get --watch shows the change", func() (bool, error) {
		out := w.output.String()
		return strings.Contains(out, name) && strings.Contains(out, "payments"), nil
	})
}
