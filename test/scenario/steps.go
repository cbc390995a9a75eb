package scenario

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	typed "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/typed/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// waitTimeout bounds each wait of the story, so that a stuck step fails naming what it waited
// for; it is generous because on a real node every tablet Pod starts its mysqld for real.
const waitTimeout = 5 * time.Minute

// Eventually polls cond until it holds, failing the test with cond's last error once ctx ends.
func Eventually(ctx context.Context, t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("%s: timed out (last error: %v)", what, lastErr)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// NewNamespace creates a namespace named after prefix and deletes it when the test ends.
func NewNamespace(ctx context.Context, t *testing.T, cp *framework.ControlPlane, prefix string) string {
	t.Helper()
	name := prefix + "-" + rand.String(5)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cp.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		err := cp.Client().CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			t.Errorf("deleting namespace %s: %v", name, err)
		}
	})
	return name
}

func (s *story) eventually(what string, cond func() (bool, error)) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, waitTimeout)
	defer cancel()
	Eventually(ctx, s.t, what, cond)
}

// kubectl runs kubectl as the cluster admin with input on its stdin, and returns its output.
func (s *story) kubectl(input string, args ...string) (string, error) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, waitTimeout)
	defer cancel()
	out, errOut, err := s.cp.KubectlInput(ctx, input, args...)
	return out + errOut, err
}

// apply applies a manifest with kubectl and fails the test if it is refused.
func (s *story) apply(manifest string) {
	s.t.Helper()
	if out, err := s.kubectl(manifest, "apply", "-f", "-"); err != nil {
		s.t.Fatalf("kubectl apply: %v\n%s\nmanifest:\n%s", err, out, manifest)
	}
}

// exec runs a statement through vtgate.
func (s *story) exec(db *sql.DB, statement string) {
	s.t.Helper()
	if _, err := db.ExecContext(s.ctx, statement); err != nil {
		s.t.Fatalf("%s: %v", statement, err)
	}
}

func (s *story) workflows() typed.VitessWorkflowInterface { return s.api.VitessWorkflows(s.ns) }

// schema posts SQL with plain kubectl, as the README shows.
func (s *story) schema(keyspace, sql string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessSchemaRequest","metadata":{"name":%q},"sql":%q}`, keyspace, sql)
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitesskeyspaces/%s/schema", s.ns, keyspace)
	out, err := s.kubectl(body, "create", "--raw", path, "-f", "-")
	if err != nil || strings.Count(out, `"statement"`) != 3 {
		s.t.Fatalf("schema of %s: %v\n%s", keyspace, err, out)
	}
}

func (s *story) vschema(keyspace, vschema string) {
	s.t.Helper()
	if _, err := s.api.VitessKeyspaces(s.ns).UpdateVSchema(s.ctx, keyspace, &v1alpha1.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: keyspace}, VSchema: runtime.RawExtension{Raw: []byte(vschema)},
	}, metav1.UpdateOptions{}); err != nil {
		s.t.Fatalf("vschema of %s: %v", keyspace, err)
	}
}

func (s *story) waitWorkflow(name, what string, done func(*v1alpha1.VitessWorkflow) bool) *v1alpha1.VitessWorkflow {
	s.t.Helper()
	var last *v1alpha1.VitessWorkflow
	defer func() {
		if s.t.Failed() && last != nil {
			s.t.Logf("workflow %s last seen: %+v", name, last.Status)
		}
	}()
	s.eventually("workflow "+name+" "+what, func() (bool, error) {
		got, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
		last = got
		return err == nil && done(got), err
	})
	return last
}

// refused checks that an action is refused with 409 and changes nothing.
func (s *story) refused(name, what string, act func(typed.VitessWorkflowInterface) error) {
	s.t.Helper()
	before, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := act(s.workflows()); !apierrors.IsConflict(err) {
		s.t.Errorf("%s: got %v, want 409", what, err)
	}
	after, err := s.workflows().Get(s.ctx, name, metav1.GetOptions{})
	if err != nil || after.Status.PendingAction != nil || after.Status.TrafficState != before.Status.TrafficState {
		s.t.Errorf("%s changed the workflow: %v %+v", what, err, after.Status)
	}
}

// tenantChecks: a tenant who may only read cannot switch writes, and one in another namespace
// does not see the workflow at all.
func (s *story) tenantChecks(workflow string) {
	t := s.t
	other := NewNamespace(s.ctx, t, s.cp, "scenario-other")
	for _, binding := range []struct{ namespace, user, role string }{{s.ns, "reader", "vitess-viewer"}, {other, "neighbour", "edit"}} {
		if _, err := s.cp.Client().RbacV1().RoleBindings(binding.namespace).Create(s.ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: binding.user},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: binding.user}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: binding.role},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	reader := versioned.NewForConfigOrDie(s.cp.ImpersonatedConfig("reader")).VitessV1alpha1()
	neighbour := versioned.NewForConfigOrDie(s.cp.ImpersonatedConfig("neighbour")).VitessV1alpha1()
	request := &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}
	s.eventually("the reader may read the workflow", func() (bool, error) {
		_, err := reader.VitessWorkflows(s.ns).Get(s.ctx, workflow, metav1.GetOptions{})
		return err == nil, nil
	})
	_, err := reader.VitessWorkflows(s.ns).SwitchWrites(s.ctx, workflow, request, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("a reader's switchwrites: got %v, want 403", err)
	}
	s.eventually("the neighbour may act in its own namespace", func() (bool, error) {
		_, err := neighbour.VitessWorkflows(other).List(s.ctx, metav1.ListOptions{})
		return err == nil, nil
	})
	_, err = neighbour.VitessWorkflows(other).SwitchWrites(s.ctx, workflow, request, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("switchwrites on %s from another namespace: got %v, want 404", workflow, err)
	}
}

func (s *story) vdiffClean(name string) {
	s.t.Helper()
	started, err := s.workflows().VDiff(s.ctx, name, &v1alpha1.VitessVDiffRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		s.t.Fatalf("vdiff of %s: %v", name, err)
	}
	uuid := started.Status.LastVDiff.UUID
	done := s.waitWorkflow(name, "VDiff "+uuid+" completed", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.LastVDiff != nil && w.Status.LastVDiff.UUID == uuid && (w.Status.LastVDiff.State == "completed" || w.Status.LastVDiff.State == "error")
	})
	if vdiff := done.Status.LastVDiff; vdiff.State != "completed" || vdiff.HasMismatch || vdiff.RowsCompared == 0 {
		s.t.Errorf("VDiff of %s: %+v, want completed, rows compared, no mismatch", name, vdiff)
	}
}

// switchReads moves reads with plain kubectl, as the README shows, and waits for the outcome.
func (s *story) switchReads(name string, types ...string) {
	s.t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"vitess.planetscale.com/v1alpha1","kind":"VitessSwitchReadsRequest","metadata":{"name":%q},"tabletTypes":["%s"]}`,
		name, strings.Join(types, `","`))
	path := fmt.Sprintf("/apis/vitess.planetscale.com/v1alpha1/namespaces/%s/vitessworkflows/%s/switchreads", s.ns, name)
	if out, err := s.kubectl(body, "create", "--raw", path, "-f", "-"); err != nil {
		s.t.Fatalf("switchreads %v of %s: %v\n%s", types, name, err, out)
	}
	s.waitDone(name, "SwitchReads", func(w *v1alpha1.VitessWorkflow) bool {
		for _, t := range types {
			if !strings.Contains(strings.Join(w.Status.ReadsSwitched, ","), t) {
				return false
			}
		}
		return true
	})
}

// reverseTraffic moves back whatever has moved, the request naming no tablet types.
func (s *story) reverseTraffic(name string) {
	s.t.Helper()
	if _, err := s.workflows().ReverseTraffic(s.ctx, name, &v1alpha1.VitessReverseTrafficRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("reversetraffic of %s: %v", name, err)
	}
	s.waitDone(name, "ReverseTraffic", func(w *v1alpha1.VitessWorkflow) bool {
		return len(w.Status.ReadsSwitched) == 0 && !w.Status.WritesSwitched
	})
}

// cancelled starts a second MoveTables into keyspace customer (of table product), this one
// applied as a VitessWorkflow with kubectl, and cancels it: Vitess deletes the workflow and what
// it copied, and product stays served by commerce.
func (s *story) cancelled() {
	t := s.t
	t.Helper()
	s.apply(fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessWorkflow
metadata: {name: products, namespace: %s}
spec: {type: MoveTables, cluster: demo, targetKeyspace: customer, sourceKeyspace: commerce, tables: [product]}
`, s.ns))
	const workflow = "products"
	s.waitWorkflow(workflow, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	if _, err := s.workflows().Cancel(s.ctx, workflow, &v1alpha1.VitessCancelRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("cancel of %s: %v", workflow, err)
	}
	s.waitDone(workflow, "Cancel", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCancelled })
	_, err := s.workflows().SwitchReads(s.ctx, workflow, &v1alpha1.VitessSwitchReadsRequest{ObjectMeta: metav1.ObjectMeta{Name: workflow}}, metav1.CreateOptions{})
	if !apierrors.IsConflict(err) {
		t.Errorf("switchreads of a cancelled workflow: got %v, want 409", err)
	}
}

// deleted: a VitessWorkflow deleted while it copies is cancelled in Vitess before it goes (it
// used to go at once, and its workflow ran on in Vitess with nothing in Kubernetes to show it).
func (s *story) deleted() {
	t := s.t
	t.Helper()
	const workflow = "products-deleted"
	s.apply(fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessWorkflow
metadata: {name: %s, namespace: %s}
spec: {type: MoveTables, cluster: demo, targetKeyspace: customer, sourceKeyspace: commerce, tables: [product]}
`, workflow, s.ns))
	s.waitWorkflow(workflow, "copied and running", func(w *v1alpha1.VitessWorkflow) bool {
		return w.Status.Phase == v1alpha1.WorkflowPhaseRunning && w.Status.CopyProgress == "100%"
	})
	if err := s.workflows().Delete(s.ctx, workflow, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	s.eventually("the deleted workflow's object gone", func() (bool, error) {
		_, err := s.workflows().Get(s.ctx, workflow, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if lister, ok := s.backend.(WorkflowLister); ok {
		if running := lister.WorkflowsInVitess(t, "customer"); slices.Contains(running, workflow) {
			t.Errorf("Vitess still runs workflow %s after its VitessWorkflow was deleted: %v", workflow, running)
		}
	}
}

func (s *story) switchWrites(name string) {
	s.t.Helper()
	if _, err := s.workflows().SwitchWrites(s.ctx, name, &v1alpha1.VitessSwitchWritesRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("switchwrites of %s: %v", name, err)
	}
	s.waitDone(name, "SwitchWrites", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.WritesSwitched })
}

func (s *story) complete(name string) {
	s.t.Helper()
	if _, err := s.workflows().Complete(s.ctx, name, &v1alpha1.VitessCompleteRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		s.t.Fatalf("complete of %s: %v", name, err)
	}
	s.waitDone(name, "Complete", func(w *v1alpha1.VitessWorkflow) bool { return w.Status.Phase == v1alpha1.WorkflowPhaseCompleted })
}

// waitDone waits for an action's condition to be True and the state it leads to, and fails at
// once if the action failed.
func (s *story) waitDone(name, condition string, reached func(*v1alpha1.VitessWorkflow) bool) {
	s.t.Helper()
	s.waitWorkflow(name, condition+" done", func(w *v1alpha1.VitessWorkflow) bool {
		c := meta.FindStatusCondition(w.Status.Conditions, condition)
		if c != nil && c.Status == metav1.ConditionFalse && w.Status.PendingAction == nil {
			s.t.Fatalf("%s of %s failed: %s", condition, name, c.Message)
		}
		return w.Status.PendingAction == nil && c != nil && c.Status == metav1.ConditionTrue && reached(w)
	})
}

// rollCommerce applies cluster, in which commerce's tablets have a new spec but not a new image (a
// real node has only the images it was given): the reconciler replaces the replicas first, then
// moves the primary role away with a planned reparent and replaces the old primary's Pod last.
func (s *story) rollCommerce(cluster string) {
	t := s.t
	shardName := names.Shard("demo", "commerce", "x-x")
	before, err := s.api.VitessShards(s.ns).Get(s.ctx, shardName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	oldPrimary := before.Status.PrimaryAlias
	s.apply(cluster)
	s.eventually("commerce rolled, with a new primary", func() (bool, error) {
		shard, err := s.api.VitessShards(s.ns).Get(s.ctx, shardName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		progressing := meta.FindStatusCondition(shard.Status.Conditions, v1alpha1.ConditionProgressing)
		return shard.Status.PrimaryAlias != "" && shard.Status.PrimaryAlias != oldPrimary && progressing != nil &&
			progressing.Status == metav1.ConditionFalse && shard.Status.Tablets.Ready == 3, nil
	})
	// Events are written in the background: wait for the three replacements and the reparent.
	var replaced []string
	reparented := false
	s.eventually("the ReplacingTablet and PlannedReparent Events", func() (bool, error) {
		events, err := s.cp.Client().EventsV1().Events(s.ns).List(s.ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		sort.SliceStable(events.Items, func(i, j int) bool { return events.Items[i].EventTime.Before(&events.Items[j].EventTime) })
		replaced, reparented = nil, false
		for _, event := range events.Items {
			if event.Regarding.Name != shardName {
				continue
			}
			switch event.Reason {
			case "ReplacingTablet":
				replaced = append(replaced, event.Note)
			case "PlannedReparent":
				reparented = true
			}
		}
		return reparented && len(replaced) == 3, nil
	})
	if !strings.Contains(replaced[len(replaced)-1], oldPrimary) {
		t.Errorf("tablets replaced in this order: %q; want the old primary %s last", replaced, oldPrimary)
	}
}
