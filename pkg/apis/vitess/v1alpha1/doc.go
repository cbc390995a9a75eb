// Package v1alpha1 is the v1alpha1 version of the vitess.planetscale.com API.
//
// +k8s:deepcopy-gen=package
// +k8s:conversion-gen=github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess
// +k8s:defaulter-gen=TypeMeta
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=com.planetscale.vitess.v1alpha1
// +groupName=vitess.planetscale.com
package v1alpha1
