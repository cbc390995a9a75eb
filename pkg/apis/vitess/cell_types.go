package vitess

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VitessCellTemplate declares a cell within a VitessCluster.
type VitessCellTemplate struct {
	// Name of the cell, as Vitess knows it.
	Name string
	// Zone confines the cell's Pods to a failure domain (topology.kubernetes.io/zone).
	Zone string
	// Region is passed to Vitess as the cell's region.
	Region string
	// Lockserver is the cell-local topology store. Default: the global lockserver.
	Lockserver LockserverSpec
	// Gateway deploys vtgate in the cell.
	Gateway VitessCellGatewaySpec
}

// VitessCellGatewaySpec deploys vtgate in a cell.
type VitessCellGatewaySpec struct {
	ComponentSpec
	// Authentication configures how MySQL clients log in to vtgate.
	Authentication VitessGatewayAuthentication
	// Replicas is the number of vtgate Pods. Default: 1.
	Replicas *int32
}

// VitessGatewayAuthentication configures vtgate's MySQL authentication.
type VitessGatewayAuthentication struct {
	// Static reads users and passwords from a JSON file in a Secret.
	Static *VitessGatewayStaticAuthentication
}

// VitessGatewayStaticAuthentication is vtgate's static (file based) authentication.
type VitessGatewayStaticAuthentication struct {
	// Secret holds the users.json file vtgate reads with --mysql-auth-server-static-file.
	Secret *SecretSource
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCell is one cell of a VitessCluster: its vtgate and its entry in the Vitess topology.
// The owning VitessCluster writes its spec.
type VitessCell struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   VitessCellSpec
	Status VitessCellStatus
}

// VitessCellSpec is a cell as its cluster declares it, with the cluster-wide settings it needs.
type VitessCellSpec struct {
	VitessCellTemplate
	// GlobalLockserver is how the cell's components reach the global topology.
	GlobalLockserver VitessLockserverParams
	// Images of the cell's components.
	Images VitessImages
	// ExtraVitessFlags are passed to every Vitess component in the cell.
	ExtraVitessFlags map[string]string
}

// VitessCellStatus is the observed state of a cell.
type VitessCellStatus struct {
	// ObservedGeneration is the generation this status describes.
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded.
	Conditions []metav1.Condition
	// Gateway counts the cell's vtgate Pods: desired and ready.
	Gateway ReadyCount
	// GatewayServiceName is the cell's vtgate Service.
	GatewayServiceName string
	// Registered is true once the cell exists in the Vitess topology.
	Registered bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCellList is a list of VitessCells.
type VitessCellList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []VitessCell
}
