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
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Workflow names the VitessWorkflow to create, and the workflow in Vitess.
	Workflow string `json:"workflow" protobuf:"bytes,2,opt,name=workflow"`
	// SourceKeyspace holds the tables to move (its Vitess name).
	SourceKeyspace string `json:"sourceKeyspace" protobuf:"bytes,3,opt,name=sourceKeyspace"`
	// Tables to move; empty with allTables moves every table.
	// +optional
	// +listType=atomic
	Tables []string `json:"tables,omitempty" protobuf:"bytes,4,rep,name=tables"`
	// AllTables moves every table of the source keyspace.
	// +optional
	AllTables             bool `json:"allTables,omitempty" protobuf:"varint,5,opt,name=allTables"`
	VitessWorkflowOptions `json:",inline" protobuf:"bytes,6,opt,name=vitessWorkflowOptions"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessReshardRequest starts a Reshard workflow in a keyspace: POST it to
// vitesskeyspaces/<name>/reshard, where <name> is the VitessKeyspace and equals metadata.name.
// The response is the VitessWorkflow it creates.
type VitessReshardRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessKeyspace's object name.
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Workflow names the VitessWorkflow to create, and the workflow in Vitess.
	Workflow string `json:"workflow" protobuf:"bytes,2,opt,name=workflow"`
	// SourceShards are the shards being split or merged, e.g. ["-"].
	// +listType=atomic
	SourceShards []string `json:"sourceShards" protobuf:"bytes,3,rep,name=sourceShards"`
	// TargetShards are the shards they become, e.g. ["-80", "80-"].
	// +listType=atomic
	TargetShards          []string `json:"targetShards" protobuf:"bytes,4,rep,name=targetShards"`
	VitessWorkflowOptions `json:",inline" protobuf:"bytes,5,opt,name=vitessWorkflowOptions"`
}
