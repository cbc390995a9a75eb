package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// VitessCellTemplate declares a cell within a VitessCluster.
type VitessCellTemplate struct {
	// Name of the cell, as Vitess knows it.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Zone confines the cell's Pods to a failure domain (topology.kubernetes.io/zone).
	// +optional
	Zone string `json:"zone,omitempty" protobuf:"bytes,2,opt,name=zone"`
	// Region is passed to Vitess as the cell's region.
	// +optional
	Region string `json:"region,omitempty" protobuf:"bytes,3,opt,name=region"`
	// Lockserver is the cell-local topology store. Default: the global lockserver.
	// +optional
	Lockserver LockserverSpec `json:"lockserver,omitempty" protobuf:"bytes,4,opt,name=lockserver"`
	// Gateway deploys vtgate in the cell.
	// +optional
	Gateway VitessCellGatewaySpec `json:"gateway,omitempty" protobuf:"bytes,5,opt,name=gateway"`
}

// VitessCellGatewaySpec deploys vtgate in a cell.
type VitessCellGatewaySpec struct {
	ComponentSpec `json:",inline" protobuf:"bytes,1,opt,name=componentSpec"`
	// Authentication configures how MySQL clients log in to vtgate.
	// +optional
	Authentication VitessGatewayAuthentication `json:"authentication,omitempty" protobuf:"bytes,2,opt,name=authentication"`
	// Replicas is the number of vtgate Pods. Default: 1.
	// +optional
	Replicas *int32 `json:"replicas,omitempty" protobuf:"varint,3,opt,name=replicas"`
}

// VitessGatewayAuthentication configures vtgate's MySQL authentication.
type VitessGatewayAuthentication struct {
	// Static reads users and passwords from a JSON file in a Secret.
	// +optional
	Static *VitessGatewayStaticAuthentication `json:"static,omitempty" protobuf:"bytes,1,opt,name=static"`
}

// VitessGatewayStaticAuthentication is vtgate's static (file based) authentication.
type VitessGatewayStaticAuthentication struct {
	// Secret holds the users.json file vtgate reads with --mysql-auth-server-static-file.
	Secret *SecretSource `json:"secret" protobuf:"bytes,1,opt,name=secret"`
}

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCell is one cell of a VitessCluster: its vtgate and its entry in the Vitess topology.
// The owning VitessCluster writes its spec.
type VitessCell struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   VitessCellSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status VitessCellStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
}

// VitessCellSpec is a cell as its cluster declares it, with the cluster-wide settings it needs.
type VitessCellSpec struct {
	VitessCellTemplate `json:",inline" protobuf:"bytes,1,opt,name=vitessCellTemplate"`
	// GlobalLockserver is how the cell's components reach the global topology.
	// +optional
	GlobalLockserver VitessLockserverParams `json:"globalLockserver,omitempty" protobuf:"bytes,2,opt,name=globalLockserver"`
	// Images of the cell's components.
	// +optional
	Images VitessImages `json:"images,omitempty" protobuf:"bytes,3,opt,name=images"`
	// ExtraVitessFlags are passed to every Vitess component in the cell.
	// +optional
	ExtraVitessFlags map[string]string `json:"extraVitessFlags,omitempty" protobuf:"bytes,4,rep,name=extraVitessFlags"`
}

// VitessCellStatus is the observed state of a cell.
type VitessCellStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// Gateway counts the cell's vtgate Pods: desired and ready.
	// +optional
	Gateway ReadyCount `json:"gateway,omitempty" protobuf:"bytes,3,opt,name=gateway"`
	// GatewayServiceName is the cell's vtgate Service.
	// +optional
	GatewayServiceName string `json:"gatewayServiceName,omitempty" protobuf:"bytes,4,opt,name=gatewayServiceName"`
	// Registered is true once the cell exists in the Vitess topology.
	// +optional
	Registered bool `json:"registered,omitempty" protobuf:"varint,5,opt,name=registered"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCellList is a list of VitessCells.
type VitessCellList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessCell `json:"items" protobuf:"bytes,2,rep,name=items"`
}
