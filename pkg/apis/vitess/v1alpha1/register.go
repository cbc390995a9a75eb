package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group served by vitess-apiserver.
const GroupName = "vitess.planetscale.com"

// SchemeGroupVersion is the group version used to register these objects.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: "v1alpha1"}

// Resource takes an unqualified resource and returns a group-qualified GroupResource.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	// localSchemeBuilder is extended by the generated conversion and defaulting functions.
	localSchemeBuilder = &SchemeBuilder
	SchemeBuilder      = runtime.NewSchemeBuilder(addKnownTypes, addDefaultingFuncs)
	AddToScheme        = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion,
		&VitessCluster{}, &VitessClusterList{},
		&EtcdLockserver{}, &EtcdLockserverList{},
		&VitessCell{}, &VitessCellList{},
		&VitessKeyspace{}, &VitessKeyspaceList{},
		&VitessShard{}, &VitessShardList{},
		&VitessWorkflow{}, &VitessWorkflowList{},
		&VitessTablet{}, &VitessTabletList{},
		&VitessBackup{}, &VitessBackupList{},
		&VitessMoveTablesRequest{}, &VitessReshardRequest{},
		&VitessKeyspaceVSchema{}, &VitessSchemaRequest{},
		&VitessSwitchReadsRequest{}, &VitessSwitchWritesRequest{}, &VitessReverseTrafficRequest{},
		&VitessCompleteRequest{}, &VitessCancelRequest{}, &VitessVDiffRequest{},
		&VitessBackupRequest{}, &VitessRestoreRequest{},
	)
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}
