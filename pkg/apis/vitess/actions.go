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
