package vitess

import "strings"

// ReservedLabelDomain is the domain of the labels the server sets on what it makes
// (planetscale.com/cluster, etcd.planetscale.com/lockserver, ...), by which users find those
// objects. A user's labels may not use it or its subdomains: they would make one object look like
// another's.
const ReservedLabelDomain = "planetscale.com"

// IsReservedLabelKey tells whether a label key is in ReservedLabelDomain.
func IsReservedLabelKey(key string) bool {
	prefix, _, found := strings.Cut(key, "/")
	return found && (prefix == ReservedLabelDomain || strings.HasSuffix(prefix, "."+ReservedLabelDomain))
}

// Labels the server sets on what it makes: the vitess-operator's keys, so selectors written for
// its objects (e.g. planetscale.com/component=vtctld) keep working.
const (
	LabelCluster   = "planetscale.com/cluster"
	LabelCell      = "planetscale.com/cell"
	LabelKeyspace  = "planetscale.com/keyspace"
	LabelShard     = "planetscale.com/shard"
	LabelComponent = "planetscale.com/component"
	// LabelTabletUID, LabelTabletType and LabelTabletIndex identify a tablet, as the operator's
	// labels do.
	LabelTabletUID   = "planetscale.com/tablet-uid"
	LabelTabletType  = "planetscale.com/tablet-type"
	LabelTabletIndex = "planetscale.com/tablet-index"
	// LabelLockserver names the EtcdLockserver an object belongs to.
	LabelLockserver = "etcd.planetscale.com/lockserver"
	// LabelBackupSchedule and LabelBackupStrategy name the backup schedule, and its strategy, that
	// a backup CronJob and its Jobs run.
	LabelBackupSchedule = "planetscale.com/backup-schedule"
	LabelBackupStrategy = "planetscale.com/backup-strategy"
	// LabelEtcdIndex is an etcd member's 1-based index.
	LabelEtcdIndex = "etcd.planetscale.com/index"
)

// The values of LabelComponent: the Vitess components, whose names are also their containers' and
// binaries', the lockserver's members, and the scheduled backups' CronJobs, Jobs and Pods.
const (
	ComponentScheduledBackup = "scheduled-backup"

	ComponentVtctld   = "vtctld"
	ComponentVtgate   = "vtgate"
	ComponentVtorc    = "vtorc"
	ComponentVttablet = "vttablet"
	ComponentEtcd     = "etcd"
)
