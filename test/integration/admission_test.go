package integration

import (
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestActionsGoThroughWorkflowAdmission: a ValidatingAdmissionPolicy that refuses Reshard
// workflows in a namespace refuses them however they are made, through vitessworkflows or through
// a keyspace's reshard action. (The action used to store its workflow past admission.)
func TestActionsGoThroughWorkflowAdmission(t *testing.T) {
	ns := newNamespace(t, "admission")
	mustApply(t, clusterManifest(ns, "demo"))
	keyspace := kindFixtures[3]
	mustApply(t, keyspace.manifest(ns))
	policy := "no-reshard-" + ns
	mustApply(t, fmt.Sprintf(`apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: %[1]s}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - apiGroups: [vitess.planetscale.com]
      apiVersions: [v1alpha1]
      operations: [CREATE]
      resources: [vitessworkflows]
  validations:
  - expression: "object.spec.type != 'Reshard'"
    message: reshards are frozen
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: %[1]s}
spec:
  policyName: %[1]s
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: %[2]s}}
`, policy, ns))
	t.Cleanup(func() {
		kubectl(t, "delete", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy, "--ignore-not-found")
	})

	api := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1()
	direct := &v1alpha1.VitessWorkflow{ObjectMeta: metav1.ObjectMeta{Name: "direct"}, Spec: v1alpha1.VitessWorkflowSpec{
		Type: v1alpha1.WorkflowTypeReshard, Cluster: "demo", TargetKeyspace: "commerce", SourceShards: []string{"-"}, TargetShards: []string{"-80", "80-"}}}
	eventually(t, "the policy refusing a Reshard VitessWorkflow", func() (bool, error) {
		_, err := api.VitessWorkflows(ns).Create(testContext(t), direct, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return err != nil && strings.Contains(err.Error(), "reshards are frozen"), nil
	})

	err := postAction(t, controlPlane.AdminConfig(), ns, "vitesskeyspaces", keyspace.name, "reshard", reshardRequest)
	if err == nil || !strings.Contains(err.Error(), "reshards are frozen") {
		t.Fatalf("the reshard action past a policy that refuses Reshard workflows: %v", err)
	}
	if _, err := api.VitessWorkflows(ns).Get(testContext(t), "cust2cust", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the refused reshard stored its workflow: %v", err)
	}
	// A MoveTables is not a Reshard: the same policy lets it through.
	moveTables := `{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessMoveTablesRequest","workflow":"customer2commerce","sourceKeyspace":"customer","tables":["customer"]}`
	if err := postAction(t, controlPlane.AdminConfig(), ns, "vitesskeyspaces", keyspace.name, "movetables", moveTables); err != nil {
		t.Errorf("a MoveTables under a policy that refuses only Reshard: %v", err)
	}
}
