package integration

import (
	"fmt"
	"strings"
	"testing"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestBadManifestsAreRefused applies invalid clusters with kubectl: each is refused with the
// field path of the mistake, and nothing is stored.
func TestBadManifestsAreRefused(t *testing.T) {
	ns := newNamespace(t, "invalid")
	good := clusterManifest(ns, "bad")
	for _, tc := range []struct {
		name, from, to, wantPath string
	}{
		{"unknown tablet type", "type: replica", "type: master", "spec.keyspaces[0].partitionings[0].equal.shardTemplate.tabletPools[0].type"},
		{"undeclared cell", "{cell: zone1, type: replica", "{cell: zone9, type: replica", "spec.keyspaces[0].partitionings[0].equal.shardTemplate.tabletPools[0].cell"},
		{"too many replicas", "replicas: 2}", "replicas: 1000}", "spec.keyspaces[0].partitionings[0].equal.shardTemplate.tabletPools[0].replicas"},
		{"zero parts", "parts: 1", "parts: 0", "spec.keyspaces[0].partitionings[0].equal.parts"},
		{"bad keyspace name", "name: commerce", "name: Commerce_DB", "spec.keyspaces[0].name"},
		{"duplicate cell", "  - name: zone1\n", "  - name: zone1\n  - name: zone1\n", "spec.cells[1]"},
		{"missing init script key", "key: init_db.sql}", "key: \"\"}", "spec.keyspaces[0].partitionings[0].equal.shardTemplate.databaseInitScriptSecret.key"},
		{"gap in custom key ranges", "    - equal:\n        parts: 1\n        shardTemplate:", "    - custom:\n        shards:\n        - keyRange: {start: \"\", end: \"40\"}\n          databaseInitScriptSecret: {name: init, key: init_db.sql}\n        - keyRange: {start: \"80\", end: \"\"}\n          databaseInitScriptSecret: {name: init, key: init_db.sql}\n      equal:\n        parts: 1\n        shardTemplate:", "spec.keyspaces[0].partitionings[0]"},
		{"unknown field", "  cells:", "  cellz: []\n  cells:", "cellz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			manifest := strings.Replace(good, tc.from, tc.to, 1)
			if manifest == good {
				t.Fatalf("fixture did not change: %q not found", tc.from)
			}
			out, err := kubectlWithInput(t, manifest, "apply", "-f", "-")
			if err == nil {
				t.Fatalf("accepted:\n%s", manifest)
			}
			if !strings.Contains(out, tc.wantPath) {
				t.Errorf("error does not name %s:\n%s", tc.wantPath, out)
			}
			if out, err := controlPlaneKubectlErr(t, "get", "vitesscluster", "bad", "-n", ns); err == nil {
				t.Errorf("refused object was stored:\n%s", out)
			}
		})
	}
}

// TestRefusalIs422WithCauses checks the API status a client-go program gets, and that a refused
// update changes nothing: replacing a keyspace's serving partitioning in one step is refused.
func TestRefusalIs422WithCauses(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "refusal")
	mustApply(t, clusterManifest(ns, "demo"))
	client := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1().VitessClusters(ns)
	// The reconciler writes the status of a new cluster; wait for it, so that only the refused
	// update could change the object.
	waitInSync(t, client, "demo")
	before, err := client.Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	patch := `{"spec":{"keyspaces":[{"name":"commerce","partitionings":[{"equal":{"parts":2,"shardTemplate":{"databaseInitScriptSecret":{"name":"init","key":"init_db.sql"}}}}]}]}}`
	_, err = client.Patch(ctx, "demo", types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("replacing the serving partitioning: want 422 Invalid, got %v", err)
	}
	status := err.(apierrors.APIStatus).Status()
	if status.Code != 422 || status.Details == nil || len(status.Details.Causes) == 0 {
		t.Fatalf("status lacks causes: %+v", status)
	}
	var fields []string
	for _, cause := range status.Details.Causes {
		fields = append(fields, cause.Field)
	}
	if !strings.Contains(strings.Join(fields, " "), "spec.keyspaces[0].partitionings") {
		t.Errorf("causes name no partitioning field: %v", fields)
	}
	after, err := client.Get(ctx, "demo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The reconciler may still be writing the status (it reads a topology it cannot reach): what
	// the refusal must leave alone is the spec.
	if after.Generation != before.Generation || !apiequality.Semantic.DeepEqual(after.Spec, before.Spec) {
		t.Errorf("a refused update changed the object: generation %d → %d, spec %+v → %+v", before.Generation, after.Generation, before.Spec, after.Spec)
	}

	// Adding the new partitioning first, and removing the old one after, is the supported path.
	add := `{"spec":{"keyspaces":[{"name":"commerce","partitionings":[` +
		`{"equal":{"parts":1,"shardTemplate":{"databaseInitScriptSecret":{"name":"init","key":"init_db.sql"}}}},` +
		`{"equal":{"parts":2,"shardTemplate":{"databaseInitScriptSecret":{"name":"init","key":"init_db.sql"}}}}]}]}}`
	if _, err := client.Patch(ctx, "demo", types.MergePatchType, []byte(add), metav1.PatchOptions{}); err != nil {
		t.Fatalf("adding a second partitioning: %v", err)
	}
	remove := fmt.Sprintf(`{"spec":{"keyspaces":[{"name":"commerce","partitionings":[%s]}]}}`,
		`{"equal":{"parts":2,"shardTemplate":{"databaseInitScriptSecret":{"name":"init","key":"init_db.sql"}}}}`)
	if _, err := client.Patch(ctx, "demo", types.MergePatchType, []byte(remove), metav1.PatchOptions{}); err != nil {
		t.Fatalf("removing the old partitioning: %v", err)
	}
}
