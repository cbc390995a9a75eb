package vitess

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessBackupRequest backs up a shard now (vitessshards/<name>/backup), or every shard of a
// keyspace (vitesskeyspaces/<name>/backup).
type VitessBackupRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	// Tablet is the alias of the tablet to back up; only for a shard.
	Tablet string
	// AllowPrimary lets the backup be taken from the primary.
	AllowPrimary bool
	// Incremental backs up the binary logs since the shard's last backup.
	Incremental bool
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessRestoreRequest restores a tablet of a shard from a backup (vitessshards/<name>/restore).
type VitessRestoreRequest struct {
	metav1.TypeMeta
	metav1.ObjectMeta

	// Tablet is the alias of the tablet to restore.
	Tablet string
	// BackupTime picks the newest backup taken at or before it; nil is the latest.
	BackupTime *metav1.Time
	// RestoreToTimestamp restores to this point in time.
	RestoreToTimestamp *metav1.Time
	// RestoreToPosition restores to this replication position.
	RestoreToPosition string
}

// VitessShardPendingAction is a backup or restore requested through an action subresource
// that the reconcile loop has not finished.
type VitessShardPendingAction struct {
	// Action is backup or restore.
	Action string
	// ID identifies the request.
	ID          string
	RequestedBy string
	RequestedAt metav1.Time
	Tablet      string
	// AllowPrimary and Incremental are a backup's.
	AllowPrimary bool
	Incremental  bool
	// BackupTime, RestoreToTimestamp and RestoreToPosition are a restore's.
	BackupTime         *metav1.Time
	RestoreToTimestamp *metav1.Time
	RestoreToPosition  string
	// StartedAt is when the reconcile loop claimed the action, before it asked Vitess.
	StartedAt *metav1.Time
}

// VitessBackupRecord names one backup of a shard in its backup storage.
type VitessBackupRecord struct {
	Name   string
	Time   metav1.Time
	Tablet string
	Engine string
}
