package integration

import (
	"context"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	applyv1alpha1 "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/applyconfiguration/vitess/v1alpha1"
	clientscheme "github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned/scheme"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/informers/externalversions"
)

// TestClientGo is what a client-go program does: the typed clientset, server-side apply through
// the generated apply configurations, an informer and its lister. The clientset prefers protobuf,
// and every answer must be protobuf.
func TestClientGo(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "clientgo")
	config := controlPlane.AdminConfig()
	answers := &mediaTypes{seen: map[string]int{}}
	config.Wrap(answers.counting)
	client := vitessClient(t, config)

	factory := externalversions.NewSharedInformerFactoryWithOptions(client, 0, externalversions.WithNamespace(ns))
	informer := factory.Vitess().V1alpha1().VitessWorkflows()
	var mu sync.Mutex
	seen := map[string][]string{}
	record := func(event string) func(obj any) {
		return func(obj any) {
			if tombstone, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tombstone.Obj
			}
			mu.Lock()
			defer mu.Unlock()
			name := obj.(*v1alpha1.VitessWorkflow).Name
			seen[name] = append(seen[name], event)
		}
	}
	_, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    record("add"),
		UpdateFunc: func(_, obj any) { record("update")(obj) },
		DeleteFunc: record("delete"),
	})
	if err != nil {
		t.Fatal(err)
	}
	informerCtx, stopInformers := context.WithCancel(context.Background())
	defer stopInformers()
	factory.Start(informerCtx.Done())
	if synced := factory.WaitForCacheSync(ctx.Done()); !synced[reflect.TypeOf(&v1alpha1.VitessWorkflow{})] {
		t.Fatalf("informer did not sync: %v", synced)
	}

	// Server-side apply with the generated apply configuration.
	apply := applyv1alpha1.VitessWorkflow("reshard-customer", ns).WithSpec(applyv1alpha1.VitessWorkflowSpec().
		WithType(v1alpha1.WorkflowTypeReshard).
		WithCluster("demo").
		WithTargetKeyspace("customer").
		WithSourceShards("-").
		WithTargetShards("-80", "80-"))
	workflows := client.VitessV1alpha1().VitessWorkflows(ns)
	applied, err := workflows.Apply(ctx, apply, metav1.ApplyOptions{FieldManager: "resharder", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if applied.Generation != 1 || applied.Spec.OnDDL != "IGNORE" || applied.Spec.AutoStart == nil || !*applied.Spec.AutoStart {
		t.Errorf("applied workflow lacks generation or defaults: %+v", applied)
	}

	// The reconciler reports the workflow's missing cluster once; write after it, not against it.
	eventually(t, "the reconciler reported the missing cluster", func() (bool, error) {
		applied, err = workflows.Get(ctx, "reshard-customer", metav1.GetOptions{})
		ready := meta.FindStatusCondition(applied.Status.Conditions, "Ready")
		return err == nil && ready != nil && ready.Reason == "ClusterNotFound", err
	})

	// Status goes through the status subresource only, and the spec through the main resource only.
	applied.Status.Phase = v1alpha1.WorkflowPhaseCopying
	applied.Status.CopyProgress = "42%"
	// (Not Ready: the reconciler owns it, and would write it back.)
	meta.SetStatusCondition(&applied.Status.Conditions, metav1.Condition{Type: "Progressing", Status: metav1.ConditionTrue, Reason: "Copying", Message: "copying rows"})
	applied.Spec.OnDDL = "STOP"
	withStatus, err := workflows.UpdateStatus(ctx, applied, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if withStatus.Status.Phase != v1alpha1.WorkflowPhaseCopying || withStatus.Spec.OnDDL != "IGNORE" || withStatus.Generation != 1 {
		t.Errorf("status update: phase %q, onDDL %q (spec must not change), generation %d", withStatus.Status.Phase, withStatus.Spec.OnDDL, withStatus.Generation)
	}
	withStatus.Status.Phase = v1alpha1.WorkflowPhaseCompleted
	withStatus.Labels = map[string]string{"team": "payments"}
	relabelled, err := workflows.Update(ctx, withStatus, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if relabelled.Status.Phase != v1alpha1.WorkflowPhaseCopying {
		t.Errorf("an update of the main resource changed status.phase to %q", relabelled.Status.Phase)
	}

	// The lister sees what the informer received.
	eventually(t, "lister shows the labelled workflow", func() (bool, error) {
		cached, err := informer.Lister().VitessWorkflows(ns).Get("reshard-customer")
		return err == nil && cached.Labels["team"] == "payments", err
	})
	if err := workflows.Delete(ctx, "reshard-customer", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "informer saw add, update and delete", func() (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		events := seen["reshard-customer"]
		return len(events) >= 3 && events[0] == "add" && events[len(events)-1] == "delete", nil
	})

	answers.mu.Lock()
	defer answers.mu.Unlock()
	if len(answers.seen) != 1 || answers.seen[runtime.ContentTypeProtobuf] == 0 {
		t.Errorf("media types of the group's answers: %v, want only %s", answers.seen, runtime.ContentTypeProtobuf)
	}
}

// mediaTypes counts the media types of the answers from the group's paths, through every
// transport counting wraps.
type mediaTypes struct {
	mu   sync.Mutex
	seen map[string]int
}

func (m *mediaTypes) counting(next http.RoundTripper) http.RoundTripper {
	return countingTransport{next: next, counts: m}
}

type countingTransport struct {
	next   http.RoundTripper
	counts *mediaTypes
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && strings.HasPrefix(req.URL.Path, "/apis/"+v1alpha1.SchemeGroupVersion.Group+"/") {
		mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		t.counts.mu.Lock()
		t.counts.seen[mediaType]++
		t.counts.mu.Unlock()
	}
	return resp, err
}

// TestProtobufAndJSON: a client that asks for protobuf gets it, one that asks for JSON gets JSON,
// and both read the same object.
func TestProtobufAndJSON(t *testing.T) {
	ctx := testContext(t)
	ns := newNamespace(t, "protobuf")
	created, err := vitessClient(t, controlPlane.AdminConfig()).VitessV1alpha1().VitessWorkflows(ns).Create(ctx, &v1alpha1.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: "move-customer", Labels: map[string]string{"team": "payments"}},
		Spec: v1alpha1.VitessWorkflowSpec{
			Type: v1alpha1.WorkflowTypeMoveTables, Cluster: "demo",
			SourceKeyspace: "commerce", TargetKeyspace: "customer", Tables: []string{"customer", "corder"},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		config := controlPlane.AdminConfig()
		config.AcceptContentTypes = want
		config.GroupVersion = &v1alpha1.SchemeGroupVersion
		config.APIPath = "/apis"
		config.NegotiatedSerializer = clientscheme.Codecs.WithoutConversion()
		restClient, err := rest.RESTClientFor(config)
		if err != nil {
			t.Fatal(err)
		}
		result := restClient.Get().Namespace(ns).Resource("vitessworkflows").Do(ctx)
		if err := result.Error(); err != nil {
			t.Fatal(err)
		}
		var contentType string
		result.ContentType(&contentType)
		if mediaType, _, _ := mime.ParseMediaType(contentType); mediaType != want {
			t.Errorf("asked for %s, got %q", want, contentType)
		}
		var list v1alpha1.VitessWorkflowList
		if err := result.Into(&list); err != nil {
			t.Fatal(err)
		}
		if len(list.Items) != 1 || !reflect.DeepEqual(list.Items[0].Spec, created.Spec) || list.Items[0].Labels["team"] != "payments" {
			t.Errorf("%s: read %+v, want the created workflow %+v", want, list.Items, created)
		}
	}
}
