package validation

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// everyMinute is the first schedule of the vitess-operator's 101_initial_cluster_backup_schedule
// example: one shard, a cron line, history limits and a Job timeout.
func everyMinute() vitess.VitessBackupScheduleTemplate {
	return vitess.VitessBackupScheduleTemplate{
		Name:                       "every-minute",
		Schedule:                   "* * * * *",
		SuccessfulJobsHistoryLimit: ptr.To[int32](2),
		FailedJobsHistoryLimit:     ptr.To[int32](3),
		JobTimeoutMinute:           5,
		Strategies:                 []vitess.VitessBackupScheduleStrategy{{Name: "commerce-x", Keyspace: "commerce", Shard: "-"}},
	}
}

func TestValidateBackupSchedules(t *testing.T) {
	const schedule0 = "spec.backup.schedules[0]"
	const strategy0 = schedule0 + ".strategies[0]"
	withSchedule := func(mutate func(s *vitess.VitessBackupScheduleTemplate)) func(c *vitess.VitessCluster) {
		return func(c *vitess.VitessCluster) {
			s := everyMinute()
			mutate(&s)
			c.Spec.Backup.Schedules = append(c.Spec.Backup.Schedules, s)
		}
	}
	tests := []struct {
		name   string
		mutate func(c *vitess.VitessCluster)
		want   []want
	}{
		{"the operator's shard schedule", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {}), nil},
		{"a frequency and a Cluster-scope strategy", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {
			s.Schedule, s.Frequency = "", "1m"
			s.Strategies = []vitess.VitessBackupScheduleStrategy{{Name: "all", Scope: vitess.VitessBackupScopeCluster}}
		}), nil},
		{"a Keyspace-scope strategy with BackupShard flags", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {
			s.BackupMethod, s.ConcurrencyPolicy = vitess.VitessBackupMethodVtctldclient, vitess.VitessBackupConcurrencyAllow
			s.AllowedMissedRun, s.Suspend, s.StartingDeadlineSeconds = ptr.To[int32](100), ptr.To(true), ptr.To[int64](30)
			s.Strategies = []vitess.VitessBackupScheduleStrategy{{Name: "customer-all", Scope: vitess.VitessBackupScopeKeyspace, Keyspace: "customer",
				ExtraFlags: map[string]string{"allow-primary": "true"}}}
			s.Tolerations = []corev1.Toleration{{Key: "backups", Operator: corev1.TolerationOpExists}}
		}), nil},
		{"a descriptor", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Schedule = "@hourly" }), nil},

		{"neither schedule nor frequency", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Schedule = "" }),
			[]want{e(required, schedule0+".schedule")}},
		{"both schedule and frequency", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Frequency = "5m" }),
			[]want{e(forbidden, schedule0+".frequency")}},
		{"a cron line with six fields", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Schedule = "0 * * * * *" }),
			[]want{e(invalid, schedule0+".schedule")}},
		{"a time zone in the cron line", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Schedule = "CRON_TZ=UTC 0 * * * *" }),
			[]want{e(invalid, schedule0+".schedule")}},
		{"a frequency cron cannot repeat exactly", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Schedule, s.Frequency = "", "7m" }),
			[]want{e(notSupported, schedule0+".frequency")}},
		{"vtbackup", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.BackupMethod = vitess.VitessBackupMethodVtbackup }),
			[]want{e(invalid, schedule0+".backupMethod")}},
		{"an unknown method", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.BackupMethod = "mysqldump" }),
			[]want{e(notSupported, schedule0+".backupMethod")}},
		{"Replace", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.ConcurrencyPolicy = "Replace" }),
			[]want{e(notSupported, schedule0+".concurrencyPolicy")}},
		{"allowedMissedRun other than 100", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.AllowedMissedRun = ptr.To[int32](5) }),
			[]want{e(invalid, schedule0+".allowedMissedRun")}},
		{"negative limits and timeout", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {
			s.SuccessfulJobsHistoryLimit, s.FailedJobsHistoryLimit, s.StartingDeadlineSeconds = ptr.To[int32](-1), ptr.To[int32](-1), ptr.To[int64](-1)
			s.JobTimeoutMinute = -1
		}), []want{e(invalid, schedule0+".successfulJobsHistoryLimit"), e(invalid, schedule0+".failedJobsHistoryLimit"),
			e(invalid, schedule0+".startingDeadlineSeconds"), e(invalid, schedule0+".jobTimeoutMinute")}},
		{"a name that is not a label", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Name = "every_minute" }),
			[]want{e(invalid, schedule0+".name")}},
		{"two schedules of one name", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Schedules = []vitess.VitessBackupScheduleTemplate{everyMinute(), everyMinute()}
		}, []want{e(duplicate, "spec.backup.schedules[1].name")}},
		{"no strategy", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies = nil }),
			[]want{e(required, schedule0+".strategies")}},
		{"two strategies of one name", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies = append(s.Strategies, s.Strategies[0]) }),
			[]want{e(duplicate, schedule0+".strategies[1].name")}},
		{"a keyspace the cluster does not have", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies[0].Keyspace = "orders" }),
			[]want{e(notFound, strategy0+".keyspace")}},
		{"a shard the keyspace does not have", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies[0].Keyspace = "customer" }),
			[]want{e(notFound, strategy0+".shard")}},
		{"a Shard scope without a shard", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies[0].Shard = "" }),
			[]want{e(required, strategy0+".shard")}},
		{"a Keyspace scope with a shard", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies[0].Scope = vitess.VitessBackupScopeKeyspace }),
			[]want{e(forbidden, strategy0+".shard")}},
		{"a Cluster scope with a keyspace", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {
			s.Strategies[0].Scope, s.Strategies[0].Shard = vitess.VitessBackupScopeCluster, ""
		}), []want{e(forbidden, strategy0+".keyspace")}},
		{"an unknown scope", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) { s.Strategies[0].Scope = "Cell" }),
			[]want{e(notSupported, strategy0+".scope")}},
		{"the server flag", withSchedule(func(s *vitess.VitessBackupScheduleTemplate) {
			s.Strategies[0].ExtraFlags = map[string]string{"server": "elsewhere:15999"}
		}), []want{e(forbidden, strategy0+".extraFlags[server]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validCluster()
			tt.mutate(c)
			checkErrors(t, ValidateVitessCluster(c), tt.want...)
		})
	}
}

// A refused vtbackup says why and what to use instead.
func TestVtbackupRefusalSaysWhy(t *testing.T) {
	c := validCluster()
	s := everyMinute()
	s.BackupMethod = vitess.VitessBackupMethodVtbackup
	c.Spec.Backup.Schedules = []vitess.VitessBackupScheduleTemplate{s}
	errs := ValidateVitessCluster(c)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "does not run vtbackup Jobs yet") || !strings.Contains(errs[0].Error(), "vtctldclient") {
		t.Errorf("errors %v", errs)
	}
}
