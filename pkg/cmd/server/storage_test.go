package server

import (
	"bytes"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apiserver"
)

// TestStorageCodec: objects are written as protobuf by default, and what an earlier version wrote
// as JSON is still read; --storage-media-type=application/json writes JSON.
func TestStorageCodec(t *testing.T) {
	options := parse(t)
	codec, err := storageCodec(options.RecommendedOptions.Etcd.DefaultStorageMediaType)
	if err != nil {
		t.Fatal(err)
	}
	workflow := &vitess.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: "move-customer", Namespace: "tenant", Labels: map[string]string{"team": "payments"}},
		Spec:       vitess.VitessWorkflowSpec{Type: vitess.WorkflowTypeMoveTables, Cluster: "demo", SourceKeyspace: "commerce", TargetKeyspace: "customer", Tables: []string{"customer"}},
	}
	stored, err := runtime.Encode(codec, workflow)
	if err != nil {
		t.Fatal(err)
	}
	// Every protobuf object kube-apiserver's machinery writes starts with this magic.
	if !bytes.HasPrefix(stored, []byte("k8s\x00")) {
		t.Errorf("stored %q, want protobuf", stored)
	}
	storedByEarlierVersion, err := runtime.Encode(apiserver.Codecs.LegacyCodec(v1alpha1.SchemeGroupVersion), workflow)
	if err != nil {
		t.Fatal(err)
	}
	for what, data := range map[string][]byte{"protobuf": stored, "JSON": storedByEarlierVersion} {
		read, err := runtime.Decode(codec, data)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, ok := read.(*vitess.VitessWorkflow)
		if !ok || got.Name != workflow.Name || got.Labels["team"] != "payments" || got.Spec.TargetKeyspace != "customer" || len(got.Spec.Tables) != 1 {
			t.Errorf("%s: read %#v", what, read)
		}
	}

	asJSON, err := storageCodec(parse(t, "--storage-media-type=application/json").RecommendedOptions.Etcd.DefaultStorageMediaType)
	if err != nil {
		t.Fatal(err)
	}
	if stored, err := runtime.Encode(asJSON, workflow); err != nil || !bytes.HasPrefix(stored, []byte("{")) {
		t.Errorf("--storage-media-type=application/json stored %q (%v), want JSON", stored, err)
	}
}
