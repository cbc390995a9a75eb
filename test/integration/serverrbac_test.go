package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// serverCalls is every call the server makes to kube-apiserver as its ServiceAccount under the
// rules of artifacts/install.yaml, by "group/resource" (the core group is ""; "(name)" where the
// grant is of one object), with the code that makes it. (Delegated authentication and authorisation have bindings of their own.)
var serverCalls = map[string][]string{
	// NamespaceLifecycle admission (k8s.io/apiserver): a namespace it has not cached is read.
	"/namespaces": {"get", "list", "watch"},
	// Webhook and policy admission (k8s.io/apiserver) watch their configuration.
	"admissionregistration.k8s.io/mutatingwebhookconfigurations":     {"list", "watch"},
	"admissionregistration.k8s.io/validatingwebhookconfigurations":   {"list", "watch"},
	"admissionregistration.k8s.io/validatingadmissionpolicies":       {"list", "watch"},
	"admissionregistration.k8s.io/validatingadmissionpolicybindings": {"list", "watch"},
	"admissionregistration.k8s.io/mutatingadmissionpolicies":         {"list", "watch"},
	"admissionregistration.k8s.io/mutatingadmissionpolicybindings":   {"list", "watch"},
	// API Priority and Fairness (k8s.io/apiserver): the configuration controller.
	"flowcontrol.apiserver.k8s.io/flowschemas":                        {"list", "watch"},
	"flowcontrol.apiserver.k8s.io/prioritylevelconfigurations":        {"list", "watch"},
	"flowcontrol.apiserver.k8s.io/flowschemas/status":                 {"patch"},
	"flowcontrol.apiserver.k8s.io/prioritylevelconfigurations/status": {"patch"},
	// pkg/reconcile: informers list and watch; pass.go and shard.go write.
	"/pods":                       {"list", "watch", "create", "patch", "delete"},
	"/services":                   {"list", "watch", "create", "update", "delete"},
	"/persistentvolumeclaims":     {"list", "watch", "create", "patch"},
	"apps/deployments":            {"list", "watch", "create", "update", "delete"},
	"policy/poddisruptionbudgets": {"list", "watch", "create", "update"},
	// pkg/reconcile/cluster/backupschedule.go: backup schedules' CronJobs, and their Jobs read.
	"batch/cronjobs": {"list", "watch", "create", "update", "delete"},
	"batch/jobs":     {"list", "watch"},
	// pkg/cmd/server: the events.k8s.io recorder.
	"events.k8s.io/events": {"create", "patch"},
	// OwnerReferencesPermissionEnforcement, for the blockOwnerDeletion references of what the loop
	// makes (pkg/reconcile/internal/objects, pkg/reconcile/lockserver); the loop itself reaches this group through the loopback.
	"vitess.planetscale.com/vitessclusters/finalizers":  {"update"},
	"vitess.planetscale.com/etcdlockservers/finalizers": {"update"},
	"vitess.planetscale.com/vitessshards/finalizers":    {"update"},
	// pkg/certs: the self-managed serving certificate's CA bundle, in its own APIService only.
	"apiregistration.k8s.io/apiservices(v1alpha1.vitess.planetscale.com)": {"get", "patch"},
	// pkg/reconcile/leader.go: the Lease, in the server's namespace only.
	framework.ServerNamespace + ":coordination.k8s.io/leases": {"get", "create", "update"},
	// pkg/certs: the Secrets of its serving and etcd certificates, in the server's namespace only.
	framework.ServerNamespace + ":/secrets": {"get", "list", "watch", "create", "update"},
}

// TestServerRBACIsLeastPrivilege reads the server's ClusterRole and leader-election Role as
// shipped and fails on any verb that no call of the server needs, and on any call it makes without
// a grant; then it checks kube-apiserver's audit log of this run: no request of the server's was
// refused.
func TestServerRBACIsLeastPrivilege(t *testing.T) {
	granted := grantsOfServer(t, filepath.Join(repoRoot, "artifacts", "install.yaml"))
	needed := sets.New[string]()
	for resource, verbs := range serverCalls {
		for _, verb := range verbs {
			needed.Insert(resource + " " + verb)
		}
	}
	for _, extra := range sets.List(granted.Difference(needed)) {
		t.Errorf("install.yaml grants %s, which no call of the server needs", extra)
	}
	for _, missing := range sets.List(needed.Difference(granted)) {
		t.Errorf("the server calls %s, which install.yaml does not grant", missing)
	}

	account := "system:serviceaccount:" + framework.ServerNamespace + ":" + framework.ServerName
	refused := sets.New[string]()
	for _, line := range strings.Split(readFile(t, controlPlane.AuditLogPath()), "\n") {
		var event struct {
			Stage       string                                                       `json:"stage"`
			Verb        string                                                       `json:"verb"`
			User        struct{ Username string }                                    `json:"user"`
			ObjectRef   *struct{ Namespace, APIGroup, Resource, Subresource string } `json:"objectRef"`
			Annotations map[string]string                                            `json:"annotations"`
		}
		// Authorization's own refusals: a 403 from admission (a namespace being deleted) is not one.
		if json.Unmarshal([]byte(line), &event) != nil || event.Stage != "ResponseComplete" || event.User.Username != account ||
			event.Annotations["authorization.k8s.io/decision"] != "forbid" || event.ObjectRef == nil {
			continue
		}
		ref := event.ObjectRef
		refused.Insert(fmt.Sprintf("%s %s/%s/%s in %q", event.Verb, ref.APIGroup, ref.Resource, ref.Subresource, ref.Namespace))
	}
	if refused.Len() > 0 {
		t.Errorf("kube-apiserver's authorization refused the server: %s", strings.Join(sets.List(refused), "; "))
	}
}

// grantsOfServer is what the server's ClusterRole and Role in path grant, as "group/resource
// verb", and "namespace:group/resource verb" for a Role.
func grantsOfServer(t *testing.T, path string) sets.Set[string] {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	granted := sets.New[string]()
	add := func(prefix string, rules []rbacv1.PolicyRule) {
		for _, rule := range rules {
			if len(rule.NonResourceURLs) > 0 {
				t.Errorf("unexpected rule %+v: the test reads API groups, resources, names and verbs only", rule)
			}
			objects := []string{""}
			if len(rule.ResourceNames) > 0 {
				objects = nil
				for _, name := range rule.ResourceNames {
					objects = append(objects, "("+name+")")
				}
			}
			for _, group := range rule.APIGroups {
				for _, resource := range rule.Resources {
					for _, object := range objects {
						for _, verb := range rule.Verbs {
							if slices.Contains([]string{group, resource, verb}, "*") {
								t.Errorf("install.yaml grants a wildcard: %+v", rule)
							}
							granted.Insert(prefix + group + "/" + resource + object + " " + verb)
						}
					}
				}
			}
		}
	}
	decoder := utilyaml.NewYAMLOrJSONDecoder(file, 4096)
	kinds := []string{}
	for {
		var object struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
			Rules    []rbacv1.PolicyRule
		}
		if err := decoder.Decode(&object); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		// The other ClusterRoles are the users' (aggregated into view, edit and admin).
		switch {
		case object.Kind == "ClusterRole" && object.Metadata.Name == framework.ServerName:
			add("", object.Rules)
		case object.Kind == "Role" && object.Metadata.Namespace == framework.ServerNamespace:
			add(object.Metadata.Namespace+":", object.Rules)
		default:
			continue
		}
		kinds = append(kinds, object.Kind)
	}
	if !slices.Contains(kinds, "ClusterRole") || !slices.Contains(kinds, "Role") {
		t.Fatalf("%s holds %v; want the server's ClusterRole and its Role in %s", path, kinds, framework.ServerNamespace)
	}
	return granted
}
