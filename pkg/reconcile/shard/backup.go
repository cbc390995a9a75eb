package shard

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

const (
	// backupTimeout bounds a backup: the builtin engine copies the tablet's whole data directory.
	backupTimeout = time.Hour
	// backupRetry is when a shard whose first backup failed tries again. A failure is often one
	// that will not pass by itself (an engine the image lacks, a store that refuses the
	// credentials), so not sooner: each attempt is a Warning Event.
	backupRetry = 5 * time.Minute
)

// initializeBackup gives a shard with a backup location its first backup, as the operator's
// initializeBackup (default true) does, so that a tablet that later starts without data has one
// to restore. The operator runs vtbackup for it, which the vitess/lite images do not carry; here a
// tablet that is not the primary backs itself up (vtctld's Backup, see backupTablet), once the
// shard has a primary and every tablet is ready. It is made once: vtctld's listing of the shard's
// backups is read first, and a shard with a complete backup gets no other, now or after a restart.
func (p *shardPass) initializeBackup(ctx context.Context) {
	shard := p.shard
	if !initializesBackup(shard) || p.ready < p.desired || !p.firstBackupDue(shard.UID) {
		return
	}
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		return
	}
	primary := view.Shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name].PrimaryAlias
	tablet := backupTablet(shard, primary)
	if primary == "" || tablet == "" {
		return
	}
	shardKey := shard.Namespace + "/" + shard.Name
	// Not the reparents' key: a backup takes minutes, and a reparent must not wait for it.
	p.background.Go(ctx, shardKey+"/backup", func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, backupTimeout)
		defer cancel()
		// Each outcome enqueues the shard, whose next pass reports it in the BackedUp condition.
		failed := func(why string) {
			p.recordFirstBackup(shard.UID, firstBackup{failedAt: time.Now(), failure: why})
			p.queue.Add(shardKey)
			p.queue.AddAfter(shardKey, backupRetry)
		}
		done := func() {
			p.recordFirstBackup(shard.UID, firstBackup{done: true})
			p.queue.Add(shardKey)
		}
		client, err := p.vitess(view.Address, backupTimeout)
		if err != nil {
			failed(fmt.Sprintf("reaching vtctld: %v", err))
			return
		}
		backups, err := client.Backups(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
		if err != nil {
			klog.V(2).InfoS("Reading the shard's backups failed", "shard", shardKey, "err", err)
			failed(fmt.Sprintf("listing the shard's backups: %v", err))
			return
		}
		if slices.ContainsFunc(backups, func(b vtctld.Backup) bool { return b.Complete }) {
			done()
			return
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "InitialBackup", "Backup", "backing up %s: the shard has no backup yet", tablet)
		if err := client.BackUp(ctx, tablet); err != nil {
			p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "InitialBackupFailed", "Backup", "backing up %s: %v", tablet, err)
			failed(fmt.Sprintf("backing up %s: %v", tablet, err))
			return
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "InitialBackupTaken", "Backup", "backed up %s: the shard's first backup", tablet)
		done()
	})
}

// initializesBackup tells whether the shard is to get a first backup: initializeBackup is unset
// or true, vtctld has a backup location to find it in, and some pool's tablets back up there.
func initializesBackup(shard *v1alpha1.VitessShard) bool {
	replication := ptr.Deref(shard.Spec.Replication, v1alpha1.VitessReplicationSpec{})
	return ptr.Deref(replication.InitializeBackup, true) && len(shard.Spec.BackupLocations) > 0 && backupTablet(shard, "") != ""
}

// backupTablet is the tablet that makes the shard's first backup: the first rdonly tablet, else
// replica, that is not the primary and whose pool uses vtctld's location (the first), so that
// vtctld sees the backup it made. rdonly first: a tablet leaves serving while the builtin engine
// copies its files, and a replica that does stops acknowledging semi-sync writes. "" when there
// is none.
func backupTablet(shard *v1alpha1.VitessShard, primary string) string {
	vtctldLocation := shard.Spec.BackupLocations[0].Name
	tablets := shardTablets(shard)
	for _, poolType := range []v1alpha1.VitessTabletPoolType{v1alpha1.TabletPoolTypeRdonly, v1alpha1.TabletPoolTypeReplica} {
		for _, t := range tablets {
			if t.pool.Type == poolType && t.pool.BackupLocationName == vtctldLocation && t.alias() != primary {
				return t.alias()
			}
		}
	}
	return ""
}

// firstBackup is what the controller knows of a shard's first backup.
type firstBackup struct {
	// done: the shard has a complete backup.
	done bool
	// failedAt is when the last attempt to find or make one failed, and failure why.
	failedAt time.Time
	failure  string
}

// firstBackupDue tells whether the shard may need a first backup: none is known, and no attempt
// failed within backupRetry (passes come far more often, and each attempt would be an Event).
func (c *Controller) firstBackupDue(uid types.UID) bool {
	state := c.firstBackupState(uid)
	return !state.done && time.Since(state.failedAt) >= backupRetry
}

func (c *Controller) firstBackupState(uid types.UID) firstBackup {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstBackups[uid]
}

func (c *Controller) recordFirstBackup(uid types.UID, state firstBackup) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.firstBackups[uid] = state
}

// backedUpCondition is the shard's BackedUp condition: whether it has the backup a tablet that
// starts without data restores. ok is false for a shard that makes no first backup.
func (c *Controller) backedUpCondition(shard *v1alpha1.VitessShard) (value bool, reason, message string, ok bool) {
	if !initializesBackup(shard) {
		return false, "", "", false
	}
	switch state := c.firstBackupState(shard.UID); {
	case state.done:
		return true, "BackupComplete", "the shard has a complete backup to restore from", true
	case state.failure != "":
		return false, "InitialBackupFailed", state.failure + "; tried again every " + backupRetry.String(), true
	}
	return false, "InitialBackupPending", "the shard's first backup is made once it has a primary and every tablet is ready", true
}
