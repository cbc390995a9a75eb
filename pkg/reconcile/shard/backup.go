package shard

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

const (
	// backupTimeout bounds a backup: the builtin engine copies the tablet's whole data directory.
	backupTimeout = time.Hour
	// backupRetry is when a shard whose first backup failed tries again. A failure is often one
	// that will not pass by itself (an engine the image lacks, a store that refuses the
	// credentials), so not sooner: each attempt is a Warning Event.
	backupRetry = 5 * time.Minute
	// backupsReadEvery is how often a shard's backups are listed, so that status.lastBackup also
	// follows the backups this controller did not take (a schedule's, vtctldclient's): one
	// GetBackups per shard, which reads the backup storage.
	backupsReadEvery = 5 * time.Minute
)

// backupKey is the background work of a shard's backups: one backup at a time per shard. Not the
// reparents' key, as a backup takes minutes and a reparent must not wait for it.
func backupKey(shardKey string) string { return shardKey + "/backup" }

// initializeBackup gives a shard with a backup location its first backup, as the operator's
// initializeBackup (default true) does, so that a tablet that later starts without data has one
// to restore. The operator runs vtbackup for it, which the vitess/lite image built here for the tests does not carry; here a
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
	p.background.Go(ctx, backupKey(shardKey), func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, backupTimeout)
		defer cancel()
		// Each outcome enqueues the shard, whose next pass reports it in the BackedUp condition.
		failed := func(why string) {
			p.recordBackupFailure(shard.UID, "InitialBackupFailed", why+"; tried again every "+backupRetry.String())
			p.queue.Add(shardKey)
			p.queue.AddAfter(shardKey, backupRetry)
		}
		client, err := p.vitess(view.Address, backupTimeout)
		if err != nil {
			failed(fmt.Sprintf("reaching vtctld: %v", err))
			return
		}
		if err := p.readBackups(ctx, client, shard); err != nil {
			klog.V(2).InfoS("Reading the shard's backups failed", "shard", shardKey, "err", err)
			failed(fmt.Sprintf("listing the shard's backups: %v", err))
			return
		}
		if p.backupState(shard.UID).backedUp {
			p.queue.Add(shardKey)
			return
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "InitialBackup", "Backup", "backing up %s: the shard has no backup yet", tablet)
		if err := p.backUp(ctx, client, shard, tablet, vtctld.BackupOptions{}); err != nil {
			p.Events.Eventf(shard, nil, corev1.EventTypeWarning, "InitialBackupFailed", "Backup", "backing up %s: %v", tablet, err)
			failed(fmt.Sprintf("backing up %s: %v", tablet, err))
			return
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "InitialBackupTaken", "Backup", "backed up %s: the shard's first backup", tablet)
		p.queue.Add(shardKey)
	})
}

// carryOutPendingAction carries out the backup or restore a user asked for through
// vitessshards/backup, vitesskeyspaces/backup or vitessshards/restore (status.pendingAction),
// exactly once: it is claimed in the status (startedAt) before Vitess is asked, and a claimed
// action that is not under way here (the server that claimed it stopped, or lost the lead,
// mid-call) is never asked for again. A backup is then recorded as taken if the shard lists a
// complete backup made since the claim, and anything else as failed, so that the user, who asked
// for it once, decides whether to ask again.
func (p *shardPass) carryOutPendingAction(ctx context.Context) {
	shard := p.shard
	pending := shard.Status.PendingAction
	shardKey := shard.Namespace + "/" + shard.Name
	if pending == nil || p.backupState(shard.UID).finished[pending.ID] || p.background.Busy(backupKey(shardKey)) {
		return
	}
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		return
	}
	action := *pending
	if action.StartedAt != nil {
		p.background.Go(ctx, backupKey(shardKey), func(ctx context.Context) {
			if action.Action != vitess.ActionBackup {
				p.finishAction(shard, action, "", fmt.Errorf("the server carrying it out stopped before it finished; request it again"))
				return
			}
			client, err := p.vitess(view.Address, topology.CallTimeout)
			if err == nil {
				err = p.readBackups(ctx, client, shard)
			}
			if err != nil {
				klog.V(2).InfoS("Reading the shard's backups failed", "shard", shardKey, "err", err)
				p.queue.AddAfter(shardKey, topology.CallTimeout)
				return
			}
			// Backup names and times are to the second.
			if latest := p.backupState(shard.UID).latest; latest != nil && !latest.Time.Before(action.StartedAt.Truncate(time.Second)) {
				p.finishAction(shard, action, fmt.Sprintf("%s (its answer was lost when the reconcile loop's leader changed)", latest.Name), nil)
				return
			}
			p.finishAction(shard, action, "", fmt.Errorf("the server taking it stopped before the backup finished, and the shard lists no backup since; request it again"))
		})
		return
	}
	claimed := shard.DeepCopy()
	claimed.Status.PendingAction.StartedAt = ptr.To(metav1.Now())
	stored, err := p.Shards.Client(shard.Namespace).UpdateStatus(ctx, claimed, metav1.UpdateOptions{FieldManager: objects.FieldManager})
	if err != nil {
		if !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
			p.Fail(fmt.Errorf("claiming the requested %s: %w", action.Action, err))
		}
		return // the next pass sees what changed
	}
	p.shard = stored
	action.StartedAt = stored.Status.PendingAction.StartedAt
	primary := view.Shards[shard.Spec.KeyspaceName+"/"+shard.Spec.Name].PrimaryAlias
	p.background.Go(ctx, backupKey(shardKey), func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, backupTimeout)
		defer cancel()
		client, err := p.vitess(view.Address, backupTimeout)
		if err != nil {
			p.finishAction(shard, action, "", fmt.Errorf("reaching vtctld: %w", err))
			return
		}
		if action.Action == vitess.ActionRestore {
			target := vtctld.RestoreTo(action.BackupTime, action.RestoreToTimestamp, action.RestoreToPosition)
			p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "Restoring", "Restore", "restoring %s to %s, as %s requested", action.Tablet, target, action.RequestedBy)
			if err := client.Restore(ctx, action.Tablet, target); err != nil {
				p.finishAction(shard, action, "", fmt.Errorf("restoring %s: %w", action.Tablet, err))
				return
			}
			p.finishAction(shard, action, fmt.Sprintf("%s restored to %s", action.Tablet, target), nil)
			return
		}
		tablet := action.Tablet
		if tablet == "" {
			tablet = backupTablet(shard, primary)
		}
		if tablet == "" && action.AllowPrimary {
			tablet = primary
		}
		if tablet == "" {
			p.finishAction(shard, action, "", fmt.Errorf("no tablet to back up: no pool of the shard backs up to the cluster's first backup location "+
				"with a tablet that is not the primary; name a tablet, or allow the primary"))
			return
		}
		kind := "a backup"
		if action.Incremental {
			kind = "an incremental backup"
		}
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "BackingUp", "Backup", "taking %s of %s, as %s requested", kind, tablet, action.RequestedBy)
		if err := p.backUp(ctx, client, shard, tablet, vtctld.BackupOptions{AllowPrimary: action.AllowPrimary, Incremental: action.Incremental}); err != nil {
			p.finishAction(shard, action, "", fmt.Errorf("backing up %s: %w", tablet, err))
			return
		}
		done := fmt.Sprintf("%s of %s", kind, tablet)
		// vtctld lists only its own location's backups: a pool that backs up elsewhere made one
		// vtctld does not show.
		if latest := p.backupState(shard.UID).latest; latest != nil && latest.TabletAlias == tablet && !latest.Time.Before(action.StartedAt.Truncate(time.Second)) {
			done += ": " + latest.Name
		}
		p.finishAction(shard, action, done, nil)
	})
}

// finishAction records the outcome of a requested backup or restore, as an Event and for the
// shard's next pass, which clears its pendingAction and reports a backup's in the BackedUp
// condition.
func (p *shardPass) finishAction(shard *v1alpha1.VitessShard, action v1alpha1.VitessShardPendingAction, done string, err error) {
	reason := map[string]string{vitess.ActionBackup: "Backup", vitess.ActionRestore: "Restore"}[action.Action]
	switch {
	case err != nil:
		p.Events.Eventf(shard, nil, corev1.EventTypeWarning, reason+"Failed", reason, "the %s %s requested failed: %v", action.Action, action.RequestedBy, err)
		if action.Action == vitess.ActionBackup {
			p.recordBackupFailure(shard.UID, "BackupFailed", fmt.Sprintf("the backup %s requested failed: %v", action.RequestedBy, err))
		}
	case action.Action == vitess.ActionBackup:
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "BackupTaken", reason, "took the backup %s requested, %s", action.RequestedBy, done)
	default:
		p.Events.Eventf(shard, nil, corev1.EventTypeNormal, "Restored", reason, "the restore %s requested is done: %s", action.RequestedBy, done)
	}
	p.updateBackupState(shard.UID, func(state *backupState) {
		if state.finished == nil {
			state.finished = map[string]bool{}
		}
		state.finished[action.ID] = true
	})
	p.queue.Add(shard.Namespace + "/" + shard.Name)
}

// backUp backs the tablet up, then lists the shard's backups for the one it made.
func (p *shardPass) backUp(ctx context.Context, client vitessShards, shard *v1alpha1.VitessShard, tablet string, options vtctld.BackupOptions) error {
	if err := client.BackUp(ctx, tablet, options); err != nil {
		return err
	}
	p.updateBackupState(shard.UID, func(state *backupState) { state.backedUp, state.failure = true, "" })
	if err := p.readBackups(ctx, client, shard); err != nil {
		klog.V(2).InfoS("Reading the shard's backups after a backup failed", "shard", shard.Namespace+"/"+shard.Name, "err", err)
	}
	return nil
}

// readBackups lists the shard's backups in vtctld's location, records its newest complete one,
// and prunes those its retention, if any, removes.
func (p *shardPass) readBackups(ctx context.Context, client vitessShards, shard *v1alpha1.VitessShard) error {
	backups, err := client.Backups(ctx, shard.Spec.KeyspaceName, shard.Spec.Name)
	if err != nil {
		return err
	}
	var latest *vtctld.Backup
	for _, b := range backups {
		if b.Complete && (latest == nil || !b.Time.Before(latest.Time)) {
			latest = &b
		}
	}
	p.updateBackupState(shard.UID, func(state *backupState) {
		state.readAt = time.Now()
		if latest != nil {
			state.latest, state.backedUp = latest, true
		}
	})
	p.pruneBackups(ctx, client, shard, backups)
	return nil
}

// followBackups lists the shard's backups every backupsReadEvery, for status.lastBackup.
func (p *shardPass) followBackups(ctx context.Context) {
	shard := p.shard
	shardKey := shard.Namespace + "/" + shard.Name
	if len(shard.Spec.BackupLocations) == 0 || time.Since(p.backupState(shard.UID).readAt) < backupsReadEvery {
		return
	}
	view := p.topology.View(shard.Namespace + "/" + shard.Spec.Cluster)
	if !view.Reached() {
		return
	}
	p.background.Go(ctx, backupKey(shardKey), func(ctx context.Context) {
		client, err := p.vitess(view.Address, topology.CallTimeout)
		if err == nil {
			err = p.readBackups(ctx, client, shard)
		}
		if err != nil {
			klog.V(2).InfoS("Reading the shard's backups failed", "shard", shardKey, "err", err)
			p.updateBackupState(shard.UID, func(state *backupState) { state.readAt = time.Now() })
		}
		p.queue.Add(shardKey)
		p.queue.AddAfter(shardKey, backupsReadEvery)
	})
}

// initializesBackup tells whether the shard is to get a first backup: initializeBackup is unset
// or true, vtctld has a backup location to find it in, and some pool's tablets back up there. A
// snapshot keyspace's shard is a copy of another's backup and gets none.
func initializesBackup(shard *v1alpha1.VitessShard) bool {
	replication := ptr.Deref(shard.Spec.Replication, v1alpha1.VitessReplicationSpec{})
	return ptr.Deref(replication.InitializeBackup, true) && shard.Spec.KeyspaceSnapshot == nil && len(shard.Spec.BackupLocations) > 0 && backupTablet(shard, "") != ""
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

// backupState is what the controller knows of a shard's backups.
type backupState struct {
	// backedUp: the shard has a complete backup (so it needs no first one).
	backedUp bool
	// latest is the newest complete backup vtctld listed, read at readAt.
	latest *vtctld.Backup
	readAt time.Time
	// failedAt is when the last backup this controller took failed, failure why, and
	// failureReason the BackedUp condition's reason for it; a backup taken since clears them.
	failedAt               time.Time
	failure, failureReason string
	// finished holds the IDs of the requested backups and restores whose outcome is recorded.
	finished map[string]bool
}

// firstBackupDue tells whether the shard may need a first backup: none is known, and no attempt
// failed within backupRetry (passes come far more often, and each attempt would be an Event).
func (c *Controller) firstBackupDue(uid types.UID) bool {
	state := c.backupState(uid)
	return !state.backedUp && time.Since(state.failedAt) >= backupRetry
}

// backupState returns what is known of the shard's backups; finished is shared, not to be changed.
func (c *Controller) backupState(uid types.UID) backupState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.backups[uid]
}

func (c *Controller) updateBackupState(uid types.UID, update func(*backupState)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	state := c.backups[uid]
	update(&state)
	c.backups[uid] = state
}

func (c *Controller) recordBackupFailure(uid types.UID, reason, failure string) {
	c.updateBackupState(uid, func(state *backupState) {
		state.failedAt, state.failureReason, state.failure = time.Now(), reason, failure
	})
}

// reportBackups writes what is known of the shard's backups into its status: the BackedUp
// condition (absent for a shard that makes no first backup and took none), lastBackup, and the
// end of a requested backup or restore whose outcome is recorded.
func (c *Controller) reportBackups(shard *v1alpha1.VitessShard) {
	status := &shard.Status
	state := c.backupState(shard.UID)
	if status.PendingAction != nil && state.finished[status.PendingAction.ID] {
		status.PendingAction = nil
	}
	if latest := state.latest; latest != nil {
		status.LastBackup = &v1alpha1.VitessBackupRecord{Name: latest.Name, Time: metav1.NewTime(latest.Time), Tablet: latest.TabletAlias, Engine: latest.Engine}
	}
	set := func(value bool, reason, message string) {
		objects.SetCondition(&status.Conditions, shard.Generation, v1alpha1.ConditionBackedUp, value, reason, message)
	}
	switch {
	case state.failure != "":
		set(false, state.failureReason, state.failure)
	case state.latest != nil:
		set(true, "BackupComplete", fmt.Sprintf("the newest complete backup is %s", state.latest.Name))
	case state.backedUp:
		set(true, "BackupComplete", "the shard has a complete backup to restore from")
	case initializesBackup(shard):
		set(false, "InitialBackupPending", "the shard's first backup is made once it has a primary and every tablet is ready")
	default:
		meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionBackedUp)
	}
}
