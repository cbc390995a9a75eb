package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessMoveTablesRequest starts a MoveTables workflow into a keyspace: POST it to
// vitesskeyspaces/<name>/movetables, where <name> is the target VitessKeyspace and equals
// metadata.name. The response is the VitessWorkflow it creates.
type VitessMoveTablesRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the target VitessKeyspace's object name.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Workflow names the VitessWorkflow to create, and the workflow in Vitess.
	Workflow string `json:"workflow"`
	// SourceKeyspace holds the tables to move (its Vitess name).
	SourceKeyspace string `json:"sourceKeyspace"`
	// Tables to move; empty with allTables moves every table.
	// +optional
	// +listType=atomic
	Tables []string `json:"tables,omitempty"`
	// AllTables moves every table of the source keyspace.
	// +optional
	AllTables             bool `json:"allTables,omitempty"`
	VitessWorkflowOptions `json:",inline"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessReshardRequest starts a Reshard workflow in a keyspace: POST it to
// vitesskeyspaces/<name>/reshard, where <name> is the VitessKeyspace and equals metadata.name.
// The response is the VitessWorkflow it creates.
type VitessReshardRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessKeyspace's object name.
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Workflow names the VitessWorkflow to create, and the workflow in Vitess.
	Workflow string `json:"workflow"`
	// SourceShards are the shards being split or merged, e.g. ["-"].
	// +listType=atomic
	SourceShards []string `json:"sourceShards"`
	// TargetShards are the shards they become, e.g. ["-80", "80-"].
	// +listType=atomic
	TargetShards          []string `json:"targetShards"`
	VitessWorkflowOptions `json:",inline"`
}
