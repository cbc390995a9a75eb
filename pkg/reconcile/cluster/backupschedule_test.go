package cluster

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

func withSchedules(schedules ...v1alpha1.VitessBackupScheduleTemplate) *v1alpha1.VitessCluster {
	cluster := exampleCluster()
	cluster.Spec.Backup = &v1alpha1.ClusterBackupSpec{
		Locations: []v1alpha1.VitessBackupLocation{{Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Schedules: schedules,
	}
	return cluster
}

// shardsOf lists "schedule/strategy keyspace/shard" for each scheduled shard.
func shardsOf(t *testing.T, cluster *v1alpha1.VitessCluster) []string {
	t.Helper()
	scheduled, err := scheduledShards(cluster)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range scheduled {
		got = append(got, fmt.Sprintf("%s/%s %s/%s", s.schedule.Name, s.strategy.Name, s.keyspace, s.shard.Name))
	}
	return got
}

// A Cluster-scope strategy covers every shard of every keyspace except those a Keyspace-scope
// strategy of a running schedule covers; a Shard-scope one neither narrows it nor is narrowed.
func TestScheduledShards(t *testing.T) {
	all := v1alpha1.VitessBackupScheduleTemplate{Name: "cluster-daily", Frequency: "24h",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "all", Scope: v1alpha1.VitessBackupScopeCluster}}}
	customer := v1alpha1.VitessBackupScheduleTemplate{Name: "customer", Schedule: "*/2 * * * *",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "customer-all", Scope: v1alpha1.VitessBackupScopeKeyspace, Keyspace: "customer"}}}
	commerce := v1alpha1.VitessBackupScheduleTemplate{Name: "commerce", Schedule: "*/2 * * * *",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "commerce-x", Keyspace: "commerce", Shard: "-"}}}

	if got, want := shardsOf(t, withSchedules(all)), []string{"cluster-daily/all commerce/-", "cluster-daily/all customer/-80",
		"cluster-daily/all customer/-", "cluster-daily/all customer/80-"}; !slices.Equal(got, want) {
		t.Errorf("cluster scope alone: %v, want %v", got, want)
	}
	if got, want := shardsOf(t, withSchedules(all, customer, commerce)), []string{"cluster-daily/all commerce/-",
		"customer/customer-all customer/-80", "customer/customer-all customer/-", "customer/customer-all customer/80-",
		"commerce/commerce-x commerce/-"}; !slices.Equal(got, want) {
		t.Errorf("with keyspace and shard overrides: %v, want %v", got, want)
	}
	customer.Suspend = ptr.To(true)
	if got := shardsOf(t, withSchedules(all, customer)); len(got) != 7 {
		t.Errorf("a suspended keyspace schedule still narrowed the cluster-wide one: %v", got)
	}
}

// A frequency becomes a cron schedule that fires exactly once per period, at an offset the seed
// picks.
func TestFrequencyCron(t *testing.T) {
	for _, tc := range []struct {
		frequency string
		seed      uint64
		want      string
	}{
		{"1m", 12345, "* * * * *"},
		{"5m", 7, "2-59/5 * * * *"},
		{"30m", 31, "1-59/30 * * * *"},
		{"1h", 61, "1 * * * *"},
		{"2h", 61, "1 1-23/2 * * *"},
		{"24h", 25*60 + 3, "3 1 * * *"},
	} {
		if got := frequencyCron(vitess.BackupFrequencies[tc.frequency], tc.seed); got != tc.want {
			t.Errorf("%s with seed %d: %q, want %q", tc.frequency, tc.seed, got, tc.want)
		}
	}
	for frequency, period := range vitess.BackupFrequencies {
		for _, seed := range []uint64{0, 1, 59, 60, 61, 1439, 0xffffffff} {
			schedule, err := cron.ParseStandard(frequencyCron(period, seed))
			if err != nil {
				t.Fatalf("%s: %v", frequency, err)
			}
			at := schedule.Next(time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC))
			for range 30 {
				next := schedule.Next(at)
				if next.Sub(at) != period {
					t.Fatalf("%s with seed %d fires at %s and then %s", frequency, seed, at, next)
				}
				at = next
			}
		}
	}
}

// Every field of a schedule reaches its CronJob, its Jobs or their Pods.
func TestBackupCronJob(t *testing.T) {
	schedule := v1alpha1.VitessBackupScheduleTemplate{
		Name: "every-minute", Schedule: "* * * * *",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "commerce-x", Keyspace: "commerce", Shard: "-",
			ExtraFlags: map[string]string{"allow-primary": "true"}}},
		Resources:                  corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}},
		SuccessfulJobsHistoryLimit: ptr.To[int32](2), FailedJobsHistoryLimit: ptr.To[int32](3),
		Suspend: ptr.To(true), StartingDeadlineSeconds: ptr.To[int64](30), ConcurrencyPolicy: v1alpha1.VitessBackupConcurrencyAllow,
		JobTimeoutMinute: 5, Annotations: map[string]string{"backup.example.com/team": "dba"},
		Affinity:    &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{}},
		Tolerations: []corev1.Toleration{{Key: "backups", Operator: corev1.TolerationOpExists}},
	}
	cluster := withSchedules(schedule)
	cluster.Spec.Images.Vtctld = "vitess/lite:v24.0.0"
	cronJobs, err := backupCronJobs(cluster)
	if err != nil || len(cronJobs) != 1 {
		t.Fatalf("%d CronJobs, %v", len(cronJobs), err)
	}
	cronJob := cronJobs[0]
	if !strings.HasPrefix(cronJob.Name, "example-every-minute-commerce-x-commerce") || len(cronJob.Name) > 52 {
		t.Errorf("name %s", cronJob.Name)
	}
	if owner := metav1.GetControllerOf(cronJob); owner == nil || owner.UID != cluster.UID {
		t.Errorf("controller %+v", owner)
	}
	spec := cronJob.Spec
	if spec.Schedule != "* * * * *" || *spec.SuccessfulJobsHistoryLimit != 2 || *spec.FailedJobsHistoryLimit != 3 || !*spec.Suspend ||
		*spec.StartingDeadlineSeconds != 30 || spec.ConcurrencyPolicy != batchv1.AllowConcurrent {
		t.Errorf("CronJob spec %+v", spec)
	}
	job := spec.JobTemplate.Spec
	if *job.ActiveDeadlineSeconds != 300 || *job.BackoffLimit != 0 {
		t.Errorf("Job deadline %d s, backoff limit %d", *job.ActiveDeadlineSeconds, *job.BackoffLimit)
	}
	pod := job.Template
	container := pod.Spec.Containers[0]
	wantArgs := []string{"--server=example-vtctld-625ee430.example.svc:15999", "--logtostderr=true", "BackupShard", "--allow-primary=true", "commerce/-"}
	if container.Image != "vitess/lite:v24.0.0" || !slices.Equal(container.Args, wantArgs) || !container.Resources.Limits.Memory().Equal(resource.MustParse("256Mi")) {
		t.Errorf("container %s %v, resources %v", container.Image, container.Args, container.Resources)
	}
	if pod.Annotations["backup.example.com/team"] != "dba" || pod.Spec.Affinity == nil || len(pod.Spec.Tolerations) != 1 || pod.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("Pod %+v", pod)
	}
	for _, labels := range []map[string]string{cronJob.Labels, spec.JobTemplate.Labels, pod.Labels} {
		if labels[vitess.LabelCluster] != "example" || labels[vitess.LabelComponent] != vitess.ComponentScheduledBackup ||
			labels[vitess.LabelBackupSchedule] != "every-minute" || labels[vitess.LabelKeyspace] != "commerce" || labels[vitess.LabelShard] != "x-x" {
			t.Errorf("labels %v", labels)
		}
	}

	// Defaults: Forbid, a 10-minute timeout; a frequency gives each shard its own offset.
	schedule.ConcurrencyPolicy, schedule.JobTimeoutMinute, schedule.Schedule, schedule.Frequency = "", 0, "", "1h"
	schedule.Strategies = []v1alpha1.VitessBackupScheduleStrategy{{Name: "customer", Scope: v1alpha1.VitessBackupScopeKeyspace, Keyspace: "customer"}}
	cronJobs, _ = backupCronJobs(withSchedules(schedule))
	minutes := map[string]bool{}
	for _, cronJob := range cronJobs {
		if cronJob.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || *cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds != 600 {
			t.Errorf("defaults: %s, %d s", cronJob.Spec.ConcurrencyPolicy, *cronJob.Spec.JobTemplate.Spec.ActiveDeadlineSeconds)
		}
		minutes[cronJob.Spec.Schedule] = true
	}
	if len(cronJobs) != 3 || len(minutes) != 3 {
		t.Errorf("%d CronJobs with schedules %v, want 3 at different minutes", len(cronJobs), minutes)
	}
}

// The reconcile creates the schedule's CronJobs, changes one whose schedule changed, and deletes
// those of a strategy that is gone, but never a CronJob it does not control.
func TestBackupCronJobsAreSynced(t *testing.T) {
	schedule := v1alpha1.VitessBackupScheduleTemplate{Name: "hourly", Schedule: "0 * * * *",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "customer", Scope: v1alpha1.VitessBackupScopeKeyspace, Keyspace: "customer"}}}
	cluster := withSchedules(schedule)
	current, _ := backupCronJobs(cluster)
	current[0].Spec.Schedule = "30 * * * *"
	current[0].Annotations[vitess.AnnotationSpecHash] = "old"
	foreign := current[2].DeepCopy()
	foreign.OwnerReferences = nil
	stale := current[1].DeepCopy()
	stale.Name = "example-hourly-gone-0123"
	// The keyspace's strategy narrows to the shard whose CronJob exists.
	cluster.Spec.Backup.Schedules[0].Strategies[0] = v1alpha1.VitessBackupScheduleStrategy{Name: "customer", Keyspace: "customer", Shard: "-80"}
	desired, _ := backupCronJobs(cluster)
	if desired[0].Name != current[0].Name {
		t.Fatalf("the shard's CronJob was renamed: %s, %s", desired[0].Name, current[0].Name)
	}

	fakes := objectstest.New([]runtime.Object{cluster}, []runtime.Object{current[0], stale, foreign})
	c := New(fakes.Vitess, fakes.Clients, fakes.Kinds, fakes.Informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister(),
		topology.New(func(string) {}, func(string) {}), topology.VtctldAddresses{})
	fakes.Sync(t)
	_ = c.reconcile(t.Context(), "example/example")
	var writes []string
	for _, action := range fakes.Changes() {
		if action.GetResource().Resource == "cronjobs" {
			writes = append(writes, action.GetVerb())
			if action.GetVerb() == "update" {
				if updated := action.(interface{ GetObject() runtime.Object }).GetObject().(*batchv1.CronJob); updated.Spec.Schedule != "0 * * * *" {
					t.Errorf("updated to %s", updated.Spec.Schedule)
				}
			}
		}
	}
	// One update (the changed schedule), one delete (the stale CronJob); the foreign one stays.
	if !slices.Equal(writes, []string{"update", "delete"}) {
		t.Errorf("CronJob writes %v", writes)
	}
}

// finishedJob is a Job of cronJob that finished at the given minute.
func finishedJob(cronJob *batchv1.CronJob, name string, minute int, outcome batchv1.JobConditionType) *batchv1.Job {
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cronJob.Namespace, UID: types.UID(name + "-uid"),
		Labels:          cronJob.Spec.JobTemplate.Labels,
		OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cronJob, batchv1.SchemeGroupVersion.WithKind("CronJob"))}}}
	job.Spec = *cronJob.Spec.JobTemplate.Spec.DeepCopy()
	at := metav1.NewTime(time.Date(2026, 12, 8, 4, minute, 0, 0, time.UTC))
	job.Status.Conditions = []batchv1.JobCondition{{Type: outcome, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: at}}
	return job
}

// The cluster's BackedUp condition follows the last finished Job of each backup CronJob; a failed
// Job is one Warning Event, quoting vtctldclient's last line, however often the cluster is
// reconciled.
func TestScheduledBackupFailureIsReported(t *testing.T) {
	cluster := withSchedules(v1alpha1.VitessBackupScheduleTemplate{Name: "every-minute", Schedule: "* * * * *",
		Strategies: []v1alpha1.VitessBackupScheduleStrategy{{Name: "commerce-x", Keyspace: "commerce", Shard: "-"}}})
	cronJobs, _ := backupCronJobs(cluster)
	cronJob := cronJobs[0]
	cronJob.UID = "cronjob-uid"
	succeeded := finishedJob(cronJob, "backup-1", 1, batchv1.JobComplete)
	failed := finishedJob(cronJob, "backup-2", 2, batchv1.JobFailed)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "backup-2-abcde", Namespace: "example",
		Labels: map[string]string{batchv1.JobNameLabel: "backup-2", vitess.LabelComponent: vitess.ComponentScheduledBackup}}}
	pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "backup", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: 1, Message: `{"time":"2026-12-08T04:35:00.771983746Z","level":"INFO","msg":"starting"}` + "\n" +
			`{"time":"2026-12-08T04:35:00.771983746Z","level":"ERROR","source":{"function":"main.main"},"msg":"rpc error: code = Unknown desc = no tablet available for backup"}` + "\n"}}}}

	fakes := objectstest.New([]runtime.Object{cluster}, []runtime.Object{cronJob, succeeded, failed, pod})
	c := New(fakes.Vitess, fakes.Clients, fakes.Kinds, fakes.Informers.Vitess.Vitess().V1alpha1().VitessClusters().Lister(),
		topology.New(func(string) {}, func(string) {}), topology.VtctldAddresses{})
	fakes.Sync(t)
	status := &v1alpha1.VitessClusterStatus{}
	c.reportBackupSchedules(cluster, status)
	c.reportBackupSchedules(cluster, status)
	condition := meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionBackedUp)
	if condition == nil || condition.Status != metav1.ConditionFalse || condition.Reason != "ScheduledBackupFailed" ||
		!strings.Contains(condition.Message, "backing up commerce/- (schedule every-minute) failed: BackoffLimitExceeded: rpc error: code = Unknown desc = no tablet available for backup") ||
		strings.Contains(condition.Message, "{") {
		t.Fatalf("condition %+v", condition)
	}
	var warnings []string
	for len(fakes.Events.Events) > 0 {
		if event := <-fakes.Events.Events; strings.Contains(event, "ScheduledBackupFailed") {
			warnings = append(warnings, event)
		}
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "Warning") || !strings.Contains(warnings[0], "no tablet available") {
		t.Errorf("Events %v, want one Warning quoting Vitess", warnings)
	}

	// The next run succeeds: the shard's last backup is what counts.
	if _, err := fakes.Core.BatchV1().Jobs("example").Create(t.Context(), finishedJob(cronJob, "backup-3", 3, batchv1.JobComplete), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		c.reportBackupSchedules(cluster, status)
		return meta.IsStatusConditionTrue(status.Conditions, v1alpha1.ConditionBackedUp)
	})

	// Without schedules there is no condition.
	cluster.Spec.Backup.Schedules = nil
	c.reportBackupSchedules(cluster, status)
	if meta.FindStatusCondition(status.Conditions, v1alpha1.ConditionBackedUp) != nil {
		t.Errorf("a cluster without schedules kept the condition")
	}
}

func waitFor(t *testing.T, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !done(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
	}
}
