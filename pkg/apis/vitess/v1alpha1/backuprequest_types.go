package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessBackupRequest backs up a shard now: POST it to vitessshards/<name>/backup, where <name>
// is the VitessShard and equals metadata.name, or to vitesskeyspaces/<name>/backup to back up
// every shard of the keyspace. The backup is recorded in each shard's status.pendingAction and
// taken by the reconcile loop, exactly once; its outcome is an Event on the shard, the shard's
// BackedUp condition and status.lastBackup. The response is the VitessShard (or VitessKeyspace).
type VitessBackupRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessShard's (or VitessKeyspace's) object name.
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Tablet is the alias of the tablet to back up, e.g. zone1-0000000102; only for a shard.
	// Empty: the reconcile loop picks one that is not the primary (rdonly first, as a replica
	// that stops to copy its files stops acknowledging semi-sync writes) and whose pool backs up
	// to the cluster's first backup location, where vtctld finds the backups.
	// +optional
	Tablet string `json:"tablet,omitempty" protobuf:"bytes,2,opt,name=tablet"`
	// AllowPrimary lets the backup be taken from the primary, when it names the primary or no
	// other tablet can be backed up. A full backup with the builtin engine stops the tablet's
	// mysqld, and so the shard's writes, while it copies.
	// +optional
	AllowPrimary bool `json:"allowPrimary,omitempty" protobuf:"varint,3,opt,name=allowPrimary"`
	// Incremental backs up only the binary logs since the shard's last backup (Vitess'
	// incremental backup, from position "auto"): the tablet keeps serving, and a restore can
	// then reach any point in time those logs cover. The shard needs a full backup first.
	// +optional
	Incremental bool `json:"incremental,omitempty" protobuf:"varint,4,opt,name=incremental"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessRestoreRequest restores one tablet of a shard from the shard's backups: POST it to
// vitessshards/<name>/restore, where <name> is the VitessShard and equals metadata.name. The
// tablet stops serving, its data is replaced by the backup's, and then, restored to the latest
// backup, it replicates from the primary and serves again; restored to a point in time or a
// position, it stays DRAINED with replication stopped, for inspection (Vitess' point-in-time
// recovery, which replays the binary logs of the incremental backups up to that point). The
// restore is recorded in the shard's status.pendingAction and carried out by the reconcile loop,
// exactly once; its outcome is an Event on the shard. The response is the VitessShard.
type VitessRestoreRequest struct {
	metav1.TypeMeta `json:",inline"`
	// Name is the VitessShard's object name.
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	// Tablet is the alias of the tablet to restore, e.g. zone1-0000000101. It must not be the
	// primary: reparent away from it first.
	Tablet string `json:"tablet" protobuf:"bytes,2,opt,name=tablet"`
	// BackupTime picks the newest backup taken at or before it, e.g. the time in a backup's name
	// (status.lastBackup, or a VitessBackup); unset is the latest backup.
	// +optional
	BackupTime *metav1.Time `json:"backupTime,omitempty" protobuf:"bytes,3,opt,name=backupTime"`
	// RestoreToTimestamp restores the data as it was at this time: the newest full backup before
	// it, then the incremental backups up to it. The shard needs incremental backups that cover it.
	// +optional
	RestoreToTimestamp *metav1.Time `json:"restoreToTimestamp,omitempty" protobuf:"bytes,4,opt,name=restoreToTimestamp"`
	// RestoreToPosition restores the data up to this MySQL replication position (GTID set, in
	// Vitess' form, e.g. MySQL56/<uuid>:1-100).
	// +optional
	RestoreToPosition string `json:"restoreToPosition,omitempty" protobuf:"bytes,5,opt,name=restoreToPosition"`
}

// VitessShardPendingAction is a backup or restore requested through vitessshards/backup,
// vitesskeyspaces/backup or vitessshards/restore that the reconcile loop has not finished.
type VitessShardPendingAction struct {
	// Action is backup or restore.
	Action string `json:"action" protobuf:"bytes,1,opt,name=action"`
	// ID identifies the request.
	ID string `json:"id" protobuf:"bytes,2,opt,name=id"`
	// RequestedBy is the user who asked for it.
	RequestedBy string `json:"requestedBy" protobuf:"bytes,3,opt,name=requestedBy"`
	// RequestedAt is when they asked.
	RequestedAt metav1.Time `json:"requestedAt" protobuf:"bytes,4,opt,name=requestedAt"`
	// Tablet is the tablet the request named, if any.
	// +optional
	Tablet string `json:"tablet,omitempty" protobuf:"bytes,5,opt,name=tablet"`
	// AllowPrimary is a backup request's allowPrimary.
	// +optional
	AllowPrimary bool `json:"allowPrimary,omitempty" protobuf:"varint,6,opt,name=allowPrimary"`
	// Incremental is a backup request's incremental.
	// +optional
	Incremental bool `json:"incremental,omitempty" protobuf:"varint,7,opt,name=incremental"`
	// BackupTime is a restore request's backupTime.
	// +optional
	BackupTime *metav1.Time `json:"backupTime,omitempty" protobuf:"bytes,8,opt,name=backupTime"`
	// RestoreToTimestamp is a restore request's restoreToTimestamp.
	// +optional
	RestoreToTimestamp *metav1.Time `json:"restoreToTimestamp,omitempty" protobuf:"bytes,9,opt,name=restoreToTimestamp"`
	// RestoreToPosition is a restore request's restoreToPosition.
	// +optional
	RestoreToPosition string `json:"restoreToPosition,omitempty" protobuf:"bytes,10,opt,name=restoreToPosition"`
	// StartedAt is when the reconcile loop claimed the action, before it asked Vitess. An action
	// claimed by a server that stopped before it finished is not carried out again: a backup is
	// recorded as taken if the shard lists one made since the claim, and anything else as failed.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty" protobuf:"bytes,11,opt,name=startedAt"`
}

// VitessBackupRecord names one backup of a shard in its backup storage.
type VitessBackupRecord struct {
	// Name is Vitess' name of the backup: <date>.<time>.<tablet alias>.
	Name string `json:"name" protobuf:"bytes,1,opt,name=name"`
	// Time is when the backup was taken.
	Time metav1.Time `json:"time" protobuf:"bytes,2,opt,name=time"`
	// Tablet is the alias of the tablet it was taken from.
	// +optional
	Tablet string `json:"tablet,omitempty" protobuf:"bytes,3,opt,name=tablet"`
	// Engine is the backup engine that made it: builtin, xtrabackup, mysqlshell.
	// +optional
	Engine string `json:"engine,omitempty" protobuf:"bytes,4,opt,name=engine"`
}
