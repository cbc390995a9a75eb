package certs

import (
	"context"
	"encoding/base64"
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// APIServicesResource is the aggregator's registration of API groups, reached through the
// dynamic client: k8s.io/kube-aggregator's typed client is a large dependency for one field.
var APIServicesResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// APIService is the caBundle of one APIService.
type APIService struct {
	Client dynamic.Interface
	Name   string
}

var _ CABundleTarget = APIService{}

// CABundle decodes spec.caBundle (base64 in JSON).
func (a APIService) CABundle(ctx context.Context) ([]byte, error) {
	obj, err := a.Client.Resource(APIServicesResource).Get(ctx, a.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	encoded, _, err := unstructured.NestedString(obj.Object, "spec", "caBundle")
	if err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(encoded)
}

// SetCABundle changes spec.caBundle and nothing else, with a JSON merge patch.
func (a APIService) SetCABundle(ctx context.Context, bundle []byte) error {
	// encoding/json writes a []byte as base64, as the API wants it.
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"caBundle": bundle}})
	if err != nil {
		return err
	}
	_, err = a.Client.Resource(APIServicesResource).Patch(ctx, a.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "vitess-apiserver"})
	return err
}
