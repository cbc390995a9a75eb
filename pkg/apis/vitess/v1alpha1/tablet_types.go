package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:readonly
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessTablet is a tablet as Vitess' topology records it, read-only: it is served from the
// topology of the namespace's VitessClusters, not stored. Its name is
// <cluster>-<cell>-<uid>, e.g. example-zone1-2469782763.
type VitessTablet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Status VitessTabletStatus `json:"status,omitempty" protobuf:"bytes,2,opt,name=status"`
}

// VitessTabletStatus is what the topology says of a tablet.
type VitessTabletStatus struct {
	// Cluster is the VitessCluster the tablet belongs to.
	Cluster string `json:"cluster" protobuf:"bytes,1,opt,name=cluster"`
	// Alias is Vitess' name of the tablet, <cell>-<uid> with the uid zero-padded to 10 digits.
	Alias    string `json:"alias" protobuf:"bytes,2,opt,name=alias"`
	Cell     string `json:"cell" protobuf:"bytes,3,opt,name=cell"`
	Keyspace string `json:"keyspace" protobuf:"bytes,4,opt,name=keyspace"`
	Shard    string `json:"shard" protobuf:"bytes,5,opt,name=shard"`
	// Type is the tablet's current type: PRIMARY, REPLICA, RDONLY, SPARE, BACKUP, DRAINED...
	Type string `json:"type" protobuf:"bytes,6,opt,name=type"`
	// ServingState is Serving when vtgate routes the tablet's type to its shard in the tablet's
	// cell (for a primary: its shard takes writes), else NotServing.
	ServingState string `json:"servingState" protobuf:"bytes,7,opt,name=servingState"`
	// Hostname is where the tablet is reached.
	// +optional
	Hostname string `json:"hostname,omitempty" protobuf:"bytes,8,opt,name=hostname"`
	// PrimaryTermStartTime is when the tablet became primary, for a primary.
	// +optional
	PrimaryTermStartTime *metav1.Time `json:"primaryTermStartTime,omitempty" protobuf:"bytes,9,opt,name=primaryTermStartTime"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessTabletList is a list of VitessTablets.
type VitessTabletList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessTablet `json:"items" protobuf:"bytes,2,rep,name=items"`
}
