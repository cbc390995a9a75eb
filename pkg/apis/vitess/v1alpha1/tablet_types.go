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
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Status VitessTabletStatus `json:"status,omitempty"`
}

// VitessTabletStatus is what the topology says of a tablet.
type VitessTabletStatus struct {
	// Cluster is the VitessCluster the tablet belongs to.
	Cluster string `json:"cluster"`
	// Alias is Vitess' name of the tablet, <cell>-<uid> with the uid zero-padded to 10 digits.
	Alias    string `json:"alias"`
	Cell     string `json:"cell"`
	Keyspace string `json:"keyspace"`
	Shard    string `json:"shard"`
	// Type is the tablet's current type: PRIMARY, REPLICA, RDONLY, SPARE, BACKUP, DRAINED...
	Type string `json:"type"`
	// ServingState is Serving when vtgate routes the tablet's type to its shard in the tablet's
	// cell (for a primary: its shard takes writes), else NotServing.
	ServingState string `json:"servingState"`
	// Hostname is where the tablet is reached.
	// +optional
	Hostname string `json:"hostname,omitempty"`
	// PrimaryTermStartTime is when the tablet became primary, for a primary.
	// +optional
	PrimaryTermStartTime *metav1.Time `json:"primaryTermStartTime,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessTabletList is a list of VitessTablets.
type VitessTabletList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VitessTablet `json:"items"`
}
