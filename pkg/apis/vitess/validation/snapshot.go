package validation

import (
	"fmt"
	"slices"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// validateSnapshotKeyspaces checks each snapshot keyspace against the keyspace it copies: a
// normal keyspace of the cluster with every shard the snapshot has, backups to restore, and no
// VTOrc (it would set up replication in a keyspace that must not replicate).
func validateSnapshotKeyspaces(spec *vitess.VitessClusterSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range spec.Keyspaces {
		keyspace := &spec.Keyspaces[i]
		snapshot := keyspace.Snapshot
		if snapshot == nil {
			continue
		}
		ksPath := path.Index(i)
		snapshotPath := ksPath.Child("snapshot")
		if spec.Backup == nil {
			errs = append(errs, field.Forbidden(snapshotPath, "a snapshot keyspace restores backups: set spec.backup.locations"))
		}
		if keyspace.VitessOrchestrator != nil {
			errs = append(errs, field.Forbidden(ksPath.Child("vitessOrchestrator"), "a snapshot keyspace has no primary and does not replicate; VTOrc would set replication up"))
		}
		if snapshot.Time.IsZero() {
			errs = append(errs, field.Required(snapshotPath.Child("time"), "the newest backup taken at or before this time is restored"))
		}
		basePath := snapshotPath.Child("baseKeyspace")
		j := slices.IndexFunc(spec.Keyspaces, func(k vitess.VitessKeyspaceTemplate) bool { return k.Name == snapshot.BaseKeyspace })
		switch {
		case snapshot.BaseKeyspace == "":
			errs = append(errs, field.Required(basePath, "name the keyspace of the cluster whose backups are restored"))
			continue
		case snapshot.BaseKeyspace == keyspace.Name:
			errs = append(errs, field.Invalid(basePath, snapshot.BaseKeyspace, "a keyspace cannot be a snapshot of itself"))
			continue
		case j < 0:
			errs = append(errs, field.NotFound(basePath, snapshot.BaseKeyspace))
			continue
		case spec.Keyspaces[j].Snapshot != nil:
			errs = append(errs, field.Invalid(basePath, snapshot.BaseKeyspace, "is a snapshot keyspace itself, which has no backups of its own"))
			continue
		}
		if base := &spec.Keyspaces[j]; keyspace.DatabaseName != "" && keyspace.DatabaseName != base.EffectiveDatabaseName() {
			errs = append(errs, field.Invalid(ksPath.Child("databaseName"), keyspace.DatabaseName,
				fmt.Sprintf("a snapshot keyspace's tablets serve the database its backups hold, %s's %q: leave it unset", base.Name, base.EffectiveDatabaseName())))
		}
		var baseShards []string
		for _, shard := range spec.Keyspaces[j].Shards() {
			baseShards = append(baseShards, shard.Name)
		}
		for _, shard := range keyspace.Shards() {
			if !slices.Contains(baseShards, shard.Name) {
				errs = append(errs, field.Invalid(ksPath.Child("partitionings"), shard.Name,
					fmt.Sprintf("keyspace %s has no shard %s to restore; its shards are %v", snapshot.BaseKeyspace, shard.Name, baseShards)))
			}
		}
	}
	return errs
}

// validateSnapshotUpdate keeps a keyspace what it was made: a snapshot keyspace's data is the
// backup it restored, and a normal keyspace's its own.
func validateSnapshotUpdate(ks, old *vitess.VitessKeyspaceTemplate, path *field.Path) field.ErrorList {
	if apiequality.Semantic.DeepEqual(ks.Snapshot, old.Snapshot) {
		return nil
	}
	return field.ErrorList{field.Forbidden(path.Child("snapshot"), fmt.Sprintf("is immutable: keyspace %s's tablets hold the data they started with; remove the keyspace and add one of another name", ks.Name))}
}
