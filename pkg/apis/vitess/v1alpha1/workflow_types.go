package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:method=SwitchReads,verb=create,subresource=switchreads,input=VitessSwitchReadsRequest,result=VitessWorkflow
// +genclient:method=SwitchWrites,verb=create,subresource=switchwrites,input=VitessSwitchWritesRequest,result=VitessWorkflow
// +genclient:method=ReverseTraffic,verb=create,subresource=reversetraffic,input=VitessReverseTrafficRequest,result=VitessWorkflow
// +genclient:method=Complete,verb=create,subresource=complete,input=VitessCompleteRequest,result=VitessWorkflow
// +genclient:method=Cancel,verb=create,subresource=cancel,input=VitessCancelRequest,result=VitessWorkflow
// +genclient:method=VDiff,verb=create,subresource=vdiff,input=VitessVDiffRequest,result=VitessWorkflow
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessWorkflow is a Vitess VReplication workflow (MoveTables or Reshard). Its spec is the intent,
// stored here; its status mirrors the workflow's state in Vitess. The object's name is the Vitess
// workflow name.
type VitessWorkflow struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   VitessWorkflowSpec   `json:"spec,omitempty"`
	Status VitessWorkflowStatus `json:"status,omitempty"`
}

// VitessWorkflowType is the kind of VReplication workflow.
type VitessWorkflowType string

const (
	// WorkflowTypeMoveTables moves tables from one keyspace to another.
	WorkflowTypeMoveTables VitessWorkflowType = "MoveTables"
	// WorkflowTypeReshard splits or merges the shards of a keyspace.
	WorkflowTypeReshard VitessWorkflowType = "Reshard"
)

// VitessWorkflowSpec is the workflow to create. It is immutable: actions move it along.
type VitessWorkflowSpec struct {
	// Type is MoveTables or Reshard.
	Type VitessWorkflowType `json:"type"`
	// Cluster is the VitessCluster, in the workflow's namespace, that runs the workflow.
	Cluster string `json:"cluster"`
	// TargetKeyspace receives the data; for Reshard it is also the source.
	TargetKeyspace string `json:"targetKeyspace"`
	// SourceKeyspace holds the tables to move (MoveTables).
	// +optional
	SourceKeyspace string `json:"sourceKeyspace,omitempty"`
	// Tables to move (MoveTables); empty with allTables moves every table.
	// +optional
	// +listType=atomic
	Tables []string `json:"tables,omitempty"`
	// AllTables moves every table of the source keyspace (MoveTables).
	// +optional
	AllTables bool `json:"allTables,omitempty"`
	// SourceShards are the shards being split or merged (Reshard).
	// +optional
	// +listType=atomic
	SourceShards []string `json:"sourceShards,omitempty"`
	// TargetShards are the shards they become (Reshard).
	// +optional
	// +listType=atomic
	TargetShards          []string `json:"targetShards,omitempty"`
	VitessWorkflowOptions `json:",inline"`
}

// VitessWorkflowOptions tune how a workflow copies and replicates; a workflow's spec and the
// movetables and reshard requests share them.
type VitessWorkflowOptions struct {
	// Cells to copy from. Default: all cells.
	// +optional
	// +listType=atomic
	Cells []string `json:"cells,omitempty"`
	// TabletTypes to copy from, in order of preference. Default: Vitess' own (replica, then primary).
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty"`
	// OnDDL says what the workflow does with DDL in the source: IGNORE, STOP, EXEC or EXEC_IGNORE. Default: IGNORE.
	// +optional
	OnDDL string `json:"onDDL,omitempty"`
	// StopAfterCopy stops the workflow once the copy phase is done.
	// +optional
	StopAfterCopy bool `json:"stopAfterCopy,omitempty"`
	// DeferSecondaryKeys builds secondary keys after the copy. Default: false.
	// +optional
	DeferSecondaryKeys *bool `json:"deferSecondaryKeys,omitempty"`
	// AutoStart starts the workflow once created. Default: true.
	// +optional
	AutoStart *bool `json:"autoStart,omitempty"`
}

// VitessWorkflowPhase summarises a workflow's progress.
type VitessWorkflowPhase string

const (
	WorkflowPhasePending   VitessWorkflowPhase = "Pending"
	WorkflowPhaseCopying   VitessWorkflowPhase = "Copying"
	WorkflowPhaseRunning   VitessWorkflowPhase = "Running"
	WorkflowPhaseStopped   VitessWorkflowPhase = "Stopped"
	WorkflowPhaseError     VitessWorkflowPhase = "Error"
	WorkflowPhaseCompleted VitessWorkflowPhase = "Completed"
	WorkflowPhaseCancelled VitessWorkflowPhase = "Cancelled"
)

// VitessWorkflowStatus mirrors the workflow's state in Vitess.
type VitessWorkflowStatus struct {
	// ObservedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Progressing, Degraded, and one per action taken.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Phase summarises the streams.
	// +optional
	Phase VitessWorkflowPhase `json:"phase,omitempty"`
	// TrafficState is Vitess' description of where reads and writes are served.
	// +optional
	TrafficState string `json:"trafficState,omitempty"`
	// ReadsSwitched lists the tablet types whose reads the target serves.
	// +optional
	// +listType=atomic
	ReadsSwitched []string `json:"readsSwitched,omitempty"`
	// WritesSwitched is true once the target serves writes.
	// +optional
	WritesSwitched bool `json:"writesSwitched,omitempty"`
	// CopyProgress is the share of rows copied, as a percentage, while copying.
	// +optional
	CopyProgress string `json:"copyProgress,omitempty"`
	// MaxReplicationLagSeconds is the largest lag among the streams.
	// +optional
	MaxReplicationLagSeconds int64 `json:"maxReplicationLagSeconds,omitempty"`
	// Streams are the workflow's VReplication streams, one per target shard and source shard.
	// +optional
	// +listType=atomic
	Streams []VitessWorkflowStream `json:"streams,omitempty"`
	// LastVDiff is the result of the most recent VDiff.
	// +optional
	LastVDiff *VitessWorkflowVDiff `json:"lastVDiff,omitempty"`
	// PendingAction is an action Vitess accepted in a dry run that the reconcile loop is carrying
	// out; its outcome lands in the action's condition and an Event.
	// +optional
	PendingAction *VitessWorkflowPendingAction `json:"pendingAction,omitempty"`
}

// VitessWorkflowPendingAction is an action under way.
type VitessWorkflowPendingAction struct {
	// Action is the subresource that asked for it: switchreads, switchwrites, reversetraffic,
	// complete or cancel.
	Action string `json:"action"`
	// TabletTypes the action moves traffic for, when it moves traffic.
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty"`
	// RequestedBy is the user who asked.
	// +optional
	RequestedBy string `json:"requestedBy,omitempty"`
	// RequestedAt is when.
	RequestedAt metav1.Time `json:"requestedAt"`
	// ID identifies the request: the loop clears the pending action only while it is still this
	// one, so that a newer request is never dropped unseen.
	// +optional
	ID string `json:"id,omitempty"`
	// StartedAt is when the reconcile loop claimed the action, just before it asked Vitess. An
	// action found started whose outcome was not recorded (its leader went away) is not asked
	// again blindly: the loop first looks in Vitess for its effect.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty"`
}

// VitessWorkflowStream is one VReplication stream.
type VitessWorkflowStream struct {
	// ID of the stream on its target tablet.
	ID int64 `json:"id"`
	// Shard is the target shard.
	Shard string `json:"shard"`
	// SourceShard is the shard the stream reads.
	// +optional
	SourceShard string `json:"sourceShard,omitempty"`
	// Tablet is the alias of the target primary running the stream.
	// +optional
	Tablet string `json:"tablet,omitempty"`
	// State is Vitess' stream state: Copying, Running, Stopped, Error...
	// +optional
	State string `json:"state,omitempty"`
	// Message is the stream's last message, e.g. an error.
	// +optional
	Message string `json:"message,omitempty"`
	// RowsCopied so far.
	// +optional
	RowsCopied int64 `json:"rowsCopied,omitempty"`
	// ReplicationLagSeconds behind the source.
	// +optional
	ReplicationLagSeconds int64 `json:"replicationLagSeconds,omitempty"`
}

// VitessWorkflowVDiff is a VDiff's outcome.
type VitessWorkflowVDiff struct {
	// UUID of the VDiff in Vitess.
	UUID string `json:"uuid"`
	// State is Vitess' VDiff state: pending, started, completed, error.
	// +optional
	State string `json:"state,omitempty"`
	// HasMismatch is true when source and target differ.
	// +optional
	HasMismatch bool `json:"hasMismatch,omitempty"`
	// RowsCompared across all tables.
	// +optional
	RowsCompared int64 `json:"rowsCompared,omitempty"`
	// CompletedAt is when the VDiff finished.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessWorkflowList is a list of VitessWorkflows.
type VitessWorkflowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VitessWorkflow `json:"items"`
}
