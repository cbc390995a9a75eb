package vitess

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessWorkflow is a Vitess VReplication workflow (MoveTables or Reshard). Its spec is the intent,
// stored here; its status mirrors the workflow's state in Vitess. The object's name is the Vitess
// workflow name.
type VitessWorkflow struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	Spec   VitessWorkflowSpec
	Status VitessWorkflowStatus
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
	Type VitessWorkflowType
	// Cluster is the VitessCluster, in the workflow's namespace, that runs the workflow.
	Cluster string
	// TargetKeyspace receives the data; for Reshard it is also the source.
	TargetKeyspace string
	// SourceKeyspace holds the tables to move (MoveTables).
	SourceKeyspace string
	// Tables to move (MoveTables); empty with allTables moves every table.
	Tables []string
	// AllTables moves every table of the source keyspace (MoveTables).
	AllTables bool
	// SourceShards are the shards being split or merged (Reshard).
	SourceShards []string
	// TargetShards are the shards they become (Reshard).
	TargetShards []string
	VitessWorkflowOptions
}

// VitessWorkflowOptions tune how a workflow copies and replicates; a workflow's spec and the
// movetables and reshard requests share them.
type VitessWorkflowOptions struct {
	// Cells to copy from. Default: all cells.
	Cells []string
	// TabletTypes to copy from, in order of preference. Default: Vitess' own (replica, then primary).
	TabletTypes []string
	// OnDDL says what the workflow does with DDL in the source: IGNORE, STOP, EXEC or EXEC_IGNORE. Default: IGNORE.
	OnDDL string
	// StopAfterCopy stops the workflow once the copy phase is done.
	StopAfterCopy bool
	// DeferSecondaryKeys builds secondary keys after the copy. Default: false.
	DeferSecondaryKeys *bool
	// AutoStart starts the workflow once created. Default: true.
	AutoStart *bool
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
	ObservedGeneration int64
	// Conditions: Ready, Progressing, Degraded, and one per action taken.
	Conditions []metav1.Condition
	// Phase summarises the streams.
	Phase VitessWorkflowPhase
	// TrafficState is Vitess' description of where reads and writes are served.
	TrafficState string
	// ReadsSwitched lists the tablet types whose reads the target serves.
	ReadsSwitched []string
	// WritesSwitched is true once the target serves writes.
	WritesSwitched bool
	// CopyProgress is the share of rows copied, as a percentage, while copying.
	CopyProgress string
	// MaxReplicationLagSeconds is the largest lag among the streams.
	MaxReplicationLagSeconds int64
	// Streams are the workflow's VReplication streams, one per target shard and source shard.
	Streams []VitessWorkflowStream
	// LastVDiff is the result of the most recent VDiff.
	LastVDiff *VitessWorkflowVDiff
	// PendingAction is an action the reconcile loop is carrying out.
	PendingAction *VitessWorkflowPendingAction
}

// VitessWorkflowStream is one VReplication stream.
type VitessWorkflowStream struct {
	// ID of the stream on its target tablet.
	ID int64
	// Shard is the target shard.
	Shard string
	// SourceShard is the shard the stream reads.
	SourceShard string
	// Tablet is the alias of the target primary running the stream.
	Tablet string
	// State is Vitess' stream state: Copying, Running, Stopped, Error...
	State string
	// Message is the stream's last message, e.g. an error.
	Message string
	// RowsCopied so far.
	RowsCopied int64
	// ReplicationLagSeconds behind the source.
	ReplicationLagSeconds int64
}

// VitessWorkflowVDiff is a VDiff's outcome.
type VitessWorkflowVDiff struct {
	// UUID of the VDiff in Vitess.
	UUID string
	// State is Vitess' VDiff state: pending, started, completed, error.
	State string
	// HasMismatch is true when source and target differ.
	HasMismatch bool
	// RowsCompared across all tables.
	RowsCompared int64
	// CompletedAt is when the VDiff finished.
	CompletedAt *metav1.Time
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessWorkflowList is a list of VitessWorkflows.
type VitessWorkflowList struct {
	metav1.TypeMeta
	metav1.ListMeta
	Items []VitessWorkflow
}

// VitessWorkflowPendingAction is an action under way.
type VitessWorkflowPendingAction struct {
	Action      string
	TabletTypes []string
	RequestedBy string
	RequestedAt metav1.Time
	// ID identifies the request.
	ID string
	// StartedAt is when the reconcile loop claimed the action, before it asked Vitess.
	StartedAt *metav1.Time
}
