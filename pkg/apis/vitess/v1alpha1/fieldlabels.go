package v1alpha1

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
)

// selectableFields are the fields, besides metadata.name and metadata.namespace, that a field
// selector may use on each kind. The registry's attribute functions fill in their values.
var selectableFields = map[string][]string{
	"VitessCell":     {"spec.name"},
	"VitessKeyspace": {"spec.name", "spec.cluster"},
	"VitessShard":    {"spec.name", "spec.keyspaceName", "spec.cluster"},
	"VitessWorkflow": {"spec.cluster", "spec.targetKeyspace", "spec.type", "status.phase"},
}

func init() {
	localSchemeBuilder.Register(addFieldLabelConversions)
}

func addFieldLabelConversions(scheme *runtime.Scheme) error {
	for _, kind := range []string{"VitessCluster", "EtcdLockserver", "VitessCell", "VitessKeyspace", "VitessShard", "VitessWorkflow"} {
		allowed := map[string]bool{"metadata.name": true, "metadata.namespace": true}
		for _, field := range selectableFields[kind] {
			allowed[field] = true
		}
		err := scheme.AddFieldLabelConversionFunc(SchemeGroupVersion.WithKind(kind), func(label, value string) (string, string, error) {
			if !allowed[label] {
				return "", "", fmt.Errorf("field label not supported for %s: %s", kind, label)
			}
			return label, value, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
