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

// VitessPendingBackup is a backup requested through vitessshards/backup or
// vitesskeyspaces/backup that the reconcile loop has not finished.
type VitessPendingBackup struct {
	// ID identifies the request.
	ID           string
	RequestedBy  string
	RequestedAt  metav1.Time
	Tablet       string
	AllowPrimary bool
	Incremental  bool
	// StartedAt is when the reconcile loop claimed the backup, before it asked Vitess.
	StartedAt *metav1.Time
}

// VitessBackupRecord names one backup of a shard in its backup storage.
type VitessBackupRecord struct {
	Name   string
	Time   metav1.Time
	Tablet string
	Engine string
}
