package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/scenario"
	"github.com/vitess-apiserver/vitess-apiserver/test/vitess"
)

// TestKeyspaceVSchema reads and writes a keyspace's VSchema through vitesskeyspaces/vschema
// against a real vtctld: with the clientset and with kubectl, a dry run that changes nothing,
// a VSchema Vitess refuses and one that is not a VSchema at all, and vtctld gone (503). A
// workflow action before the workflow exists in Vitess is refused with 409.
func TestKeyspaceVSchema(t *testing.T) {
	ctx := testContext(t)
	topo, vtctld := vitess.StartForTest(ctx, t, vitess.DataDir(t, "vitess", t.Name()))
	ns := newNamespace(t, "vschema")
	mustApply(t, realVitessCluster(ns, topo, vtctld, scenario.Keyspace("commerce", "[{cell: zone1, type: replica, replicas: 1}]", 1)))
	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	keyspaces := api.VitessKeyspaces(ns)
	keyspace := names.Keyspace("demo", "commerce")
	eventually(t, "keyspace registered in Vitess", func() (bool, error) {
		ks, err := keyspaces.Get(ctx, keyspace, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(ks.Status.Conditions, v1alpha1.ConditionRegistered), err
	})

	tables := func() map[string]any {
		t.Helper()
		got, err := keyspaces.GetVSchema(ctx, keyspace, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var vschema struct {
			Tables map[string]any `json:"tables"`
		}
		if err := json.Unmarshal(got.VSchema.Raw, &vschema); err != nil {
			t.Fatalf("vschema %s: %v", got.VSchema.Raw, err)
		}
		return vschema.Tables
	}
	if got := tables(); len(got) != 0 {
		t.Errorf("a new keyspace's VSchema has tables %v", got)
	}
	put := func(vschema string, dryRun bool) (*v1alpha1.VitessKeyspaceVSchema, error) {
		options := metav1.UpdateOptions{}
		if dryRun {
			options.DryRun = []string{metav1.DryRunAll}
		}
		return keyspaces.UpdateVSchema(ctx, keyspace, &v1alpha1.VitessKeyspaceVSchema{
			ObjectMeta: metav1.ObjectMeta{Name: keyspace}, VSchema: runtime.RawExtension{Raw: []byte(vschema)},
		}, options)
	}
	if _, err := put(`{"tables": {"product": {}, "customer": {}}}`, true); err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if got := tables(); len(got) != 0 {
		t.Errorf("a dry run stored tables %v", got)
	}
	if _, err := put(`{"tables": {"product": {}, "customer": {}}}`, false); err != nil {
		t.Fatal(err)
	}
	if got := tables(); len(got) != 2 || got["product"] == nil {
		t.Errorf("after PUT the VSchema has tables %v, want product and customer", got)
	}

	// The same with kubectl, as the README shows it.
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitesskeyspaces/%s/vschema", ns, keyspace)
	body := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessKeyspaceVSchema","metadata":{"name":%q},"vschema":{"tables":{"product":{}}}}`, keyspace)
	if out, err := kubectlWithInput(t, body, "replace", "--raw", path, "-f", "-"); err != nil {
		t.Fatalf("kubectl replace --raw: %v\n%s", err, out)
	}
	if out := kubectl(t, "get", "--raw", path); !strings.Contains(out, `"product"`) || strings.Contains(out, `"customer"`) {
		t.Errorf("kubectl get --raw vschema: %s", out)
	}

	// Refusals change nothing.
	_, err := put(`{"sharded": true, "vindexes": {"hash": {"type": "no_such_vindex"}}, "tables": {"product": {"column_vindexes": [{"column": "sku", "name": "hash"}]}}}`, false)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "no_such_vindex") {
		t.Errorf("a VSchema with an unknown vindex type: got %v, want 422 with Vitess' reason", err)
	}
	_, err = put(`{"tablez": {}}`, false)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "vschema") {
		t.Errorf("a VSchema with an unknown field: got %v, want 422 naming vschema", err)
	}
	if got := tables(); len(got) != 1 || got["product"] == nil {
		t.Errorf("after refusals the VSchema has tables %v, want product alone", got)
	}
	eventually(t, "a VSchemaApplied Event on the keyspace", func() (bool, error) {
		out, err := controlPlaneKubectlErr(t, "get", "events", "-n", ns, "--field-selector", "involvedObject.name="+keyspace, "-o", "jsonpath={.items[*].reason}")
		return strings.Contains(out, "VSchemaApplied"), err
	})

	// A workflow action waits until the workflow exists in Vitess (here it cannot: no tablets).
	workflow, err := keyspaces.Reshard(ctx, keyspace, &v1alpha1.VitessReshardRequest{
		ObjectMeta: metav1.ObjectMeta{Name: keyspace}, Workflow: "split", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the workflow reports it could not be created in Vitess", func() (bool, error) {
		got, err := api.VitessWorkflows(ns).Get(ctx, workflow.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		created := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionCreated)
		return created != nil && created.Status == metav1.ConditionFalse && created.Message != "", nil
	})
	_, err = api.VitessWorkflows(ns).SwitchReads(ctx, workflow.Name, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow.Name}}, metav1.CreateOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("switchreads before the workflow exists in Vitess: got %v, want 409", err)
	}
	_, err = api.VitessWorkflows(ns).SwitchReads(ctx, workflow.Name, &v1alpha1.VitessSwitchReadsRequest{
		ObjectMeta: metav1.ObjectMeta{Name: workflow.Name}, TabletTypes: []string{"primary"},
	}, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "tabletTypes[0]") {
		t.Errorf("switchreads of primary: got %v, want 422 naming tabletTypes[0]", err)
	}

	vtctld.Stop()
	_, err = keyspaces.GetVSchema(ctx, keyspace, metav1.GetOptions{})
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), vtctld.GRPCAddress) {
		t.Errorf("GET vschema with vtctld stopped: got %v, want 503 naming %s", err, vtctld.GRPCAddress)
	}
}
