package vitess

// The actions a VitessWorkflow takes, each a subresource of vitessworkflows
// (vitessworkflows/<name>/<action>) and the Action a pendingAction names.
const (
	ActionSwitchReads    = "switchreads"
	ActionSwitchWrites   = "switchwrites"
	ActionReverseTraffic = "reversetraffic"
	ActionComplete       = "complete"
	ActionCancel         = "cancel"
	ActionVDiff          = "vdiff"
)

// ActionBackup is the subresource of vitessshards and vitesskeyspaces that backs up a shard, or
// every shard of a keyspace, now.
const ActionBackup = "backup"
