package cluster

// A cluster's backup schedules run as CronJobs it controls, one per shard each strategy covers, so
// that Kubernetes' CronJob controller keeps the time, the history limits, suspend and the
// concurrency policy, and a user sees each run as a Job. Each Job asks the cluster's vtctld to back
// its shard up (vtctldclient BackupShard), which picks a healthy tablet that is not the primary.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// defaultJobTimeoutMinute bounds a backup Job whose schedule sets no jobTimeoutMinute, as in the
// vitess-operator.
const defaultJobTimeoutMinute = 10

// scheduledShard is one shard that one strategy of a schedule backs up.
type scheduledShard struct {
	schedule *v1alpha1.VitessBackupScheduleTemplate
	strategy *v1alpha1.VitessBackupScheduleStrategy
	keyspace string
	shard    vitess.KeyspaceShard
}

// scheduledShards expands the cluster's schedules into the shards each strategy covers. A
// Cluster-scope strategy leaves out the keyspaces that a Keyspace-scope strategy of a schedule
// that is not suspended covers: that strategy overrides the cluster-wide one for its keyspace.
func scheduledShards(cluster *v1alpha1.VitessCluster) ([]scheduledShard, error) {
	backup := cluster.Spec.Backup
	if backup == nil {
		return nil, nil
	}
	shards := map[string][]vitess.KeyspaceShard{}
	for _, keyspace := range cluster.Spec.Keyspaces {
		keyspaceShards, err := keyspaceShards(keyspace)
		if err != nil {
			return nil, fmt.Errorf("keyspace %s: %w", keyspace.Name, err)
		}
		shards[keyspace.Name] = keyspaceShards
	}
	overridden := sets.New[string]()
	for _, schedule := range backup.Schedules {
		for _, strategy := range schedule.Strategies {
			if strategy.Scope == v1alpha1.VitessBackupScopeKeyspace && !ptr.Deref(schedule.Suspend, false) {
				overridden.Insert(strategy.Keyspace)
			}
		}
	}
	var scheduled []scheduledShard
	for i := range backup.Schedules {
		schedule := &backup.Schedules[i]
		for j := range schedule.Strategies {
			strategy := &schedule.Strategies[j]
			add := func(keyspace string, shard vitess.KeyspaceShard) {
				scheduled = append(scheduled, scheduledShard{schedule: schedule, strategy: strategy, keyspace: keyspace, shard: shard})
			}
			switch strategy.Scope {
			case v1alpha1.VitessBackupScopeCluster:
				for _, keyspace := range cluster.Spec.Keyspaces {
					// A snapshot keyspace is a copy of a backup already taken.
					if !overridden.Has(keyspace.Name) && keyspace.Snapshot == nil {
						for _, shard := range shards[keyspace.Name] {
							add(keyspace.Name, shard)
						}
					}
				}
			case v1alpha1.VitessBackupScopeKeyspace:
				for _, shard := range shards[strategy.Keyspace] {
					add(strategy.Keyspace, shard)
				}
			default:
				if k := slices.IndexFunc(shards[strategy.Keyspace], func(s vitess.KeyspaceShard) bool { return s.Name == strategy.Shard }); k >= 0 {
					add(strategy.Keyspace, shards[strategy.Keyspace][k])
				}
			}
		}
	}
	return scheduled, nil
}

// cronSchedule is the shard's cron schedule: the schedule's own, or one that repeats at its
// frequency from an offset that the shard's identity decides, so that a cluster's shards do not
// all back up at the same minute.
func (s scheduledShard) cronSchedule(cluster string) string {
	if s.schedule.Schedule != "" {
		return s.schedule.Schedule
	}
	seed, _ := strconv.ParseUint(names.Hash(cluster, s.schedule.Name, s.strategy.Name, s.keyspace, s.shard.Name), 16, 32)
	return frequencyCron(vitess.BackupFrequencies[s.schedule.Frequency], seed)
}

// frequencyCron is a cron schedule that repeats every period (one of vitess.BackupFrequencies),
// at an offset within it taken from seed.
func frequencyCron(period time.Duration, seed uint64) string {
	minutes := uint64(period / time.Minute)
	switch {
	case minutes <= 1:
		return "* * * * *"
	case minutes < 60:
		return fmt.Sprintf("%d-59/%d * * * *", seed%minutes, minutes)
	}
	hours, minute := minutes/60, seed%60
	switch {
	case hours == 1:
		return fmt.Sprintf("%d * * * *", minute)
	case hours == 24:
		return fmt.Sprintf("%d %d * * *", minute, (seed/60)%24)
	default:
		return fmt.Sprintf("%d %d-23/%d * * *", minute, (seed/60)%hours, hours)
	}
}

// backupCronJobs are the CronJobs of the cluster's backup schedules.
func backupCronJobs(cluster *v1alpha1.VitessCluster) ([]*batchv1.CronJob, error) {
	scheduled, err := scheduledShards(cluster)
	if err != nil {
		return nil, err
	}
	cronJobs := make([]*batchv1.CronJob, 0, len(scheduled))
	for _, s := range scheduled {
		cronJobs = append(cronJobs, s.cronJob(cluster))
	}
	return cronJobs, nil
}

// cronJob runs the shard's backups on its schedule.
func (s scheduledShard) cronJob(cluster *v1alpha1.VitessCluster) *batchv1.CronJob {
	schedule := s.schedule
	safeName := s.shard.KeyRange.SafeName()
	jobLabels := objects.ComponentSelector(cluster.Name, vitess.ComponentScheduledBackup)
	jobLabels[vitess.LabelKeyspace] = s.keyspace
	jobLabels[vitess.LabelShard] = safeName
	jobLabels[vitess.LabelBackupSchedule] = schedule.Name
	jobLabels[vitess.LabelBackupStrategy] = s.strategy.Name
	image := cluster.Spec.Images.Vtctld
	if image == "" {
		image = vitess.DefaultVitessImage
	}
	vtctld := fmt.Sprintf("%s.%s.svc:%d", names.VtctldServiceName(cluster.Name), cluster.Namespace, objects.VitessGRPCPort)
	// --logtostderr: Vitess logs to files in /tmp otherwise, and the container's root file system
	// is read-only.
	args := append([]string{"--server=" + vtctld, "--logtostderr=true", "BackupShard"}, objects.FlagArgs(s.strategy.ExtraFlags)...)
	args = append(args, s.keyspace+"/"+s.shard.Name)
	timeoutMinutes := schedule.JobTimeoutMinute
	if timeoutMinutes == 0 {
		timeoutMinutes = defaultJobTimeoutMinute
	}
	concurrency := batchv1.ForbidConcurrent
	if schedule.ConcurrencyPolicy == v1alpha1.VitessBackupConcurrencyAllow {
		concurrency = batchv1.AllowConcurrent
	}
	cronJob := &batchv1.CronJob{
		ObjectMeta: ownedByCluster(cluster).Meta(names.BackupCronJob(cluster.Name, schedule.Name, s.strategy.Name, s.keyspace, safeName), objects.CopyMap(jobLabels)),
		Spec: batchv1.CronJobSpec{
			Schedule:                   s.cronSchedule(cluster.Name),
			StartingDeadlineSeconds:    schedule.StartingDeadlineSeconds,
			ConcurrencyPolicy:          concurrency,
			Suspend:                    schedule.Suspend,
			SuccessfulJobsHistoryLimit: schedule.SuccessfulJobsHistoryLimit,
			FailedJobsHistoryLimit:     schedule.FailedJobsHistoryLimit,
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: objects.CopyMap(jobLabels)},
				Spec: batchv1.JobSpec{
					// A failed backup is not retried within its run: vtctld may have left the
					// tablet mid-backup, and the next run comes on the schedule. The failure shows
					// in the cluster's BackedUp condition.
					BackoffLimit:          ptr.To[int32](0),
					ActiveDeadlineSeconds: ptr.To(int64(timeoutMinutes) * 60),
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Labels: objects.CopyMap(jobLabels), Annotations: objects.CopyMap(schedule.Annotations)},
						Spec: corev1.PodSpec{
							RestartPolicy:    corev1.RestartPolicyNever,
							ImagePullSecrets: cluster.Spec.ImagePullSecrets,
							Affinity:         schedule.Affinity,
							Tolerations:      schedule.Tolerations,
							SecurityContext:  objects.NonRootPod,
							Containers: []corev1.Container{{
								Name:            "backup",
								Image:           image,
								ImagePullPolicy: cluster.Spec.ImagePullPolicies.Vtctld,
								Command:         []string{"/vt/bin/vtctldclient"},
								Args:            args,
								Resources:       schedule.Resources,
								SecurityContext: objects.RestrictedContainer(),
								// vtctldclient's error, the last line it writes, becomes the
								// container's termination message, which the cluster's BackedUp
								// condition quotes.
								TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
							}},
						},
					},
				},
			},
		},
	}
	objects.StampHash(&cronJob.ObjectMeta, cronJob.Spec)
	return cronJob
}

// syncBackupSchedules runs the cluster's backup schedules as CronJobs and removes the CronJobs of
// schedules, strategies or shards it no longer has.
func (p *clusterPass) syncBackupSchedules(ctx context.Context) {
	desired, err := backupCronJobs(p.cluster)
	if err != nil {
		p.Fail(err)
		return
	}
	p.SyncCronJobs(ctx, p.cluster.Namespace, objects.ComponentSelector(p.cluster.Name, vitess.ComponentScheduledBackup), desired)
}

// scheduledBackupOutcome is what the last finished Job of each backup CronJob says.
type scheduledBackupOutcome struct {
	cronJobs  int
	succeeded int
	// failed describes each CronJob whose last finished Job failed.
	failed []string
	// failedJobs describes every failed Job the CronJobs keep.
	failedJobs map[types.UID]string
}

// reportBackupSchedules sets the cluster's BackedUp condition from the last finished Job of each
// of its backup CronJobs, and records a ScheduledBackupFailed Event for each Job that failed.
func (c *Controller) reportBackupSchedules(cluster *v1alpha1.VitessCluster, status *v1alpha1.VitessClusterStatus) {
	clusterKey := cluster.Namespace + "/" + cluster.Name
	if cluster.Spec.Backup == nil || len(cluster.Spec.Backup.Schedules) == 0 {
		meta.RemoveStatusCondition(&status.Conditions, v1alpha1.ConditionBackedUp)
		c.forgetReportedJobs(clusterKey)
		return
	}
	outcome, err := c.scheduledBackupOutcome(cluster)
	if err != nil {
		return // the informers' caches always list; the next pass reports
	}
	reported := c.reportedJobFailures(clusterKey)
	stillFailed := sets.New[types.UID]()
	for uid, failure := range outcome.failedJobs {
		stillFailed.Insert(uid)
		if !reported.Has(uid) {
			c.clients.Events.Eventf(cluster, nil, corev1.EventTypeWarning, "ScheduledBackupFailed", "Backup", "%s", failure)
		}
	}
	c.setReportedJobFailures(clusterKey, stillFailed)

	condition := metav1.Condition{Type: v1alpha1.ConditionBackedUp, ObservedGeneration: cluster.Generation}
	switch {
	case len(outcome.failed) > 0:
		condition.Status, condition.Reason = metav1.ConditionFalse, "ScheduledBackupFailed"
		condition.Message = "the last scheduled backup failed: " + strings.Join(outcome.failed, "; ")
	case outcome.succeeded < outcome.cronJobs:
		condition.Status, condition.Reason = metav1.ConditionUnknown, "ScheduledBackupPending"
		condition.Message = fmt.Sprintf("%d of %d scheduled shard backups have run; none failed", outcome.succeeded, outcome.cronJobs)
	default:
		condition.Status, condition.Reason = metav1.ConditionTrue, "ScheduledBackupsSucceeded"
		condition.Message = fmt.Sprintf("the last scheduled backup of each of the %d scheduled shard backups succeeded", outcome.cronJobs)
	}
	meta.SetStatusCondition(&status.Conditions, condition)
}

// scheduledBackupOutcome reads the cluster's backup CronJobs and their Jobs from the caches.
func (c *Controller) scheduledBackupOutcome(cluster *v1alpha1.VitessCluster) (scheduledBackupOutcome, error) {
	outcome := scheduledBackupOutcome{failedJobs: map[types.UID]string{}}
	selector := labels.SelectorFromSet(objects.ComponentSelector(cluster.Name, vitess.ComponentScheduledBackup))
	cronJobs, err := c.clients.CronJobs.CronJobs(cluster.Namespace).List(selector)
	if err != nil {
		return outcome, err
	}
	jobs, err := c.clients.Jobs.Jobs(cluster.Namespace).List(selector)
	if err != nil {
		return outcome, err
	}
	sort.Slice(cronJobs, func(i, j int) bool { return cronJobs[i].Name < cronJobs[j].Name })
	for _, cronJob := range cronJobs {
		if !metav1.IsControlledBy(cronJob, cluster) {
			continue
		}
		outcome.cronJobs++
		var last *batchv1.Job
		var lastFinished time.Time
		for _, job := range jobs {
			if !metav1.IsControlledBy(job, cronJob) {
				continue
			}
			finished := jobFinished(job)
			if finished == nil {
				continue
			}
			if finished.Type == batchv1.JobFailed {
				outcome.failedJobs[job.UID] = c.jobFailure(job, finished)
			}
			if last == nil || finished.LastTransitionTime.After(lastFinished) {
				last, lastFinished = job, finished.LastTransitionTime.Time
			}
		}
		switch {
		case last == nil:
		case jobFinished(last).Type == batchv1.JobFailed:
			outcome.failed = append(outcome.failed, outcome.failedJobs[last.UID])
		default:
			outcome.succeeded++
		}
	}
	return outcome, nil
}

// jobFinished is the Job's Complete or Failed condition, nil while it runs.
func jobFinished(job *batchv1.Job) *batchv1.JobCondition {
	for i := range job.Status.Conditions {
		condition := &job.Status.Conditions[i]
		if (condition.Type == batchv1.JobComplete || condition.Type == batchv1.JobFailed) && condition.Status == corev1.ConditionTrue {
			return condition
		}
	}
	return nil
}

// jobFailure says which shard's scheduled backup failed and why: the Job's reason, and the last
// line vtctldclient wrote (its Pod's termination message), which carries Vitess' reason.
func (c *Controller) jobFailure(job *batchv1.Job, failed *batchv1.JobCondition) string {
	// The Job's last argument is the keyspace/shard it backs up, in Vitess' words ("commerce/-").
	var shard string
	if containers := job.Spec.Template.Spec.Containers; len(containers) > 0 && len(containers[0].Args) > 0 {
		shard = containers[0].Args[len(containers[0].Args)-1]
	}
	failure := fmt.Sprintf("Job %s backing up %s (schedule %s) failed: %s", job.Name, shard, job.Labels[vitess.LabelBackupSchedule], failed.Reason)
	pods, err := c.clients.Pods.Pods(job.Namespace).List(labels.SelectorFromSet(labels.Set{batchv1.JobNameLabel: job.Name}))
	if err != nil {
		return failure
	}
	for _, pod := range pods {
		for _, status := range pod.Status.ContainerStatuses {
			if terminated := status.State.Terminated; terminated != nil && terminated.Message != "" {
				return failure + ": " + lastLine(terminated.Message)
			}
		}
	}
	if failed.Message != "" {
		failure += ": " + failed.Message
	}
	return failure
}

// lastLine is the last non-empty line of text, at most 512 bytes of it; of a structured log line
// (Vitess v24 logs JSON), its message.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	line := strings.TrimSpace(lines[len(lines)-1])
	var logged struct {
		Msg string `json:"msg"`
	}
	if json.Unmarshal([]byte(line), &logged) == nil && logged.Msg != "" {
		line = logged.Msg
	}
	if len(line) > 512 {
		line = line[:512] + "..."
	}
	return line
}

func (c *Controller) reportedJobFailures(clusterKey string) sets.Set[types.UID] {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reportedFailures[clusterKey]
}

// setReportedJobFailures keeps the failed Jobs that still exist, so that the set does not grow
// beyond the schedules' failed-Jobs history.
func (c *Controller) setReportedJobFailures(clusterKey string, failed sets.Set[types.UID]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reportedFailures[clusterKey] = failed
}

func (c *Controller) forgetReportedJobs(clusterKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.reportedFailures, clusterKey)
}
