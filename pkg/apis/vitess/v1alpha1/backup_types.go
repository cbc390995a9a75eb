package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:onlyVerbs=get,list,watch,delete
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessBackup is a backup of a shard as Vitess' backup storage holds it, read through the
// cluster's vtctld (GetBackups) and not stored; deleting one removes it from the backup storage
// (RemoveBackup). Its name is <cluster>-<keyspace>-<shard safe name>-<Vitess' backup name, in
// lower case, with each character a name cannot hold as "-">, e.g.
// example-commerce-x-x-2026-12-08.013000.zone1-0000000101. Its creationTimestamp is the backup's
// time.
type VitessBackup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`

	Status VitessBackupStatus `json:"status,omitempty" protobuf:"bytes,2,opt,name=status"`
}

// VitessBackupStatus is what the backup storage says of a backup.
type VitessBackupStatus struct {
	// Cluster is the VitessCluster the backup belongs to.
	Cluster  string `json:"cluster" protobuf:"bytes,1,opt,name=cluster"`
	Keyspace string `json:"keyspace" protobuf:"bytes,2,opt,name=keyspace"`
	Shard    string `json:"shard" protobuf:"bytes,3,opt,name=shard"`
	// Name is Vitess' name of the backup, <date>.<time>.<tablet alias>, which RemoveBackup takes.
	Name string `json:"name" protobuf:"bytes,4,opt,name=name"`
	// TabletAlias is the tablet the backup was taken from.
	// +optional
	TabletAlias string `json:"tabletAlias,omitempty" protobuf:"bytes,5,opt,name=tabletAlias"`
	// Time is when the backup began.
	// +optional
	Time metav1.Time `json:"time,omitempty" protobuf:"bytes,6,opt,name=time"`
	// Engine is the backup engine that made it: builtin, xtrabackup, mysqlshell; empty when
	// Vitess does not say (v24's GetBackups never does).
	// +optional
	Engine string `json:"engine,omitempty" protobuf:"bytes,7,opt,name=engine"`
	// Phase is Vitess' status of the backup: Complete once its manifest is written, Incomplete
	// before (being made, or abandoned), Valid or Invalid once checked; Unknown when Vitess does
	// not say, which v24's GetBackups never does (its detailed listing is unimplemented).
	Phase string `json:"phase" protobuf:"bytes,8,opt,name=phase"`
	// Complete is false when Vitess says the backup is Incomplete or Invalid. Vitess lists every
	// backup directory, and a failed backup removes its own, so a listed backup whose phase is
	// Unknown (every one, in v24) is complete or still being made.
	Complete bool `json:"complete" protobuf:"varint,9,opt,name=complete"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// VitessBackupList is a list of VitessBackups.
type VitessBackupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty" protobuf:"bytes,1,opt,name=metadata"`
	Items           []VitessBackup `json:"items" protobuf:"bytes,2,rep,name=items"`
}
