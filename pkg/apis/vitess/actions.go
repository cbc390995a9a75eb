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

// The actions on shards' backups, each a subresource (ActionBackup of vitessshards and
// vitesskeyspaces, ActionRestore of vitessshards) and the Action a shard's pendingAction names.
const (
	// ActionBackup backs up a shard, or every shard of a keyspace, now.
	ActionBackup = "backup"
	// ActionRestore restores a tablet of a shard from a backup.
	ActionRestore = "restore"
)
