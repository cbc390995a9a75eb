package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	vitessapi "github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// scheduledCluster is a cluster in the manner of the vitess-operator's backup schedule examples
// (101_initial_cluster_backup_schedule, 102_initial_cluster_keyspace_backup_schedule): a volume
// location and the given schedules, commerce with one shard and customer with two.
func scheduledCluster(namespace, schedules string) string {
	pool := `{type: replica, cell: zone1, replicas: 1, dataVolumeClaimTemplate: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}`
	return fmt.Sprintf(`apiVersion: vitess.planetscale.com/v1alpha1
kind: VitessCluster
metadata:
  name: example
  namespace: %s
spec:
  backup:
    locations:
    - volume:
        persistentVolumeClaim:
          claimName: vitess-backups
    schedules:
%s
  cells:
  - name: zone1
  keyspaces:
  - name: commerce
    partitionings:
    - equal:
        parts: 1
        shardTemplate:
          databaseInitScriptSecret: {name: example-cluster-config, key: init_db.sql}
          tabletPools: [%s]
  - name: customer
    partitionings:
    - equal:
        parts: 2
        shardTemplate:
          databaseInitScriptSecret: {name: example-cluster-config, key: init_db.sql}
          tabletPools: [%s]
`, namespace, schedules, pool, pool)
}

// TestBackupSchedules applies schedules written as the operator's examples write them and checks
// the CronJobs the cluster gets: one per shard each strategy covers, with the schedule's fields,
// a Cluster-scope strategy leaving out the keyspace a Keyspace-scope one covers. A change of the
// schedule reaches its CronJobs, a schedule removed takes its CronJobs with it, and vtbackup is
// refused with the reason.
func TestBackupSchedules(t *testing.T) {
	const namespace = "backup-schedules"
	ensureNamespace(t, namespace)
	core := kubeClient(t)
	const operatorSchedules = `    - name: every-minute
      schedule: "* * * * *"
      resources:
        requests: {cpu: 100m, memory: 1024Mi}
        limits: {memory: 1024Mi}
      successfulJobsHistoryLimit: 2
      failedJobsHistoryLimit: 3
      jobTimeoutMinute: 5
      strategies:
      - name: commerce-x
        keyspace: commerce
        shard: "-"
    - name: cluster-every-minute
      frequency: 1m
      strategies:
      - name: all
        scope: Cluster
    - name: customer-ks-every-minute
      frequency: 1m
      strategies:
      - name: customer-all
        scope: Keyspace
        keyspace: customer`
	mustApply(t, scheduledCluster(namespace, operatorSchedules))

	cronJobs := func() []batchv1.CronJob {
		t.Helper()
		list, err := core.BatchV1().CronJobs(namespace).List(testContext(t), metav1.ListOptions{LabelSelector: vitessapi.LabelComponent + "=" + vitessapi.ComponentScheduledBackup})
		if err != nil {
			t.Fatal(err)
		}
		return list.Items
	}
	covered := func(jobs []batchv1.CronJob) []string {
		var shards []string
		for _, cronJob := range jobs {
			args := cronJob.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Args
			shards = append(shards, cronJob.Labels[vitessapi.LabelBackupSchedule]+" "+args[len(args)-1])
		}
		slices.Sort(shards)
		return shards
	}
	want := []string{"cluster-every-minute commerce/-", "customer-ks-every-minute customer/-80", "customer-ks-every-minute customer/80-", "every-minute commerce/-"}
	eventually(t, "the schedules' CronJobs", func() (bool, error) { return slices.Equal(covered(cronJobs()), want), nil })
	for _, cronJob := range cronJobs() {
		spec := cronJob.Spec
		switch cronJob.Labels[vitessapi.LabelBackupSchedule] {
		case "every-minute":
			container := spec.JobTemplate.Spec.Template.Spec.Containers[0]
			if spec.Schedule != "* * * * *" || *spec.SuccessfulJobsHistoryLimit != 2 || *spec.FailedJobsHistoryLimit != 3 ||
				*spec.JobTemplate.Spec.ActiveDeadlineSeconds != 300 || container.Resources.Requests.Memory().String() != "1Gi" ||
				!strings.HasPrefix(container.Args[0], "--server=example-vtctld-625ee430."+namespace+".svc:15999") || spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
				t.Errorf("every-minute CronJob %s: %+v", cronJob.Name, spec)
			}
		default:
			if spec.Schedule != "* * * * *" {
				t.Errorf("frequency 1m gave %s the schedule %q", cronJob.Name, spec.Schedule)
			}
		}
	}
	if out := kubectl(t, "get", "cronjobs", "-n", namespace, "-l", vitessapi.LabelBackupSchedule+"=every-minute"); !strings.Contains(out, "* * * * *") {
		t.Errorf("kubectl get cronjobs:\n%s", out)
	}

	// Suspending the operator's schedule and dropping the others.
	mustApply(t, scheduledCluster(namespace, strings.Replace(strings.SplitN(operatorSchedules, "    - name: cluster-every-minute", 2)[0],
		"      jobTimeoutMinute: 5\n", "      jobTimeoutMinute: 5\n      suspend: true\n", 1)))
	eventually(t, "one suspended CronJob left", func() (bool, error) {
		jobs := cronJobs()
		return len(jobs) == 1 && jobs[0].Spec.Suspend != nil && *jobs[0].Spec.Suspend, nil
	})

	// The operator's default method, vtbackup, is refused, saying why.
	out, err := kubectlWithInput(t, scheduledCluster(namespace, strings.Replace(operatorSchedules, `      schedule: "* * * * *"`, "      schedule: \"* * * * *\"\n      backupMethod: vtbackup", 1)), "apply", "-f", "-")
	if err == nil || !strings.Contains(out, "spec.backup.schedules[0].backupMethod") || !strings.Contains(out, "does not run vtbackup Jobs yet") {
		t.Errorf("vtbackup: %v\n%s", err, out)
	}
	kubectl(t, "delete", "vitesscluster", "example", "-n", namespace)
}
