package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessBackupRequest backs up a shard now: POST it to vitessshards/<name>/backup, where <name>
// is the VitessShard and equals metadata.name, or to vitesskeyspaces/<name>/backup to back up
// every shard of the keyspace. The backup is recorded in each shard's status.pendingBackup and
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

// VitessPendingBackup is a backup requested through vitessshards/backup or
// vitesskeyspaces/backup that the reconcile loop has not finished.
type VitessPendingBackup struct {
	// ID identifies the request.
	ID string `json:"id" protobuf:"bytes,1,opt,name=id"`
	// RequestedBy is the user who asked for the backup.
	RequestedBy string `json:"requestedBy" protobuf:"bytes,2,opt,name=requestedBy"`
	// RequestedAt is when they asked.
	RequestedAt metav1.Time `json:"requestedAt" protobuf:"bytes,3,opt,name=requestedAt"`
	// Tablet is the tablet the request named, if any.
	// +optional
	Tablet string `json:"tablet,omitempty" protobuf:"bytes,4,opt,name=tablet"`
	// AllowPrimary is the request's allowPrimary.
	// +optional
	AllowPrimary bool `json:"allowPrimary,omitempty" protobuf:"varint,5,opt,name=allowPrimary"`
	// Incremental is the request's incremental.
	// +optional
	Incremental bool `json:"incremental,omitempty" protobuf:"varint,6,opt,name=incremental"`
	// StartedAt is when the reconcile loop claimed the backup, before it asked Vitess. A backup
	// claimed by a server that stopped before it finished is not taken again: it is recorded as
	// failed, unless the shard's backups show it was taken.
	// +optional
	StartedAt *metav1.Time `json:"startedAt,omitempty" protobuf:"bytes,7,opt,name=startedAt"`
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
