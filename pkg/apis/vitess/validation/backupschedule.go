package validation

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

var (
	backupMethods       = []vitess.VitessBackupMethod{vitess.VitessBackupMethodVtctldclient}
	backupScopes        = []vitess.VitessBackupScope{vitess.VitessBackupScopeShard, vitess.VitessBackupScopeKeyspace, vitess.VitessBackupScopeCluster}
	concurrencyPolicies = []vitess.VitessBackupConcurrencyPolicy{vitess.VitessBackupConcurrencyAllow, vitess.VitessBackupConcurrencyForbid}
	// reservedBackupShardFlags are the flags of vtctldclient that the Job sets itself.
	reservedBackupShardFlags = []string{"server", "action_timeout", "action-timeout"}
)

// validateBackupSchedules checks the cluster's backup schedules against its keyspaces and their
// shards.
func validateBackupSchedules(schedules []vitess.VitessBackupScheduleTemplate, keyspaces []vitess.VitessKeyspaceTemplate, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	shards := map[string][]string{}
	for _, keyspace := range keyspaces {
		for _, shard := range keyspace.Shards() {
			shards[keyspace.Name] = append(shards[keyspace.Name], shard.Name)
		}
	}
	names := sets.New[string]()
	for i := range schedules {
		schedule := &schedules[i]
		p := path.Index(i)
		errs = append(errs, validateBackupSchedule(schedule, shards, p)...)
		if names.Has(schedule.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), schedule.Name))
		}
		names.Insert(schedule.Name)
	}
	return errs
}

func validateBackupSchedule(schedule *vitess.VitessBackupScheduleTemplate, shards map[string][]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if schedule.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	} else {
		for _, msg := range utilvalidation.IsDNS1123Label(strings.ToLower(schedule.Name)) {
			errs = append(errs, field.Invalid(path.Child("name"), schedule.Name, msg))
		}
	}
	switch {
	case schedule.Schedule == "" && schedule.Frequency == "":
		errs = append(errs, field.Required(path.Child("schedule"), "set schedule (cron) or frequency"))
	case schedule.Schedule != "" && schedule.Frequency != "":
		errs = append(errs, field.Forbidden(path.Child("frequency"), "set schedule or frequency, not both"))
	case schedule.Schedule != "":
		errs = append(errs, validateCronSchedule(schedule.Schedule, path.Child("schedule"))...)
	default:
		if _, ok := vitess.BackupFrequencies[schedule.Frequency]; !ok {
			errs = append(errs, field.NotSupported(path.Child("frequency"), schedule.Frequency, slices.Sorted(maps.Keys(vitess.BackupFrequencies))))
		}
	}
	switch method := schedule.BackupMethod; {
	case method == vitess.VitessBackupMethodVtbackup:
		errs = append(errs, field.Invalid(path.Child("backupMethod"), string(method),
			"this server does not run vtbackup Jobs yet; use vtctldclient (the default here), which backs the shard up from one of its serving non-primary tablets"))
	case method != "" && !slices.Contains(backupMethods, method):
		errs = append(errs, field.NotSupported(path.Child("backupMethod"), string(method), backupMethods))
	}
	if policy := schedule.ConcurrencyPolicy; policy != "" && !slices.Contains(concurrencyPolicies, policy) {
		errs = append(errs, field.NotSupported(path.Child("concurrencyPolicy"), string(policy), concurrencyPolicies))
	}
	for _, limit := range []struct {
		name  string
		value *int32
	}{{"successfulJobsHistoryLimit", schedule.SuccessfulJobsHistoryLimit}, {"failedJobsHistoryLimit", schedule.FailedJobsHistoryLimit}} {
		if limit.value != nil {
			errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*limit.value), path.Child(limit.name))...)
		}
	}
	if deadline := schedule.StartingDeadlineSeconds; deadline != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(*deadline, path.Child("startingDeadlineSeconds"))...)
	}
	if missed := schedule.AllowedMissedRun; missed != nil && *missed != vitess.DefaultAllowedMissedRun {
		errs = append(errs, field.Invalid(path.Child("allowedMissedRun"), *missed,
			fmt.Sprintf("only %d can be honoured: Kubernetes' CronJob controller, which runs the schedule, gives up on missed runs after that many", vitess.DefaultAllowedMissedRun)))
	}
	errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(schedule.JobTimeoutMinute), path.Child("jobTimeoutMinute"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(schedule.Annotations, path.Child("annotations"))...)
	strategiesPath := path.Child("strategies")
	if len(schedule.Strategies) == 0 {
		errs = append(errs, field.Required(strategiesPath, "name at least one strategy: what the schedule backs up"))
	}
	names := sets.New[string]()
	for i := range schedule.Strategies {
		strategy := &schedule.Strategies[i]
		p := strategiesPath.Index(i)
		errs = append(errs, validateBackupStrategy(strategy, shards, p)...)
		if names.Has(strategy.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), strategy.Name))
		}
		names.Insert(strategy.Name)
	}
	return errs
}

// validateCronSchedule accepts what Kubernetes' CronJob accepts: a standard cron line or a
// descriptor such as @hourly, without a time zone (the CronJob's own field, not set here).
func validateCronSchedule(schedule string, path *field.Path) field.ErrorList {
	if strings.Contains(schedule, "TZ") {
		return field.ErrorList{field.Invalid(path, schedule, "a time zone in the schedule is not supported; schedules run in the kube-controller-manager's time zone")}
	}
	if _, err := cron.ParseStandard(schedule); err != nil {
		return field.ErrorList{field.Invalid(path, schedule, err.Error())}
	}
	return nil
}

func validateBackupStrategy(strategy *vitess.VitessBackupScheduleStrategy, shards map[string][]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if strategy.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	scope := strategy.Scope
	if scope == "" {
		scope = vitess.VitessBackupScopeShard
	}
	if !slices.Contains(backupScopes, scope) {
		return append(errs, field.NotSupported(path.Child("scope"), string(scope), backupScopes))
	}
	keyspacePath, shardPath := path.Child("keyspace"), path.Child("shard")
	switch {
	case scope == vitess.VitessBackupScopeCluster && strategy.Keyspace != "":
		errs = append(errs, field.Forbidden(keyspacePath, "a Cluster-scope strategy backs up every keyspace"))
	case scope != vitess.VitessBackupScopeCluster && strategy.Keyspace == "":
		errs = append(errs, field.Required(keyspacePath, fmt.Sprintf("a %s-scope strategy names a keyspace of the cluster", scope)))
	case scope != vitess.VitessBackupScopeCluster && shards[strategy.Keyspace] == nil:
		errs = append(errs, field.NotFound(keyspacePath, strategy.Keyspace))
	}
	switch {
	case scope != vitess.VitessBackupScopeShard && strategy.Shard != "":
		errs = append(errs, field.Forbidden(shardPath, fmt.Sprintf("a %s-scope strategy backs up every shard of its scope", scope)))
	case scope == vitess.VitessBackupScopeShard && strategy.Shard == "":
		errs = append(errs, field.Required(shardPath, "a Shard-scope strategy names a shard of its keyspace, e.g. \"-\" or \"-80\""))
	case scope == vitess.VitessBackupScopeShard && shards[strategy.Keyspace] != nil && !slices.Contains(shards[strategy.Keyspace], strategy.Shard):
		err := field.NotFound(shardPath, strategy.Shard)
		err.Detail = fmt.Sprintf("keyspace %s has the shards %s", strategy.Keyspace, strings.Join(shards[strategy.Keyspace], ", "))
		errs = append(errs, err)
	}
	errs = append(errs, validateExtraFlags(strategy.ExtraFlags, path.Child("extraFlags"))...)
	for _, flag := range reservedBackupShardFlags {
		if _, ok := strategy.ExtraFlags[flag]; ok {
			errs = append(errs, field.Forbidden(path.Child("extraFlags").Key(flag), "the backup Job sets it"))
		}
	}
	return errs
}
