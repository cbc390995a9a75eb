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
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Spec   VitessWorkflowSpec   `json:"spec,omitempty" protobuf:"bytes,2,opt,name=spec"`
	Status VitessWorkflowStatus `json:"status,omitempty" protobuf:"bytes,3,opt,name=status"`
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
	Type VitessWorkflowType `json:"type" protobuf:"bytes,1,opt,name=type,casttype=VitessWorkflowType"`
	// Cluster is the VitessCluster, in the workflow's namespace, that runs the workflow.
	Cluster string `json:"cluster" protobuf:"bytes,2,opt,name=cluster"`
	// TargetKeyspace receives the data; for Reshard it is also the source.
	TargetKeyspace string `json:"targetKeyspace" protobuf:"bytes,3,opt,name=targetKeyspace"`
	// SourceKeyspace holds the tables to move (MoveTables).
	// +optional
	SourceKeyspace string `json:"sourceKeyspace,omitempty" protobuf:"bytes,4,opt,name=sourceKeyspace"`
	// Tables to move (MoveTables); empty with allTables moves every table.
	// +optional
	// +listType=atomic
	Tables []string `json:"tables,omitempty" protobuf:"bytes,5,rep,name=tables"`
	// AllTables moves every table of the source keyspace (MoveTables).
	// +optional
	AllTables bool `json:"allTables,omitempty" protobuf:"varint,6,opt,name=allTables"`
	// SourceShards are the shards being split or merged (Reshard).
	// +optional
	// +listType=atomic
	SourceShards []string `json:"sourceShards,omitempty" protobuf:"bytes,7,rep,name=sourceShards"`
	// TargetShards are the shards they become (Reshard).
	// +optional
	// +listType=atomic
	TargetShards          []string `json:"targetShards,omitempty" protobuf:"bytes,8,rep,name=targetShards"`
	VitessWorkflowOptions `json:",inline" protobuf:"bytes,9,opt,name=vitessWorkflowOptions"`
}

// VitessWorkflowOptions tune how a workflow copies and replicates; a workflow's spec and the
// movetables and reshard requests share them.
type VitessWorkflowOptions struct {
	// Cells to copy from. Default: all cells.
	// +optional
	// +listType=atomic
	Cells []string `json:"cells,omitempty" protobuf:"bytes,1,rep,name=cells"`
	// TabletTypes to copy from, in order of preference. Default: Vitess' own (replica, then primary).
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty" protobuf:"bytes,2,rep,name=tabletTypes"`
	// OnDDL says what the workflow does with DDL in the source: IGNORE, STOP, EXEC or EXEC_IGNORE. Default: IGNORE.
	// +optional
	OnDDL string `json:"onDDL,omitempty" protobuf:"bytes,3,opt,name=onDDL"`
	// StopAfterCopy stops the workflow once the copy phase is done.
	// +optional
	StopAfterCopy bool `json:"stopAfterCopy,omitempty" protobuf:"varint,4,opt,name=stopAfterCopy"`
	// DeferSecondaryKeys builds secondary keys after the copy. Default: false.
	// +optional
	DeferSecondaryKeys *bool `json:"deferSecondaryKeys,omitempty" protobuf:"varint,5,opt,name=deferSecondaryKeys"`
	// AutoStart starts the workflow once created. Default: true.
	// +optional
	AutoStart *bool `json:"autoStart,omitempty" protobuf:"varint,6,opt,name=autoStart"`
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
	ObservedGeneration int64 `json:"observedGeneration,omitempty" protobuf:"varint,1,opt,name=observedGeneration"`
	// Conditions: Ready, Progressing, Degraded, and one per action taken.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" protobuf:"bytes,2,rep,name=conditions"`
	// Phase summarises the streams.
	// +optional
	Phase VitessWorkflowPhase `json:"phase,omitempty" protobuf:"bytes,3,opt,name=phase,casttype=VitessWorkflowPhase"`
	// TrafficState is Vitess' description of where reads and writes are served.
	// +optional
	TrafficState string `json:"trafficState,omitempty" protobuf:"bytes,4,opt,name=trafficState"`
	// ReadsSwitched lists the tablet types whose reads the target serves.
	// +optional
	// +listType=atomic
	ReadsSwitched []string `json:"readsSwitched,omitempty" protobuf:"bytes,5,rep,name=readsSwitched"`
	// WritesSwitched is true once the target serves writes.
	// +optional
	WritesSwitched bool `json:"writesSwitched,omitempty" protobuf:"varint,6,opt,name=writesSwitched"`
	// CopyProgress is the share of rows copied, as a percentage, while copying.
	// +optional
	CopyProgress string `json:"copyProgress,omitempty" protobuf:"bytes,7,opt,name=copyProgress"`
	// MaxReplicationLagSeconds is the largest lag among the streams.
	// +optional
	MaxReplicationLagSeconds int64 `json:"maxReplicationLagSeconds,omitempty" protobuf:"varint,8,opt,name=maxReplicationLagSeconds"`
	// Streams are the workflow's VReplication streams, one per target shard and source shard.
	// +optional
	// +listType=atomic
	Streams []VitessWorkflowStream `json:"streams,omitempty" protobuf:"bytes,9,rep,name=streams"`
	// LastVDiff is the result of the most recent VDiff.
	// +optional
	LastVDiff *VitessWorkflowVDiff `json:"lastVDiff,omitempty" protobuf:"bytes,10,opt,name=lastVDiff"`
	// PendingAction is an action Vitess accepted in a dry run that the reconcile loop is carrying
	// out; its outcome lands in the action's condition and an Event.
	// +optional
	PendingAction *VitessWorkflowPendingAction `json:"pendingAction,omitempty" protobuf:"bytes,11,opt,name=pendingAction"`
}

// VitessWorkflowPendingAction is an action under way.
type VitessWorkflowPendingAction struct {
	// Action is the subresource that asked for it: switchreads, switchwrites, reversetraffic,
	// complete or cancel.
	Action string `json:"action" protobuf:"bytes,1,opt,name=action"`
	// TabletTypes the action moves traffic for, when it moves traffic.
	// +optional
	// +listType=atomic
	TabletTypes []string `json:"tabletTypes,omitempty" protobuf:"bytes,2,rep,name=tabletTypes"`
	// RequestedBy is the user who asked.
	// +optional
	RequestedBy string `json:"requestedBy,omitempty" protobuf:"bytes,3,opt,name=requestedBy"`
	// RequestedAt is when.
	RequestedAt metav1.Time `json:"requestedAt" protobuf:"bytes,4,opt,name=requestedAt"`
	// ID identifies the request: the loop clears the pending action only while it is still this
	// one, so that a newer request is never dropped unseen.
	// +optional
	ID string `json:"id,omitempty" protobuf:"bytes,5,opt,name=id"`
	// StartedAt is when the reconcile loop claimed the action, just before it asked Vitess. An
	// action found started whose outcome was not recorded (its leader went away) is not asked
	// again blindly: the loop first looks in Vitess for its effect.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty" protobuf:"bytes,6,opt,name=startedAt"`
}

// VitessWorkflowStream is one VReplication stream.
type VitessWorkflowStream struct {
	// ID of the stream on its target tablet.
	ID int64 `json:"id" protobuf:"varint,1,opt,name=id"`
	// Shard is the target shard.
	Shard string `json:"shard" protobuf:"bytes,2,opt,name=shard"`
	// SourceShard is the shard the stream reads.
	// +optional
	SourceShard string `json:"sourceShard,omitempty" protobuf:"bytes,3,opt,name=sourceShard"`
	// Tablet is the alias of the target primary running the stream.
	// +optional
	Tablet string `json:"tablet,omitempty" protobuf:"bytes,4,opt,name=tablet"`
	// State is Vitess' stream state: Copying, Running, Stopped, Error...
	// +optional
	State string `json:"state,omitempty" protobuf:"bytes,5,opt,name=state"`
	// Message is the stream's last message, e.g. an error.
	// +optional
	Message string `json:"message,omitempty" protobuf:"bytes,6,opt,name=message"`
	// RowsCopied so far.
	// +optional
	RowsCopied int64 `json:"rowsCopied,omitempty" protobuf:"varint,7,opt,name=rowsCopied"`
	// ReplicationLagSeconds behind the source.
	// +optional
	ReplicationLagSeconds int64 `json:"replicationLagSeconds,omitempty" protobuf:"varint,8,opt,name=replicationLagSeconds"`
}

// VitessWorkflowVDiff is a VDiff's outcome.
type VitessWorkflowVDiff struct {
	// UUID of the VDiff in Vitess.
	UUID string `json:"uuid" protobuf:"bytes,1,opt,name=uuid"`
	// State is Vitess' VDiff state: pending, started, completed, error.
	// +optional
	State string `json:"state,omitempty" protobuf:"bytes,2,opt,name=state"`
	// HasMismatch is true when source and target differ.
	// +optional
	HasMismatch bool `json:"hasMismatch,omitempty" protobuf:"varint,3,opt,name=hasMismatch"`
	// RowsCompared across all tables.
	// +optional
	RowsCompared int64 `json:"rowsCompared,omitempty" protobuf:"varint,4,opt,name=rowsCompared"`
	// CompletedAt is when the VDiff finished.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty" protobuf:"bytes,5,opt,name=completedAt"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessWorkflowList is a list of VitessWorkflows.
type VitessWorkflowList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessWorkflow `json:"items" protobuf:"bytes,2,rep,name=items"`
}
