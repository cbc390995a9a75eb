package vitess

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessMoveTablesRequest starts a MoveTables workflow into the keyspace named by metadata.name.
type VitessMoveTablesRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Workflow       string
	SourceKeyspace string
	Tables         []string
	AllTables      bool
	VitessWorkflowOptions
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessReshardRequest starts a Reshard workflow in the keyspace named by metadata.name.
type VitessReshardRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Workflow     string
	SourceShards []string
	TargetShards []string
	VitessWorkflowOptions
}
