package integration

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestKeyspaceWorkflowActions starts workflows through vitesskeyspaces/{reshard,movetables}: with
// the typed clientset, with plain `kubectl create --raw`, and with bad requests that are refused
// before anything is stored.
func TestKeyspaceWorkflowActions(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "actions")
	keyspace := kindFixtures[3] // demo-commerce: keyspace "commerce" of cluster "demo"
	mustApply(t, keyspace.manifest(ns))
	keyspaces := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1().VitessKeyspaces(ns)

	workflow, err := keyspaces.Reshard(ctx, keyspace.name, &v1alpha1.VitessReshardRequest{
		ObjectMeta:   metav1.ObjectMeta{Name: keyspace.name},
		Workflow:     "split-commerce",
		SourceShards: []string{"-"},
		TargetShards: []string{"-80", "80-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if workflow.Spec.Type != v1alpha1.WorkflowTypeReshard || workflow.Spec.Cluster != "demo" || workflow.Spec.TargetKeyspace != "commerce" || workflow.Spec.OnDDL != "IGNORE" {
		t.Errorf("reshard created %+v", workflow.Spec)
	}
	eventually(t, "an Event on the keyspace records the request", func() (bool, error) {
		out, err := controlPlaneKubectlErr(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+keyspace.name, "-o", "jsonpath={.items[*].reason}")
		return strings.Contains(out, "ReshardRequested"), err
	})
	if describe := kubectl(t, "describe", "vitesskeyspace", keyspace.name, "-n", ns); !strings.Contains(describe, "ReshardRequested") {
		t.Errorf("kubectl describe shows no event:\n%s", describe)
	}

	// The same action with plain kubectl, as the README documents it.
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitesskeyspaces/%s/movetables", ns, keyspace.name)
	request := `{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessMoveTablesRequest","metadata":{"name":"demo-commerce"},` +
		`"workflow":"commerce2customer","sourceKeyspace":"legacy","tables":["customer","corder"]}`
	out, err := kubectlWithInput(t, request, "create", "--raw", path, "-f", "-")
	if err != nil || !strings.Contains(out, `"kind":"VitessWorkflow"`) {
		t.Fatalf("kubectl create --raw movetables: %v\n%s", err, out)
	}
	if tables := kubectl(t, "get", "vitessworkflow", "commerce2customer", "-n", ns, "-o", "jsonpath={.spec.tables}"); tables != `["customer","corder"]` {
		t.Errorf("movetables workflow tables: %s", tables)
	}

	refusals := []struct {
		name    string
		request v1alpha1.VitessReshardRequest
		target  string
		check   func(error) bool
		field   string
	}{
		{"URL and body disagree", v1alpha1.VitessReshardRequest{ObjectMeta: metav1.ObjectMeta{Name: "other"}, Workflow: "w1", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}}, keyspace.name, apierrors.IsBadRequest, ""},
		{"no such keyspace", v1alpha1.VitessReshardRequest{Workflow: "w2", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}}, "missing", apierrors.IsNotFound, ""},
		{"workflow exists", v1alpha1.VitessReshardRequest{Workflow: "split-commerce", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}}, keyspace.name, apierrors.IsAlreadyExists, ""},
		{"gap in target shards", v1alpha1.VitessReshardRequest{Workflow: "w3", SourceShards: []string{"-"}, TargetShards: []string{"-40", "80-"}}, keyspace.name, apierrors.IsInvalid, "spec.targetShards"},
		{"unknown tablet type", v1alpha1.VitessReshardRequest{Workflow: "w4", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}, VitessWorkflowOptions: v1alpha1.VitessWorkflowOptions{TabletTypes: []string{"master"}}}, keyspace.name, apierrors.IsInvalid, "spec.tabletTypes[0]"},
	}
	for _, tc := range refusals {
		_, err := keyspaces.Reshard(ctx, tc.target, &tc.request, metav1.CreateOptions{})
		if !tc.check(err) {
			t.Errorf("%s: unexpected result %v", tc.name, err)
			continue
		}
		if tc.field != "" && !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error does not name %s: %v", tc.name, tc.field, err)
		}
	}

	// A dry run validates and answers, but stores nothing.
	if _, err := keyspaces.Reshard(ctx, keyspace.name, &v1alpha1.VitessReshardRequest{Workflow: "dry", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}},
		metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	workflows, err := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1().VitessWorkflows(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range workflows.Items {
		names = append(names, w.Name)
	}
	if got := strings.Join(names, ","); got != "commerce2customer,split-commerce" {
		t.Errorf("workflows after the refusals and the dry run: %s", got)
	}
}
