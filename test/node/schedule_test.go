package node_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// scheduleBackups gives the cluster a backup schedule that fires every minute, as the
// vitess-operator's 101_initial_cluster_backup_schedule example does, and keeps one succeeded Job:
// two runs back the shard up (a backup more in its locations each time) and the first run's Job
// is pruned. Then the schedule is suspended and a second one, whose BackupShard names an
// incremental base that does not exist, is added: in the next minute the suspended schedule runs
// no Job, the second one's Job fails, and the cluster's BackedUp condition and a Warning Event
// quote Vitess' reason.
func scheduleBackups(b backupTest, clusterName string) {
	ctx, t := b.ctx, b.t
	t.Helper()
	clusters := b.asEditor().VitessV1alpha1().VitessClusters(b.namespace)
	patch := func(schedules string) {
		t.Helper()
		body := fmt.Sprintf(`{"spec":{"backup":{"schedules":%s}}}`, schedules)
		if _, err := clusters.Patch(ctx, clusterName, types.MergePatchType, []byte(body), metav1.PatchOptions{}); err != nil {
			t.Fatalf("scheduling backups: %v", err)
		}
	}
	const everyMinute = `{"name":"every-minute","schedule":"* * * * *","successfulJobsHistoryLimit":1,"failedJobsHistoryLimit":1,` +
		`"jobTimeoutMinute":3,"resources":{"requests":{"cpu":"10m","memory":"32Mi"}},"strategies":[{"name":"commerce-x","keyspace":"commerce","shard":"-"}]`
	jobs := func(schedule string) []batchv1.Job {
		t.Helper()
		list, err := b.cp.Client().BatchV1().Jobs(b.namespace).List(ctx, metav1.ListOptions{LabelSelector: vitessapi.LabelBackupSchedule + "=" + schedule})
		if err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	finished := func(job batchv1.Job, outcome batchv1.JobConditionType) bool {
		return slices.ContainsFunc(job.Status.Conditions, func(c batchv1.JobCondition) bool { return c.Type == outcome && c.Status == corev1.ConditionTrue })
	}

	before := b.backupCount()
	started := time.Now()
	patch("[" + everyMinute + "}]")
	succeeded := map[string]bool{}
	waitFor(ctx, t, "two scheduled backups succeeded, the first one's Job pruned", func(context.Context) (bool, error) {
		current := jobs("every-minute")
		kept := 0
		for _, job := range current {
			if finished(job, batchv1.JobFailed) {
				t.Fatalf("scheduled backup Job %s failed: %+v", job.Name, job.Status.Conditions)
			}
			if finished(job, batchv1.JobComplete) {
				succeeded[job.Name] = true
				kept++
			}
		}
		return len(succeeded) >= 2 && kept == 1, nil
	})
	t.Logf("scheduled backups by Jobs %v in %s; the CronJob keeps one", slices.Sorted(func(yield func(string) bool) {
		for name := range succeeded {
			if !yield(name) {
				return
			}
		}
	}), time.Since(started).Round(time.Second))
	if after := b.backupCount(); after < before+2 {
		t.Errorf("%d backups before the schedule, %d after two scheduled runs", before, after)
	}
	if out, _, err := b.cp.Kubectl(ctx, "get", "cronjobs", "--namespace", b.namespace, "--selector", vitessapi.LabelBackupSchedule+"=every-minute"); err != nil || !strings.Contains(out, "* * * * *") {
		t.Errorf("kubectl get cronjobs (%v):\n%s", err, out)
	}
	waitFor(ctx, t, "the cluster's BackedUp condition True", func(ctx context.Context) (bool, error) {
		cluster, err := clusters.Get(ctx, clusterName, metav1.GetOptions{})
		return err == nil && meta.IsStatusConditionTrue(cluster.Status.Conditions, v1alpha1.ConditionBackedUp), nil
	})

	// Suspended, the schedule runs no more; the failing one shows in the cluster's condition.
	patch("[" + everyMinute + `,"suspend":true},{"name":"broken","schedule":"* * * * *","failedJobsHistoryLimit":1,` +
		`"strategies":[{"name":"commerce-x","keyspace":"commerce","shard":"-","extraFlags":{"incremental-from-pos":"no-such-backup"}}]}]`)
	waitFor(ctx, t, "the schedule suspended", func(ctx context.Context) (bool, error) {
		cronJobs, err := b.cp.Client().BatchV1().CronJobs(b.namespace).List(ctx, metav1.ListOptions{LabelSelector: vitessapi.LabelBackupSchedule + "=every-minute"})
		return err == nil && len(cronJobs.Items) == 1 && cronJobs.Items[0].Spec.Suspend != nil && *cronJobs.Items[0].Spec.Suspend, nil
	})
	suspended := map[string]bool{}
	for _, job := range jobs("every-minute") {
		suspended[job.Name] = true
	}
	var condition *metav1.Condition
	waitFor(ctx, t, "the failing schedule's Job in the cluster's BackedUp condition", func(ctx context.Context) (bool, error) {
		cluster, err := clusters.Get(ctx, clusterName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		condition = meta.FindStatusCondition(cluster.Status.Conditions, v1alpha1.ConditionBackedUp)
		return condition != nil && condition.Reason == "ScheduledBackupFailed", nil
	})
	t.Logf("BackedUp %s %s: %s", condition.Status, condition.Reason, condition.Message)
	if condition.Status != metav1.ConditionFalse || !strings.Contains(condition.Message, "commerce/-") || !strings.Contains(condition.Message, `could not find backup "no-such-backup"`) ||
		strings.Contains(condition.Message, `"level"`) {
		t.Errorf("BackedUp %+v, want False naming the shard and Vitess' reason", condition)
	}
	events, err := b.cp.Client().EventsV1().Events(b.namespace).List(ctx, metav1.ListOptions{FieldSelector: "reason=ScheduledBackupFailed"})
	if err != nil || len(events.Items) == 0 || events.Items[0].Type != corev1.EventTypeWarning || events.Items[0].Regarding.Name != clusterName {
		t.Errorf("ScheduledBackupFailed Events: %v %+v", err, events)
	}
	// The broken schedule's Job ran in a minute after the suspension took effect.
	for _, job := range jobs("every-minute") {
		if !suspended[job.Name] {
			t.Errorf("the suspended schedule ran Job %s", job.Name)
		}
	}
	patch("null")
}

// backupCount is how many backups of commerce/- both locations hold: vtctld's (the volume) and
// the bucket.
func (b backupTest) backupCount() int {
	b.t.Helper()
	count := 0
	for _, line := range strings.Split(b.vtctldclient("GetBackups", "commerce/-"), "\n") {
		if strings.TrimSpace(line) != "" {
			count++
		}
	}
	objects, err := b.store.Client().ListObjectsV2(b.ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.store.Bucket), Prefix: aws.String("example/commerce/-/")})
	if err != nil {
		b.t.Fatal(err)
	}
	for _, object := range objects.Contents {
		if strings.HasSuffix(aws.ToString(object.Key), "/MANIFEST") {
			count++
		}
	}
	return count
}
