package vitess

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupName is the API group served by vitess-apiserver.
const GroupName = "vitess.planetscale.com"

// SchemeGroupVersion is the internal version used to register these objects.
var SchemeGroupVersion = schema.GroupVersion{Group: GroupName, Version: runtime.APIVersionInternal}

// Kind takes an unqualified kind and returns a group-qualified GroupKind.
func Kind(kind string) schema.GroupKind {
	return SchemeGroupVersion.WithKind(kind).GroupKind()
}

// Resource takes an unqualified resource and returns a group-qualified GroupResource.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	AddToScheme   = SchemeBuilder.AddToScheme
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
	return nil
}
