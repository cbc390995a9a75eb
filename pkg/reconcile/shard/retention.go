package shard

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// backupsToPrune is which of a shard's backups the retention removes, oldest first, as vtbackup's
// --min_retention_time and --min_retention_count decide: a backup at least minRetentionTime old,
// with at least minRetentionCount complete backups newer than it. The newest minRetentionCount
// complete backups are thus always kept, and so is every backup newer than the oldest of them.
// Incomplete backups do not count towards the kept ones, as a restore cannot use them, but an old
// one (abandoned) is pruned like any other. Nor does the newest backup unless Vitess confirms it
// complete: v24 gives no backup a status, and the newest may be one still being made, which, if it
// then fails, removes itself; counting it could leave the shard without a backup. A backup Vitess
// gives no time is never pruned: its age is unknown. Backups of equal time keep their listed
// order, which is readBackups' for the newest.
func backupsToPrune(backups []vtctld.Backup, now time.Time, retention v1alpha1.VitessBackupRetention) []vtctld.Backup {
	if retention.MinRetentionTime == nil {
		return nil
	}
	sorted := slices.Clone(backups)
	slices.SortStableFunc(sorted, func(a, b vtctld.Backup) int { return a.Time.Compare(b.Time) })
	newerComplete := 0
	var prune []vtctld.Backup
	for i, backup := range slices.Backward(sorted) {
		if newerComplete >= int(retention.MinRetentionCount) && !backup.Time.IsZero() && now.Sub(backup.Time) >= retention.MinRetentionTime.Duration {
			prune = append(prune, backup)
		}
		newest := i == len(sorted)-1
		if backup.Complete && (!newest || backup.Confirmed()) {
			newerComplete++
		}
	}
	slices.Reverse(prune)
	return prune
}

// pruneBackups removes the backups the shard's retention prunes from the listing just read,
// oldest first, and names them in one BackupPruned Event: the events API folds Events of one reason
// on one object into a series that keeps the first one's note, which would lose the names of all
// but the first. It stops at the first that Vitess fails to remove, with a Warning Event, as
// vtbackup does: the next read tries again, and no backup is removed while an older one it would
// prune stays. Nothing is pruned while a restore is asked for, which may need any of them: its
// request is looked for in the shard this work started from and, before each removal, in the
// informer's, as it can arrive meanwhile. The newest complete backup is never pruned, so the state
// readBackups recorded (status.lastBackup) stands.
func (p *shardPass) pruneBackups(ctx context.Context, client vitessShards, shard *v1alpha1.VitessShard, backups []vtctld.Backup) {
	retention := shard.Spec.BackupRetention
	if retention == nil || restorePending(shard) {
		return
	}
	var pruned []string
	defer func() {
		if len(pruned) > 0 {
			p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "BackupPruned", "PruneBackup", "pruned %s: %s",
				strings.Join(pruned, ", "), retentionString(*retention))
		}
	}()
	for _, backup := range backupsToPrune(backups, time.Now(), *retention) {
		if current, err := p.Shards.Get(shard.Namespace, shard.Name); err != nil || restorePending(current) {
			return
		}
		if err := client.RemoveBackup(ctx, shard.Spec.KeyspaceName, shard.Spec.Name, backup.Name); err != nil {
			klog.V(2).InfoS("Pruning a backup failed", "shard", shard.Namespace+"/"+shard.Name, "backup", backup.Name, "err", err)
			p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "BackupPruneFailed", "PruneBackup",
				"pruning backup %s failed, tried again when the backups are next read: %s", backup.Name, vtctld.Message(err))
			return
		}
		pruned = append(pruned, fmt.Sprintf("backup %s (taken %s)", backup.Name, backup.Time.UTC().Format(time.RFC3339)))
	}
}

// restorePending tells whether a restore is asked for on the shard.
func restorePending(shard *v1alpha1.VitessShard) bool {
	return shard.Status.PendingAction != nil && shard.Status.PendingAction.Action == vitess.ActionRestore
}

// retentionString says why a backup was pruned, for its Event.
func retentionString(retention v1alpha1.VitessBackupRetention) string {
	return fmt.Sprintf("older than the retention's minRetentionTime %s, with at least minRetentionCount %d newer complete backups kept",
		retention.MinRetentionTime.Duration, retention.MinRetentionCount)
}
