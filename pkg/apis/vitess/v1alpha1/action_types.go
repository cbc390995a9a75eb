package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessKeyspaceVSchema is a keyspace's VSchema: GET vitesskeyspaces/<name>/vschema reads the live
// one from the Vitess topology, PUT applies one (Vitess validates it; ?dryRun=All only validates).
// metadata.name is the VitessKeyspace's name.
type VitessKeyspaceVSchema struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// VSchema in Vitess' JSON form, as in a vschema.json file: {"sharded": true, "vindexes": {...},
	// "tables": {...}}.
	// +kubebuilder:pruning:PreserveUnknownFields
	VSchema runtime.RawExtension `json:"vschema" protobuf:"bytes,2,opt,name=vschema"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessSchemaRequest runs SQL on every shard of a keyspace: POST it to
// vitesskeyspaces/<name>/schema. The statements run one at a time, in order, directly on the
// primaries (Vitess' ApplySchema); the response repeats the request with results filled in. A
// statement that fails stops the rest, and the error says which one.
type VitessSchemaRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessKeyspace's object name.
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// SQL is one or more statements separated by semicolons, e.g. a schema file's content.
	SQL string `json:"sql" protobuf:"bytes,2,opt,name=sql"`
	// Results has one entry per statement, in order, in the response.
	// +optional
	// +listType=atomic
	Results []VitessSchemaStatementResult `json:"results,omitempty" protobuf:"bytes,3,rep,name=results"`
}

// VitessSchemaStatementResult is the outcome of one statement.
type VitessSchemaStatementResult struct {
	Statement string `json:"statement" protobuf:"bytes,1,opt,name=statement"`
	// RowsAffectedByShard is what the statement changed on each shard.
	// +optional
	RowsAffectedByShard map[string]int64 `json:"rowsAffectedByShard,omitempty" protobuf:"bytes,2,rep,name=rowsAffectedByShard"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessSwitchReadsRequest moves reads of the given tablet types to the workflow's target:
// POST it to vitessworkflows/<name>/switchreads. The response is the workflow.
type VitessSwitchReadsRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessWorkflow's name.
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// TabletTypes whose reads move: rdonly, replica. Default: both.
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty" protobuf:"bytes,2,rep,name=tabletTypes"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessSwitchWritesRequest moves writes to the workflow's target, once its reads have moved:
// POST it to vitessworkflows/<name>/switchwrites.
type VitessSwitchWritesRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessReverseTrafficRequest moves traffic of the given tablet types back to the workflow's
// source: POST it to vitessworkflows/<name>/reversetraffic.
type VitessReverseTrafficRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// TabletTypes whose traffic moves back: rdonly, replica, primary. Default: whatever has moved.
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty" protobuf:"bytes,2,rep,name=tabletTypes"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCompleteRequest ends a workflow whose traffic has moved (Vitess' MoveTables/Reshard
// Complete, the seed's DropSources): the source tables are dropped, or the source shards stop
// serving. POST it to vitessworkflows/<name>/complete.
type VitessCompleteRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessCancelRequest deletes a workflow whose writes have not moved, with what it copied: POST
// it to vitessworkflows/<name>/cancel.
type VitessCancelRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessVDiffRequest compares the workflow's source and target row by row: POST it to
// vitessworkflows/<name>/vdiff. The outcome lands in status.lastVDiff.
type VitessVDiffRequest struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
}
