// Package validation checks the specs and metadata of the vitess.planetscale.com kinds before they
// are stored. Status is validated by the status strategies, not here.
//
// The functions take internal (hub) objects after defaulting. Field paths use the JSON names of the
// served versions; embedded structs that are inlined in JSON (the keyspace template in a
// VitessKeyspace's spec, the shard template in a custom shard, ...) add no path element.
package validation

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Limits and enumerations.
const (
	// MaxTabletPoolReplicas is the most tablets one pool may have.
	MaxTabletPoolReplicas = 64
	// MaxPartitionings is the most partitionings a keyspace may have: the serving one and, during
	// a reshard, the one it becomes.
	MaxPartitionings = 2
	// maxMySQLIdentifierLength is MySQL's limit on database and table names, in characters.
	maxMySQLIdentifierLength = 64
)

var (
	durabilityPolicies  = []string{"none", "semi_sync", "cross_cell"}
	turndownPolicies    = []vitess.VitessKeyspaceTurndownPolicy{vitess.TurndownPolicyRequireIdle, vitess.TurndownPolicyImmediate}
	updateStrategies    = []vitess.VitessClusterUpdateStrategyType{vitess.UpdateStrategyImmediate, vitess.UpdateStrategyExternal}
	backupEngines       = []vitess.VitessBackupEngine{vitess.VitessBackupEngineBuiltin, vitess.VitessBackupEngineXtraBackup}
	tabletPoolTypes     = []vitess.VitessTabletPoolType{vitess.TabletPoolTypeReplica, vitess.TabletPoolTypeRdonly}
	pullPolicies        = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
	workflowTypes       = []vitess.VitessWorkflowType{vitess.WorkflowTypeMoveTables, vitess.WorkflowTypeReshard}
	workflowTabletTypes = []string{"primary", "replica", "rdonly"}
	onDDLActions        = []string{"IGNORE", "STOP", "EXEC", "EXEC_IGNORE"}

	// reservedKeyspaceNames are schema names vtgate resolves itself (MySQL's system schemas); a
	// keyspace by one of these names could not be addressed. Names with underscores
	// (information_schema, performance_schema, _vt) are already excluded by the DNS label rule.
	reservedKeyspaceNames = sets.New("mysql", "sys")
	// reservedDatabaseNames are MySQL's system schemas and Vitess' sidecar database.
	reservedDatabaseNames = sets.New("mysql", "sys", "information_schema", "performance_schema", "_vt")
)

// clusterContext is what the cluster declares that nested fields refer to. A nil set means the
// references cannot be checked (a VitessKeyspace or VitessShard on its own does not know them).
type clusterContext struct {
	cells           sets.Set[string]
	backupLocations sets.Set[string]
}

// ---------------------------------------------------------------------------------------------
// VitessCluster

// ValidateVitessCluster validates a VitessCluster on create.
func ValidateVitessCluster(obj *vitess.VitessCluster) field.ErrorList {
	// Child object names (cells, keyspaces, shards, tablets) embed the cluster's name, so it has to
	// be a DNS label rather than a subdomain.
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSLabel, field.NewPath("metadata"))
	return append(errs, validateVitessClusterSpec(&obj.Spec, field.NewPath("spec"))...)
}

// validateExtraLabels validates labels a user adds to what the server makes: valid labels, none
// in the server's reserved domain.
func validateExtraLabels(labels map[string]string, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(labels, path)
	for _, key := range sets.List(sets.KeySet(labels)) {
		if vitess.IsReservedLabelKey(key) {
			errs = append(errs, field.Forbidden(path.Key(key), fmt.Sprintf("labels in %s are the server's own: it finds what it made by them", vitess.ReservedLabelDomain)))
		}
	}
	return errs
}

// ForbidVtctldAddressAnnotation refuses vitess.AnnotationVtctldAddress, for a server that does not
// honour it (every server but a test bed's).
func ForbidVtctldAddressAnnotation(meta *metav1.ObjectMeta) field.ErrorList {
	if _, ok := meta.Annotations[vitess.AnnotationVtctldAddress]; !ok {
		return nil
	}
	return field.ErrorList{field.Forbidden(field.NewPath("metadata", "annotations").Key(vitess.AnnotationVtctldAddress),
		"the server talks only to the vtctld it runs for this cluster; the annotation is honoured only by a server started with --allow-vtctld-address-annotation, for a test bed")}
}

// ValidateVitessClusterUpdate validates an update of a VitessCluster: the new object as on create,
// and the changes to partitionings (see validateKeyspaceTemplateUpdate).
func ValidateVitessClusterUpdate(obj, old *vitess.VitessCluster) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	errs = append(errs, validateVitessClusterSpec(&obj.Spec, spec)...)
	errs = append(errs, validateLockserverUpdate(&obj.Spec.GlobalLockserver, &old.Spec.GlobalLockserver, spec.Child("globalLockserver"))...)
	for i := range obj.Spec.Cells {
		cell := &obj.Spec.Cells[i]
		if j := slices.IndexFunc(old.Spec.Cells, func(c vitess.VitessCellTemplate) bool { return c.Name == cell.Name }); j >= 0 {
			errs = append(errs, validateLockserverUpdate(&cell.Lockserver, &old.Spec.Cells[j].Lockserver, spec.Child("cells").Index(i).Child("lockserver"))...)
		}
	}

	oldKeyspaces := map[string]*vitess.VitessKeyspaceTemplate{}
	for i := range old.Spec.Keyspaces {
		oldKeyspaces[old.Spec.Keyspaces[i].Name] = &old.Spec.Keyspaces[i]
	}
	seen := sets.New[string]()
	for i := range obj.Spec.Keyspaces {
		ks := &obj.Spec.Keyspaces[i]
		// A keyspace template is matched by name: renaming one removes a keyspace and adds another.
		if oldKs, ok := oldKeyspaces[ks.Name]; ok && !seen.Has(ks.Name) {
			seen.Insert(ks.Name)
			errs = append(errs, validateKeyspaceTemplateUpdate(ks, oldKs, spec.Child("keyspaces").Index(i))...)
		}
	}
	return errs
}

func validateVitessClusterSpec(spec *vitess.VitessClusterSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateImages(&spec.Images, path.Child("images"))...)
	errs = append(errs, validateImagePullPolicies(&spec.ImagePullPolicies, path.Child("imagePullPolicies"))...)
	errs = append(errs, validateLocalObjectReferences(spec.ImagePullSecrets, path.Child("imagePullSecrets"))...)

	ctx := clusterContext{cells: sets.New[string](), backupLocations: sets.New[string]()}
	if spec.Backup != nil {
		var locErrs field.ErrorList
		ctx.backupLocations, locErrs = validateBackup(spec.Backup, path.Child("backup"))
		errs = append(errs, locErrs...)
	}

	errs = append(errs, validateLockserverSpec(&spec.GlobalLockserver, path.Child("globalLockserver"))...)

	cellsPath := path.Child("cells")
	if len(spec.Cells) == 0 {
		errs = append(errs, field.Required(cellsPath, "declare at least one cell: keyspaces deploy their tablets to cells"))
	}
	for i := range spec.Cells {
		cell := &spec.Cells[i]
		cellPath := cellsPath.Index(i)
		errs = append(errs, validateCellTemplate(cell, cellPath)...)
		if cell.Name != "" {
			if ctx.cells.Has(cell.Name) {
				errs = append(errs, field.Duplicate(cellPath.Child("name"), cell.Name))
			}
			ctx.cells.Insert(cell.Name)
		}
	}

	if d := spec.VitessDashboard; d != nil {
		dPath := path.Child("vitessDashboard")
		errs = append(errs, validateComponentSpec(&d.ComponentSpec, dPath)...)
		errs = append(errs, validateCellReferences(d.Cells, ctx.cells, dPath.Child("cells"))...)
		if d.Replicas != nil {
			errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*d.Replicas), dPath.Child("replicas"))...)
		}
	}

	keyspaces := sets.New[string]()
	for i := range spec.Keyspaces {
		ks := &spec.Keyspaces[i]
		ksPath := path.Child("keyspaces").Index(i)
		errs = append(errs, validateKeyspaceTemplate(ks, ctx, ksPath)...)
		if ks.Name != "" {
			if keyspaces.Has(ks.Name) {
				errs = append(errs, field.Duplicate(ksPath.Child("name"), ks.Name))
			}
			keyspaces.Insert(ks.Name)
		}
	}

	if spec.Backup != nil {
		errs = append(errs, validateBackupSchedules(spec.Backup.Schedules, spec.Keyspaces, path.Child("backup", "schedules"))...)
	}
	errs = append(errs, validateSnapshotKeyspaces(spec, path.Child("keyspaces"))...)
	errs = append(errs, validateClusterSize(spec.Keyspaces, path.Child("keyspaces"))...)
	errs = append(errs, validateExtraFlags(spec.ExtraVitessFlags, path.Child("extraVitessFlags"))...)

	if us := spec.UpdateStrategy; us != nil && us.Type != nil && !slices.Contains(updateStrategies, *us.Type) {
		errs = append(errs, field.NotSupported(path.Child("updateStrategy", "type"), string(*us.Type), updateStrategies))
	}
	return errs
}

// validateClusterSize bounds what one VitessCluster may cost: every shard is an object and every
// tablet a Pod with a database, and one tenant's cluster must not exhaust the Kubernetes cluster.
func validateClusterSize(keyspaces []vitess.VitessKeyspaceTemplate, path *field.Path) field.ErrorList {
	var shards, tablets int64
	addShards := func(count int64, template *vitess.VitessShardTemplate) {
		shards += count
		for _, pool := range template.TabletPools {
			tablets += count * int64(max(pool.Replicas, 0))
		}
	}
	for i := range keyspaces {
		for j := range keyspaces[i].Partitionings {
			partitioning := &keyspaces[i].Partitionings[j]
			// Parts out of range are refused on their own.
			if equal := partitioning.Equal; equal != nil && equal.Parts <= vitess.MaxEqualParts {
				addShards(int64(max(equal.Parts, 0)), &equal.ShardTemplate)
			}
			if custom := partitioning.Custom; custom != nil {
				for k := range custom.Shards {
					addShards(1, &custom.Shards[k].VitessShardTemplate)
				}
			}
		}
	}
	var errs field.ErrorList
	if shards > vitess.MaxShardsPerCluster {
		errs = append(errs, field.Invalid(path, fmt.Sprintf("%d shards", shards),
			fmt.Sprintf("the keyspaces' partitionings declare %d shards; one VitessCluster may have at most %d: split the deployment into several clusters", shards, vitess.MaxShardsPerCluster)))
	}
	if tablets > vitess.MaxTabletsPerCluster {
		errs = append(errs, field.Invalid(path, fmt.Sprintf("%d tablets", tablets),
			fmt.Sprintf("the keyspaces' tablet pools declare %d tablets; one VitessCluster may have at most %d: split the deployment into several clusters", tablets, vitess.MaxTabletsPerCluster)))
	}
	return errs
}

func validateImages(images *vitess.VitessImages, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if m := images.Mysqld; m != nil {
		flavors := []struct{ name, image string }{
			{"mysql56Compatible", m.Mysql56Compatible},
			{"mysql80Compatible", m.Mysql80Compatible},
			{"mysql84Compatible", m.Mysql84Compatible},
			{"mariadbCompatible", m.MariadbCompatible},
			{"mariadb103Compatible", m.Mariadb103Compatible},
		}
		first := ""
		for _, f := range flavors {
			if f.image == "" {
				continue
			}
			if first == "" {
				first = f.name
				continue
			}
			errs = append(errs, field.Forbidden(path.Child("mysqld", f.name),
				fmt.Sprintf("may not be set together with %s: set only the one MySQL flavor the mysqld image speaks", first)))
		}
	}
	return errs
}

func validateImagePullPolicies(p *vitess.VitessImagePullPolicies, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, f := range []struct {
		name   string
		policy corev1.PullPolicy
	}{
		{"vtctld", p.Vtctld}, {"vtgate", p.Vtgate}, {"vttablet", p.Vttablet}, {"vtorc", p.Vtorc},
		{"vtbackup", p.Vtbackup}, {"mysqld", p.Mysqld}, {"mysqldExporter", p.MysqldExporter},
	} {
		errs = append(errs, validatePullPolicy(f.policy, path.Child(f.name))...)
	}
	return errs
}

func validatePullPolicy(policy corev1.PullPolicy, path *field.Path) field.ErrorList {
	if policy != "" && !slices.Contains(pullPolicies, policy) {
		return field.ErrorList{field.NotSupported(path, string(policy), pullPolicies)}
	}
	return nil
}

func validateLocalObjectReferences(refs []corev1.LocalObjectReference, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ref := range refs {
		if ref.Name == "" {
			errs = append(errs, field.Required(path.Index(i).Child("name"), "name the Secret holding the registry credentials"))
		}
	}
	return errs
}

// validateBackup checks the backup settings and returns the names of the backup locations.
func validateBackup(b *vitess.ClusterBackupSpec, path *field.Path) (sets.Set[string], field.ErrorList) {
	errs := validateBackupEngine(b.Engine, path.Child("engine"))
	locsPath := path.Child("locations")
	if len(b.Locations) == 0 {
		errs = append(errs, field.Required(locsPath, "at least one backup location is required when backup is set"))
	}
	names, locErrs := validateBackupLocations(b.Locations, locsPath)
	errs = append(errs, locErrs...)
	return names, append(errs, validateBackupRetention(b.Retention, path.Child("retention"))...)
}

// validateBackupRetention checks a retention, if any. A retention without a time would prune
// nothing (a backup younger than minRetentionTime is never pruned), so the time is required.
func validateBackupRetention(retention *vitess.VitessBackupRetention, path *field.Path) field.ErrorList {
	if retention == nil {
		return nil
	}
	var errs field.ErrorList
	timePath := path.Child("minRetentionTime")
	switch {
	case retention.MinRetentionTime == nil:
		errs = append(errs, field.Required(timePath, "a backup younger than this is never pruned: without it, retention prunes nothing"))
	case retention.MinRetentionTime.Duration <= 0:
		errs = append(errs, field.Invalid(timePath, retention.MinRetentionTime.Duration.String(), "must be greater than 0"))
	}
	if retention.MinRetentionCount < 1 {
		errs = append(errs, field.Invalid(path.Child("minRetentionCount"), retention.MinRetentionCount,
			"must be at least 1: the newest complete backup is always kept"))
	}
	return errs
}

func validateBackupEngine(engine vitess.VitessBackupEngine, path *field.Path) field.ErrorList {
	if engine != "" && !slices.Contains(backupEngines, engine) {
		return field.ErrorList{field.NotSupported(path, string(engine), backupEngines)}
	}
	return nil
}

// validateBackupLocations checks each location and returns their names.
func validateBackupLocations(locations []vitess.VitessBackupLocation, locsPath *field.Path) (sets.Set[string], field.ErrorList) {
	var errs field.ErrorList
	names := sets.New[string]()
	const oneOf = "set exactly one of gcs, s3, azblob, ceph or volume"
	for i := range locations {
		loc := &locations[i]
		locPath := locsPath.Index(i)
		if loc.Name != "" {
			for _, msg := range content.IsDNS1123Label(loc.Name) {
				errs = append(errs, field.Invalid(locPath.Child("name"), loc.Name, msg))
			}
		}
		if names.Has(loc.Name) {
			errs = append(errs, field.Duplicate(locPath.Child("name"), loc.Name))
		}
		names.Insert(loc.Name)

		var set []string
		if loc.GCS != nil {
			set = append(set, "gcs")
			gcsPath := locPath.Child("gcs")
			if loc.GCS.Bucket == "" {
				errs = append(errs, field.Required(gcsPath.Child("bucket"), "name the Google Cloud Storage bucket"))
			}
			errs = append(errs, validateKeyPrefix(loc.GCS.KeyPrefix, gcsPath.Child("keyPrefix"))...)
			if loc.GCS.AuthSecret != nil {
				errs = append(errs, validateSecretSource(loc.GCS.AuthSecret, gcsPath.Child("authSecret"))...)
			}
		}
		if loc.S3 != nil {
			set = append(set, "s3")
			s3Path := locPath.Child("s3")
			if loc.S3.Bucket == "" {
				errs = append(errs, field.Required(s3Path.Child("bucket"), "name the S3 bucket"))
			}
			if loc.S3.Region == "" {
				errs = append(errs, field.Required(s3Path.Child("region"), "name the bucket's region"))
			}
			errs = append(errs, validateKeyPrefix(loc.S3.KeyPrefix, s3Path.Child("keyPrefix"))...)
			if loc.S3.MinPartSize < 0 {
				errs = append(errs, field.Invalid(s3Path.Child("minPartSize"), loc.S3.MinPartSize, "must be a size in bytes, or 0 for Vitess' default"))
			}
			if loc.S3.AuthSecret != nil {
				errs = append(errs, validateSecretSource(loc.S3.AuthSecret, s3Path.Child("authSecret"))...)
			}
		}
		if loc.Azblob != nil {
			set = append(set, "azblob")
			azPath := locPath.Child("azblob")
			if loc.Azblob.Account == "" {
				errs = append(errs, field.Required(azPath.Child("account"), "name the storage account"))
			}
			if loc.Azblob.Container == "" {
				errs = append(errs, field.Required(azPath.Child("container"), "name the blob container"))
			}
			errs = append(errs, validateKeyPrefix(loc.Azblob.KeyPrefix, azPath.Child("keyPrefix"))...)
			errs = append(errs, validateSecretSource(&loc.Azblob.AuthSecret, azPath.Child("authSecret"))...)
		}
		if loc.Ceph != nil {
			set = append(set, "ceph")
			errs = append(errs, validateSecretSource(&loc.Ceph.AuthSecret, locPath.Child("ceph", "authSecret"))...)
		}
		if loc.Volume != nil {
			set = append(set, "volume")
		}
		if loc.VolumeSubPath != "" {
			subPath := locPath.Child("volumeSubPath")
			if loc.Volume == nil {
				errs = append(errs, field.Forbidden(subPath, "applies only to a volume location"))
			} else if strings.HasPrefix(loc.VolumeSubPath, "/") || slices.Contains(strings.Split(loc.VolumeSubPath, "/"), "..") {
				errs = append(errs, field.Invalid(subPath, loc.VolumeSubPath, "must be a relative path that does not contain '..'"))
			}
		}
		switch {
		case len(set) == 0:
			errs = append(errs, field.Required(locPath, oneOf))
		case len(set) > 1:
			for _, extra := range set[1:] {
				errs = append(errs, field.Forbidden(locPath.Child(extra),
					fmt.Sprintf("may not be set together with %s: %s", set[0], oneOf)))
			}
		}
		errs = append(errs, apimachineryvalidation.ValidateAnnotations(loc.Annotations, locPath.Child("annotations"))...)
	}
	return names, errs
}

// validateKeyPrefix checks a bucket key prefix: Vitess joins it into object keys and flags.
func validateKeyPrefix(prefix string, path *field.Path) field.ErrorList {
	switch {
	case len(prefix) > 256:
		return field.ErrorList{field.TooLong(path, prefix, 256)}
	case strings.ContainsAny(prefix, "\r\n"):
		return field.ErrorList{field.Invalid(path, prefix, "may not contain line breaks")}
	}
	return nil
}

// validateLockserverSpec checks a choice between an external lockserver and a deployed etcd.
// Neither is allowed: the global lockserver defaults to etcd, a cell's to the global one.
func validateLockserverSpec(ls *vitess.LockserverSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ls.External != nil && ls.Etcd != nil {
		errs = append(errs, field.Forbidden(path.Child("etcd"), "may not be set together with external: either connect to an existing lockserver or deploy etcd"))
	}
	if ls.External != nil {
		errs = append(errs, validateLockserverParams(ls.External, path.Child("external"))...)
	}
	if ls.Etcd != nil {
		errs = append(errs, validateEtcdLockserverTemplate(ls.Etcd, path.Child("etcd"))...)
	}
	return errs
}

// validateLockserverUpdate keeps where a topology lives as it was. Moving it is a migration (copy
// the topology, then point every component at the copy); as an edit it would delete the deployed
// etcd with the cluster's topology in it, or point the cluster at an empty one. The deployed
// etcd's own settings may change: its members are replaced one at a time.
func validateLockserverUpdate(ls, old *vitess.LockserverSpec, path *field.Path) field.ErrorList {
	if apiequality.Semantic.DeepEqual(ls.External, old.External) {
		return nil
	}
	return field.ErrorList{field.Forbidden(path.Child("external"),
		"where the topology lives cannot change in place: that would delete the deployed lockserver with the topology, or point the cluster at an empty one")}
}

func validateLockserverParams(p *vitess.VitessLockserverParams, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Implementation == "" {
		errs = append(errs, field.Required(path.Child("implementation"), `the Vitess topology plugin, e.g. "etcd2"`))
	}
	if p.Address == "" {
		errs = append(errs, field.Required(path.Child("address"), "host:port of the lockserver's client endpoint"))
	}
	if p.RootPath == "" {
		errs = append(errs, field.Required(path.Child("rootPath"), `the key prefix of this cluster's data, e.g. "/vitess/global"`))
	}
	return errs
}

func validateEtcdLockserverTemplate(t *vitess.EtcdLockserverTemplate, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validatePullPolicy(t.ImagePullPolicy, path.Child("imagePullPolicy"))...)
	errs = append(errs, validateLocalObjectReferences(t.ImagePullSecrets, path.Child("imagePullSecrets"))...)
	if t.DataVolumeClaimTemplate != nil {
		errs = append(errs, validateVolumeClaimTemplate(t.DataVolumeClaimTemplate, path.Child("dataVolumeClaimTemplate"))...)
	}
	errs = append(errs, validateExtraFlags(t.ExtraFlags, path.Child("extraFlags"))...)
	errs = append(errs, validateEnv(t.ExtraEnv, path.Child("extraEnv"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateExtraLabels(t.ExtraLabels, path.Child("extraLabels"))...)
	return errs
}

// validateVolumeClaimTemplate checks that a data volume asks for a positive size.
func validateVolumeClaimTemplate(pvc *corev1.PersistentVolumeClaimSpec, path *field.Path) field.ErrorList {
	storagePath := path.Child("resources", "requests").Key(string(corev1.ResourceStorage))
	size, ok := pvc.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return field.ErrorList{field.Required(storagePath, "the volume needs a size, e.g. 10Gi")}
	}
	if size.Sign() <= 0 {
		return field.ErrorList{field.Invalid(storagePath, size.String(), "must be greater than zero")}
	}
	return nil
}

func validateSecretSource(s *vitess.SecretSource, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), "name the Secret"))
	} else {
		for _, msg := range content.IsDNS1123Subdomain(s.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), s.Name, msg))
		}
	}
	if s.Key == "" {
		errs = append(errs, field.Required(path.Child("key"), "name the key within the Secret"))
	} else {
		for _, msg := range utilvalidation.IsConfigMapKey(s.Key) {
			errs = append(errs, field.Invalid(path.Child("key"), s.Key, msg))
		}
	}
	if s.VolumeName != "" {
		for _, msg := range content.IsDNS1123Label(s.VolumeName) {
			errs = append(errs, field.Invalid(path.Child("volumeName"), s.VolumeName, msg))
		}
	}
	return errs
}

// validateExtraFlags checks flags passed to a binary as --<name>=<value>.
func validateExtraFlags(flags map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedKeys(flags) {
		p := path.Key(name)
		switch {
		case name == "":
			errs = append(errs, field.Invalid(p, name, "flag names must not be empty"))
		case strings.HasPrefix(name, "-"):
			errs = append(errs, field.Invalid(p, name, fmt.Sprintf("write the flag name without leading dashes (%q): it is passed as --<name>=<value>", strings.TrimLeft(name, "-"))))
		case strings.ContainsAny(name, "= \t\r\n"):
			errs = append(errs, field.Invalid(p, name, "flag names must not contain '=' or whitespace: the flag is passed as --<name>=<value>"))
		}
	}
	return errs
}

func validateEnv(env []corev1.EnvVar, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, e := range env {
		namePath := path.Index(i).Child("name")
		if e.Name == "" {
			errs = append(errs, field.Required(namePath, ""))
			continue
		}
		for _, msg := range utilvalidation.IsRelaxedEnvVarName(e.Name) {
			errs = append(errs, field.Invalid(namePath, e.Name, msg))
		}
	}
	return errs
}

func validateComponentSpec(c *vitess.ComponentSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateExtraFlags(c.ExtraFlags, path.Child("extraFlags"))...)
	errs = append(errs, validateEnv(c.ExtraEnv, path.Child("extraEnv"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(c.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateExtraLabels(c.ExtraLabels, path.Child("extraLabels"))...)
	return errs
}

// validateCellReferences checks a list of cell names against the declared cells.
func validateCellReferences(cells []string, declared sets.Set[string], path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, cell := range cells {
		p := path.Index(i)
		switch {
		case cell == "":
			errs = append(errs, field.Required(p, "name a cell declared in spec.cells"))
		case seen.Has(cell):
			errs = append(errs, field.Duplicate(p, cell))
		case declared != nil && !declared.Has(cell):
			errs = append(errs, notDeclaredCell(p, cell, declared))
		}
		seen.Insert(cell)
	}
	return errs
}

func notDeclaredCell(path *field.Path, cell string, declared sets.Set[string]) *field.Error {
	err := field.NotFound(path, cell)
	if declared.Len() == 0 {
		err.Detail = "no cells are declared in spec.cells"
	} else {
		err.Detail = "must be one of the cells declared in spec.cells: " + strings.Join(sets.List(declared), ", ")
	}
	return err
}

// validateDNSLabelField checks a required field that ends up in Kubernetes names and labels.
func validateDNSLabelField(value string, path *field.Path, what string) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(path, what)}
	}
	var errs field.ErrorList
	for _, msg := range content.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(path, value, msg))
	}
	return errs
}

// ---------------------------------------------------------------------------------------------
// Cells

func validateCellTemplate(cell *vitess.VitessCellTemplate, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateDNSLabelField(cell.Name, path.Child("name"), "name the cell, e.g. zone1")...)
	if cell.Zone != "" {
		for _, msg := range content.IsLabelValue(cell.Zone) {
			errs = append(errs, field.Invalid(path.Child("zone"), cell.Zone, msg))
		}
	}
	errs = append(errs, validateLockserverSpec(&cell.Lockserver, path.Child("lockserver"))...)

	gw := &cell.Gateway
	gwPath := path.Child("gateway")
	errs = append(errs, validateComponentSpec(&gw.ComponentSpec, gwPath)...)
	if gw.Replicas != nil {
		errs = append(errs, apimachineryvalidation.ValidateNonnegativeField(int64(*gw.Replicas), gwPath.Child("replicas"))...)
	}
	if static := gw.Authentication.Static; static != nil {
		staticPath := gwPath.Child("authentication", "static")
		if static.Secret == nil {
			errs = append(errs, field.Required(staticPath.Child("secret"), "static authentication reads users from a JSON file in a Secret: name the Secret and its key"))
		} else {
			errs = append(errs, validateSecretSource(static.Secret, staticPath.Child("secret"))...)
		}
	}
	return errs
}

// ValidateVitessCell validates a VitessCell on create.
func ValidateVitessCell(obj *vitess.VitessCell) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, validateVitessCellSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateVitessCellUpdate validates an update of a VitessCell; spec.name is immutable.
func ValidateVitessCellUpdate(obj, old *vitess.VitessCell) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	errs = append(errs, validateVitessCellSpec(&obj.Spec, spec)...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.Name, old.Spec.Name, spec.Child("name"))...)
	return errs
}

func validateVitessCellSpec(spec *vitess.VitessCellSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateCellTemplate(&spec.VitessCellTemplate, path)...)
	errs = append(errs, validateImages(&spec.Images, path.Child("images"))...)
	errs = append(errs, validateExtraFlags(spec.ExtraVitessFlags, path.Child("extraVitessFlags"))...)
	return errs
}

// ---------------------------------------------------------------------------------------------
// EtcdLockserver

// ValidateEtcdLockserver validates an EtcdLockserver on create.
func ValidateEtcdLockserver(obj *vitess.EtcdLockserver) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, validateEtcdLockserverSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateEtcdLockserverUpdate validates an update of an EtcdLockserver.
func ValidateEtcdLockserverUpdate(obj, old *vitess.EtcdLockserver) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(errs, validateEtcdLockserverSpec(&obj.Spec, field.NewPath("spec"))...)
}

func validateEtcdLockserverSpec(spec *vitess.EtcdLockserverSpec, path *field.Path) field.ErrorList {
	errs := validateEtcdLockserverTemplate(&spec.EtcdLockserverTemplate, path)
	if spec.Zone != "" {
		for _, msg := range content.IsLabelValue(spec.Zone) {
			errs = append(errs, field.Invalid(path.Child("zone"), spec.Zone, msg))
		}
	}
	return errs
}

// ---------------------------------------------------------------------------------------------
// Keyspaces

func validateKeyspaceTemplate(ks *vitess.VitessKeyspaceTemplate, ctx clusterContext, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	namePath := path.Child("name")
	errs = append(errs, validateDNSLabelField(ks.Name, namePath, "name the keyspace, e.g. commerce")...)
	if reservedKeyspaceNames.Has(ks.Name) {
		errs = append(errs, field.Invalid(namePath, ks.Name, "is reserved: vtgate resolves MySQL's system schemas itself"))
	}
	if ks.DatabaseName != "" {
		dbPath := path.Child("databaseName")
		for _, msg := range mysqlIdentifierErrors(ks.DatabaseName) {
			errs = append(errs, field.Invalid(dbPath, ks.DatabaseName, msg))
		}
		if reservedDatabaseNames.Has(strings.ToLower(ks.DatabaseName)) {
			errs = append(errs, field.Invalid(dbPath, ks.DatabaseName, "is reserved for MySQL or Vitess itself"))
		}
	}
	if ks.DurabilityPolicy != "" && !slices.Contains(durabilityPolicies, ks.DurabilityPolicy) {
		errs = append(errs, field.NotSupported(path.Child("durabilityPolicy"), ks.DurabilityPolicy, durabilityPolicies))
	}
	if ks.TurndownPolicy != "" && !slices.Contains(turndownPolicies, ks.TurndownPolicy) {
		errs = append(errs, field.NotSupported(path.Child("turndownPolicy"), string(ks.TurndownPolicy), turndownPolicies))
	}
	if ks.VitessOrchestrator != nil {
		errs = append(errs, validateComponentSpec(&ks.VitessOrchestrator.ComponentSpec, path.Child("vitessOrchestrator"))...)
	}
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(ks.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateExtraLabels(ks.ExtraLabels, path.Child("extraLabels"))...)
	errs = append(errs, validatePartitionings(ks.Partitionings, ctx, path.Child("partitionings"))...)
	return errs
}

func validatePartitionings(partitionings []vitess.VitessKeyspacePartitioning, ctx clusterContext, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch n := len(partitionings); {
	case n == 0:
		errs = append(errs, field.Required(path, "at least one partitioning is required, e.g. equal: {parts: 1} for an unsharded keyspace"))
	case n > MaxPartitionings:
		errs = append(errs, field.TooMany(path, n, MaxPartitionings))
	}

	valid := make([][]vitess.VitessKeyRange, len(partitionings))
	for i := range partitionings {
		var pErrs field.ErrorList
		valid[i], pErrs = validatePartitioning(&partitionings[i], ctx, path.Index(i))
		errs = append(errs, pErrs...)
	}

	// Across partitionings: no two with the same shards, and a key range shared by two of them must
	// be spelled the same, since the shard name is the shard's identity in Vitess.
	keys := make([]string, len(partitionings))
	for i, ranges := range valid {
		if ranges != nil {
			keys[i] = partitioningKey(ranges)
		}
	}
	for j := range partitionings {
		if valid[j] == nil {
			continue
		}
		for i := 0; i < j; i++ {
			if valid[i] == nil {
				continue
			}
			if keys[i] == keys[j] {
				errs = append(errs, field.Duplicate(path.Index(j), describeRanges(valid[j])))
				continue
			}
			byValue := make(map[string]string, len(valid[i]))
			for _, a := range valid[i] {
				byValue[a.ValueKey()] = a.ShardName()
			}
			for _, b := range valid[j] {
				if name, ok := byValue[b.ValueKey()]; ok && name != b.ShardName() {
					errs = append(errs, field.Invalid(path.Index(j), b.ShardName(),
						fmt.Sprintf("shard %q has the same key range as shard %q of partitionings[%d]; write it the same way, since a shard's name is its identity in Vitess", b.ShardName(), name, i)))
				}
			}
		}
	}
	return errs
}

// validatePartitioning returns the partitioning's key ranges when they are valid, nil otherwise.
func validatePartitioning(p *vitess.VitessKeyspacePartitioning, ctx clusterContext, path *field.Path) ([]vitess.VitessKeyRange, field.ErrorList) {
	var errs field.ErrorList
	switch {
	case p.Equal == nil && p.Custom == nil:
		return nil, field.ErrorList{field.Required(path, "set exactly one of equal or custom")}
	case p.Equal != nil && p.Custom != nil:
		errs = append(errs, field.Forbidden(path.Child("custom"), "may not be set together with equal: set exactly one of equal or custom"))
	}
	if p.Equal != nil {
		return validateEqualPartitioning(p.Equal, ctx, path.Child("equal"), errs)
	}
	return validateCustomPartitioning(p.Custom, ctx, path.Child("custom"), errs)
}

func validateEqualPartitioning(eq *vitess.VitessKeyspaceEqualPartitioning, ctx clusterContext, path *field.Path, errs field.ErrorList) ([]vitess.VitessKeyRange, field.ErrorList) {
	ok := len(errs) == 0
	if eq.Parts < 1 || eq.Parts > vitess.MaxEqualParts {
		errs = append(errs, field.Invalid(path.Child("parts"), eq.Parts, fmt.Sprintf("must be between 1 and %d", vitess.MaxEqualParts)))
		ok = false
	}
	hexPath := path.Child("hexWidth")
	switch w := eq.HexWidth; {
	case w == 0:
	case w < 2 || w > 16 || w%2 != 0:
		errs = append(errs, field.Invalid(hexPath, w, "must be 0, or an even number of hex digits from 2 to 16"))
		ok = false
	case ok && w < 4 && int64(eq.Parts) > 1<<(4*w):
		errs = append(errs, field.Invalid(hexPath, w,
			fmt.Sprintf("%d hex digits can number only %d parts, not %d: use at least 4, or 0", w, 1<<(4*w), eq.Parts)))
		ok = false
	}
	errs = append(errs, validateShardTemplate(&eq.ShardTemplate, ctx, path.Child("shardTemplate"))...)
	if !ok {
		return nil, errs
	}
	return vitess.EqualKeyRanges(eq.Parts), errs
}

func validateCustomPartitioning(c *vitess.VitessKeyspaceCustomPartitioning, ctx clusterContext, path *field.Path, errs field.ErrorList) ([]vitess.VitessKeyRange, field.ErrorList) {
	ok := len(errs) == 0
	shardsPath := path.Child("shards")
	if len(c.Shards) == 0 {
		return nil, append(errs, field.Required(shardsPath, `list the shards' key ranges, in order, covering the whole keyspace, e.g. {keyRange: {end: "80"}} and {keyRange: {start: "80"}}`))
	}
	ranges := make([]vitess.VitessKeyRange, len(c.Shards))
	for j := range c.Shards {
		shard := &c.Shards[j]
		shardPath := shardsPath.Index(j)
		krErrs := validateKeyRange(shard.KeyRange, shardPath.Child("keyRange"))
		if len(krErrs) > 0 {
			ok = false
		}
		errs = append(errs, krErrs...)
		ranges[j] = shard.KeyRange.Canonical()
		errs = append(errs, validateShardTemplate(&shard.VitessShardTemplate, ctx, shardPath)...)
	}
	if !ok {
		return nil, errs
	}

	// The shards, in the order listed, must tile the keyspace: the first starts at the beginning,
	// each starts where the previous one ends (by value: "80" and "8000" are the same boundary),
	// and the last reaches the end.
	covered := true
	if ranges[0].Start != "" {
		errs = append(errs, field.Invalid(shardsPath.Index(0).Child("keyRange", "start"), c.Shards[0].KeyRange.Start,
			"the first shard must start at the beginning of the keyspace: leave start empty"))
		covered = false
	}
	names := sets.New[string]()
	for j, kr := range ranges {
		startPath := shardsPath.Index(j).Child("keyRange", "start")
		if names.Has(kr.ShardName()) {
			errs = append(errs, field.Duplicate(shardsPath.Index(j).Child("keyRange"), kr.ShardName()))
			covered = false
			continue
		}
		names.Insert(kr.ShardName())
		if j == 0 {
			continue
		}
		prev := ranges[j-1]
		switch cmp := vitess.CompareKeyRangeEndToStart(prev.End, kr.Start); {
		case cmp > 0:
			errs = append(errs, field.Invalid(startPath, c.Shards[j].KeyRange.Start,
				fmt.Sprintf("shard %q overlaps the previous shard %q: list shards in key order, each starting where the previous one ends (%q)", kr.ShardName(), prev.ShardName(), prev.End)))
			covered = false
		case cmp < 0:
			errs = append(errs, field.Invalid(startPath, c.Shards[j].KeyRange.Start,
				fmt.Sprintf("shard %q leaves a gap after the previous shard %q: nothing would hold key range %q; start at %q", kr.ShardName(), prev.ShardName(),
					vitess.VitessKeyRange{Start: prev.End, End: kr.Start}.ShardName(), prev.End)))
			covered = false
		}
	}
	if last := len(ranges) - 1; ranges[last].End != "" {
		errs = append(errs, field.Invalid(shardsPath.Index(last).Child("keyRange", "end"), c.Shards[last].KeyRange.End,
			"the last shard must reach the end of the keyspace: leave end empty"))
		covered = false
	}
	if !covered {
		return nil, errs
	}
	return ranges, errs
}

// validateKeyRange checks both bounds and their order.
func validateKeyRange(kr vitess.VitessKeyRange, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if err := vitess.ValidateKeyRangeHex(kr.Start); err != nil {
		errs = append(errs, field.Invalid(path.Child("start"), kr.Start, err.Error()))
	}
	if err := vitess.ValidateKeyRangeHex(kr.End); err != nil {
		errs = append(errs, field.Invalid(path.Child("end"), kr.End, err.Error()))
	}
	if len(errs) == 0 && vitess.CompareKeyRangeEndToStart(kr.End, kr.Start) <= 0 {
		errs = append(errs, field.Invalid(path, kr.ShardName(),
			fmt.Sprintf("start (%q) must be less than end (%q); leave start empty for the beginning of the keyspace and end empty for its end", kr.Start, kr.End)))
	}
	return errs
}

func validateShardTemplate(t *vitess.VitessShardTemplate, ctx clusterContext, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateSecretSource(&t.DatabaseInitScriptSecret, path.Child("databaseInitScriptSecret"))...)
	type poolKey struct {
		cell string
		typ  vitess.VitessTabletPoolType
		name string
	}
	pools := sets.New[poolKey]()
	for k := range t.TabletPools {
		pool := &t.TabletPools[k]
		poolPath := path.Child("tabletPools").Index(k)
		errs = append(errs, validateTabletPool(pool, ctx, poolPath)...)
		key := poolKey{pool.Cell, pool.Type, pool.Name}
		if pools.Has(key) {
			errs = append(errs, field.Duplicate(poolPath, fmt.Sprintf("cell %q, type %q, name %q", pool.Cell, pool.Type, pool.Name)))
		}
		pools.Insert(key)
	}
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(t.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateExtraLabels(t.ExtraLabels, path.Child("extraLabels"))...)
	return errs
}

func validateTabletPool(pool *vitess.VitessShardTabletPool, ctx clusterContext, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	cellPath := path.Child("cell")
	switch {
	case pool.Cell == "":
		errs = append(errs, field.Required(cellPath, "name the cell the tablets run in"))
	case ctx.cells != nil && !ctx.cells.Has(pool.Cell):
		errs = append(errs, notDeclaredCell(cellPath, pool.Cell, ctx.cells))
	}
	switch {
	case pool.Type == "":
		errs = append(errs, field.Required(path.Child("type"), "replica or rdonly"))
	case !slices.Contains(tabletPoolTypes, pool.Type):
		errs = append(errs, field.NotSupported(path.Child("type"), string(pool.Type), tabletPoolTypes))
	}
	if pool.Name != "" {
		for _, msg := range content.IsDNS1123Label(pool.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), pool.Name, msg))
		}
	}
	if pool.Replicas < 0 || pool.Replicas > MaxTabletPoolReplicas {
		errs = append(errs, field.Invalid(path.Child("replicas"), pool.Replicas, fmt.Sprintf("must be between 0 and %d", MaxTabletPoolReplicas)))
	}
	if pool.Vttablet != nil {
		errs = append(errs, validateExtraFlags(pool.Vttablet.ExtraFlags, path.Child("vttablet", "extraFlags"))...)
		errs = append(errs, validateEnv(pool.Vttablet.ExtraEnv, path.Child("vttablet", "extraEnv"))...)
	}
	if pool.MysqldExporter != nil {
		errs = append(errs, validateExtraFlags(pool.MysqldExporter.ExtraFlags, path.Child("mysqldExporter", "extraFlags"))...)
	}
	if pool.DataVolumeClaimTemplate != nil {
		errs = append(errs, validateVolumeClaimTemplate(pool.DataVolumeClaimTemplate, path.Child("dataVolumeClaimTemplate"))...)
	}
	if pool.BackupLocationName != "" && ctx.backupLocations != nil && !ctx.backupLocations.Has(pool.BackupLocationName) {
		err := field.NotFound(path.Child("backupLocationName"), pool.BackupLocationName)
		if ctx.backupLocations.Len() == 0 {
			err.Detail = "spec.backup declares no backup locations"
		} else {
			err.Detail = "must name one of the locations in spec.backup.locations"
		}
		errs = append(errs, err)
	}
	for _, c := range []struct {
		name       string
		containers []corev1.Container
	}{{"initContainers", pool.InitContainers}, {"sidecarContainers", pool.SidecarContainers}} {
		for i := range c.containers {
			errs = append(errs, validateDNSLabelField(c.containers[i].Name, path.Child(c.name).Index(i).Child("name"), "name the container")...)
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(pool.NodeSelector, path.Child("nodeSelector"))...)
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(pool.Annotations, path.Child("annotations"))...)
	errs = append(errs, validateExtraLabels(pool.ExtraLabels, path.Child("extraLabels"))...)
	return errs
}

// validateKeyspaceTemplateUpdate checks how a keyspace's partitionings may change.
//
// A partitioning is identified by its set of shards (key ranges). Its shard template may change
// freely, but its key ranges cannot change in place, because that would replace the shards serving
// the keyspace at once. Resharding goes in steps, each a separate update:
//  1. add a second partitioning with the new key ranges (its shards are created empty);
//  2. reshard into it with a Reshard VitessWorkflow and switch traffic;
//  3. remove the old partitioning (its shards are turned down).
//
// So an update may add partitionings or remove them, but not both at once; and an equal
// partitioning's hexWidth may not change. The database name of an existing keyspace may not change
// either, as its tablets' data lives in that database.
func validateKeyspaceTemplateUpdate(ks, old *vitess.VitessKeyspaceTemplate, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateSnapshotUpdate(ks, old, path)...)
	if ks.EffectiveDatabaseName() != old.EffectiveDatabaseName() {
		errs = append(errs, field.Invalid(path.Child("databaseName"), ks.DatabaseName,
			fmt.Sprintf("cannot change the database of an existing keyspace (%q): its data lives there", old.EffectiveDatabaseName())))
	}

	partsPath := path.Child("partitionings")
	oldRanges := make([][]vitess.VitessKeyRange, len(old.Partitionings))
	oldKeys := make([]string, len(old.Partitionings))
	oldByKey := map[string]int{}
	for i := range old.Partitionings {
		if oldRanges[i] = wellFormedKeyRanges(&old.Partitionings[i]); oldRanges[i] != nil {
			oldKeys[i] = partitioningKey(oldRanges[i])
			oldByKey[oldKeys[i]] = i
		}
	}
	newRanges := make([][]vitess.VitessKeyRange, len(ks.Partitionings))
	newKeys := sets.New[string]()
	var added []int
	for j := range ks.Partitionings {
		p := &ks.Partitionings[j]
		ranges := wellFormedKeyRanges(p)
		if ranges == nil {
			continue // refused by the create rules
		}
		newRanges[j] = ranges
		key := partitioningKey(ranges)
		newKeys.Insert(key)
		i, existed := oldByKey[key]
		if !existed {
			added = append(added, j)
			continue
		}
		if op := old.Partitionings[i]; p.Equal != nil && op.Equal != nil && p.Equal.HexWidth != op.Equal.HexWidth {
			errs = append(errs, field.Invalid(partsPath.Index(j).Child("equal", "hexWidth"), p.Equal.HexWidth,
				fmt.Sprintf("field is immutable: it was %d", op.Equal.HexWidth)))
		}
	}
	var removed []int
	removedSet := sets.New[int]()
	for i := range old.Partitionings {
		if oldRanges[i] != nil && !newKeys.Has(oldKeys[i]) {
			removed = append(removed, i)
			removedSet.Insert(i)
		}
	}
	if len(added) == 0 || len(removed) == 0 {
		return errs
	}

	var removedDesc []string
	for _, i := range removed {
		removedDesc = append(removedDesc, describeRanges(oldRanges[i]))
	}
	for _, j := range added {
		p := &ks.Partitionings[j]
		errPath := partsPath.Index(j)
		if removedSet.Has(j) { // the partitioning at this index was changed in place
			op := &old.Partitionings[j]
			switch {
			case p.Equal != nil && op.Equal != nil:
				errPath = errPath.Child("equal", "parts")
			case p.Custom != nil && op.Custom != nil:
				errPath = errPath.Child("custom", "shards")
			}
		}
		errs = append(errs, field.Forbidden(errPath, fmt.Sprintf(
			"cannot add partitioning %s while removing partitioning %s in the same update: that would replace the shards serving keyspace %q at once. "+
				"Change key ranges in steps: first add the new partitioning next to the old one, then reshard into it (a Reshard VitessWorkflow) and switch traffic, "+
				"and only then remove the old partitioning in a later update",
			describeRanges(newRanges[j]), strings.Join(removedDesc, " and "), ks.Name)))
	}
	return errs
}

// wellFormedKeyRanges returns a partitioning's key ranges if they are all valid.
func wellFormedKeyRanges(p *vitess.VitessKeyspacePartitioning) []vitess.VitessKeyRange {
	if p.Equal != nil && p.Custom != nil {
		return nil
	}
	ranges := p.KeyRanges()
	for _, kr := range ranges {
		if kr.Validate() != nil {
			return nil
		}
	}
	return ranges
}

// partitioningKey identifies a partitioning by its set of shard names.
func partitioningKey(ranges []vitess.VitessKeyRange) string {
	names := make([]string, len(ranges))
	for i, kr := range ranges {
		names[i] = kr.ShardName()
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// describeRanges writes key ranges as a list of shard names, eliding the middle of long lists.
func describeRanges(ranges []vitess.VitessKeyRange) string {
	const max = 8
	var names []string
	for i, kr := range ranges {
		if len(ranges) > max && i == max/2 {
			names = append(names, fmt.Sprintf("... (%d shards in all)", len(ranges)))
		}
		if len(ranges) > max && i >= max/2 && i < len(ranges)-max/2 {
			continue
		}
		names = append(names, kr.ShardName())
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// ValidateVitessKeyspace validates a VitessKeyspace on create. Cell names in tablet pools and
// backup location names are not checked here: the owning VitessCluster checks them.
func ValidateVitessKeyspace(obj *vitess.VitessKeyspace) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, validateVitessKeyspaceSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateVitessKeyspaceUpdate validates an update of a VitessKeyspace; spec.name and spec.cluster
// are immutable.
func ValidateVitessKeyspaceUpdate(obj, old *vitess.VitessKeyspace) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	errs = append(errs, validateVitessKeyspaceSpec(&obj.Spec, spec)...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.Name, old.Spec.Name, spec.Child("name"))...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.Cluster, old.Spec.Cluster, spec.Child("cluster"))...)
	return errs
}

func validateVitessKeyspaceSpec(spec *vitess.VitessKeyspaceSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateKeyspaceTemplate(&spec.VitessKeyspaceTemplate, clusterContext{}, path)...)
	errs = append(errs, validateDNSLabelField(spec.Cluster, path.Child("cluster"), "name the owning VitessCluster")...)
	errs = append(errs, validateImages(&spec.Images, path.Child("images"))...)
	errs = append(errs, validateZoneMap(spec.ZoneMap, path.Child("zoneMap"))...)
	errs = append(errs, validateExtraFlags(spec.ExtraVitessFlags, path.Child("extraVitessFlags"))...)
	return errs
}

func validateZoneMap(zones map[string]string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, cell := range sortedKeys(zones) {
		for _, msg := range content.IsDNS1123Label(cell) {
			errs = append(errs, field.Invalid(path.Key(cell), cell, "cell name: "+msg))
		}
		if zone := zones[cell]; zone != "" {
			for _, msg := range content.IsLabelValue(zone) {
				errs = append(errs, field.Invalid(path.Key(cell), zone, msg))
			}
		}
	}
	return errs
}

// ---------------------------------------------------------------------------------------------
// Shards

// ValidateVitessShard validates a VitessShard on create.
func ValidateVitessShard(obj *vitess.VitessShard) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, validateVitessShardSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateVitessShardUpdate validates an update of a VitessShard; spec.name, spec.keyspaceName,
// spec.keyRange and spec.cluster are immutable.
func ValidateVitessShardUpdate(obj, old *vitess.VitessShard) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	errs = append(errs, validateVitessShardSpec(&obj.Spec, spec)...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.Name, old.Spec.Name, spec.Child("name"))...)
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.KeyspaceName, old.Spec.KeyspaceName, spec.Child("keyspaceName"))...)
	if obj.Spec.KeyRange != old.Spec.KeyRange {
		errs = append(errs, field.Invalid(spec.Child("keyRange"), obj.Spec.KeyRange.ShardName(),
			fmt.Sprintf("field is immutable: it was %q", old.Spec.KeyRange.ShardName())))
	}
	errs = append(errs, apimachineryvalidation.ValidateImmutableField(obj.Spec.Cluster, old.Spec.Cluster, spec.Child("cluster"))...)
	return errs
}

func validateVitessShardSpec(spec *vitess.VitessShardSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	krErrs := validateKeyRange(spec.KeyRange, path.Child("keyRange"))
	errs = append(errs, krErrs...)
	namePath := path.Child("name")
	switch {
	case spec.Name == "":
		errs = append(errs, field.Required(namePath, "the Vitess shard name, e.g. \"-80\""))
	case len(krErrs) == 0:
		want := spec.KeyRange.ShardName()
		if spec.Name != want && !(spec.Name == vitess.LegacyUnshardedShardName && spec.KeyRange.IsFull()) {
			errs = append(errs, field.Invalid(namePath, spec.Name, fmt.Sprintf("must be the shard's key range as Vitess writes it: %q", want)))
		}
	}
	errs = append(errs, validateDNSLabelField(spec.KeyspaceName, path.Child("keyspaceName"), "name the keyspace the shard belongs to")...)
	errs = append(errs, validateDNSLabelField(spec.Cluster, path.Child("cluster"), "name the owning VitessCluster")...)
	if spec.DurabilityPolicy != "" && !slices.Contains(durabilityPolicies, spec.DurabilityPolicy) {
		errs = append(errs, field.NotSupported(path.Child("durabilityPolicy"), spec.DurabilityPolicy, durabilityPolicies))
	}
	locations, locErrs := validateBackupLocations(spec.BackupLocations, path.Child("backupLocations"))
	errs = append(errs, locErrs...)
	errs = append(errs, validateBackupEngine(spec.BackupEngine, path.Child("backupEngine"))...)
	errs = append(errs, validateBackupRetention(spec.BackupRetention, path.Child("backupRetention"))...)
	errs = append(errs, validateShardTemplate(&spec.VitessShardTemplate, clusterContext{backupLocations: locations}, path)...)
	errs = append(errs, validateImages(&spec.Images, path.Child("images"))...)
	errs = append(errs, validateZoneMap(spec.ZoneMap, path.Child("zoneMap"))...)
	errs = append(errs, validateExtraFlags(spec.ExtraVitessFlags, path.Child("extraVitessFlags"))...)
	return errs
}

// ---------------------------------------------------------------------------------------------
// Workflows

// ValidateVitessWorkflow validates a VitessWorkflow on create.
func ValidateVitessWorkflow(obj *vitess.VitessWorkflow) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&obj.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, validateVitessWorkflowSpec(&obj.Spec, field.NewPath("spec"))...)
}

// ValidateVitessWorkflowUpdate validates an update of a VitessWorkflow, whose spec is immutable:
// a workflow is moved along by its action subresources, not by editing it.
func ValidateVitessWorkflowUpdate(obj, old *vitess.VitessWorkflow) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMetaUpdate(&obj.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	spec := field.NewPath("spec")
	if !apiequality.Semantic.DeepEqual(obj.Spec, old.Spec) {
		errs = append(errs, field.Forbidden(spec, "spec is immutable; create a new workflow"))
	}
	return append(errs, validateVitessWorkflowSpec(&obj.Spec, spec)...)
}

func validateVitessWorkflowSpec(spec *vitess.VitessWorkflowSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case spec.Type == "":
		errs = append(errs, field.Required(path.Child("type"), "MoveTables or Reshard"))
	case !slices.Contains(workflowTypes, spec.Type):
		errs = append(errs, field.NotSupported(path.Child("type"), string(spec.Type), workflowTypes))
	}
	errs = append(errs, validateDNSLabelField(spec.Cluster, path.Child("cluster"), "name the VitessCluster that runs the workflow")...)
	errs = append(errs, validateDNSLabelField(spec.TargetKeyspace, path.Child("targetKeyspace"), "name the keyspace that receives the data")...)

	cellsPath := path.Child("cells")
	errs = append(errs, validateCellReferences(spec.Cells, nil, cellsPath)...)
	for i, cell := range spec.Cells {
		if cell != "" {
			for _, msg := range content.IsDNS1123Label(cell) {
				errs = append(errs, field.Invalid(cellsPath.Index(i), cell, msg))
			}
		}
	}

	tabletTypes := sets.New[string]()
	for i, t := range spec.TabletTypes {
		p := path.Child("tabletTypes").Index(i)
		lower := strings.ToLower(t)
		switch {
		case !slices.Contains(workflowTabletTypes, lower):
			errs = append(errs, field.NotSupported(p, t, workflowTabletTypes))
		case tabletTypes.Has(lower):
			errs = append(errs, field.Duplicate(p, t))
		}
		tabletTypes.Insert(lower)
	}
	if spec.OnDDL != "" && !slices.Contains(onDDLActions, spec.OnDDL) {
		errs = append(errs, field.NotSupported(path.Child("onDDL"), spec.OnDDL, onDDLActions))
	}

	switch spec.Type {
	case vitess.WorkflowTypeMoveTables:
		errs = append(errs, validateMoveTables(spec, path)...)
	case vitess.WorkflowTypeReshard:
		errs = append(errs, validateReshard(spec, path)...)
	}
	return errs
}

func validateMoveTables(spec *vitess.VitessWorkflowSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	srcPath := path.Child("sourceKeyspace")
	errs = append(errs, validateDNSLabelField(spec.SourceKeyspace, srcPath, "name the keyspace the tables move from")...)
	if spec.SourceKeyspace != "" && spec.SourceKeyspace == spec.TargetKeyspace {
		errs = append(errs, field.Invalid(srcPath, spec.SourceKeyspace,
			"must differ from targetKeyspace: MoveTables moves tables between keyspaces (use Reshard to change a keyspace's shards)"))
	}
	tablesPath := path.Child("tables")
	switch {
	case len(spec.Tables) > 0 && spec.AllTables:
		errs = append(errs, field.Forbidden(tablesPath, "may not be set together with allTables: list the tables to move, or set allTables"))
	case len(spec.Tables) == 0 && !spec.AllTables:
		errs = append(errs, field.Required(tablesPath, "list the tables to move, or set allTables to move every table"))
	}
	seen := sets.New[string]()
	for i, table := range spec.Tables {
		p := tablesPath.Index(i)
		for _, msg := range mysqlIdentifierErrors(table) {
			errs = append(errs, field.Invalid(p, table, msg))
		}
		if seen.Has(table) {
			errs = append(errs, field.Duplicate(p, table))
		}
		seen.Insert(table)
	}
	if len(spec.SourceShards) > 0 {
		errs = append(errs, field.Forbidden(path.Child("sourceShards"), "only Reshard workflows name shards; MoveTables copies from every shard of the source keyspace"))
	}
	if len(spec.TargetShards) > 0 {
		errs = append(errs, field.Forbidden(path.Child("targetShards"), "only Reshard workflows name shards; MoveTables copies into every shard of the target keyspace"))
	}
	return errs
}

func validateReshard(spec *vitess.VitessWorkflowSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.SourceKeyspace != "" && spec.SourceKeyspace != spec.TargetKeyspace {
		errs = append(errs, field.Invalid(path.Child("sourceKeyspace"), spec.SourceKeyspace,
			"a Reshard workflow stays within targetKeyspace: leave sourceKeyspace empty or equal to it (use MoveTables to move tables between keyspaces)"))
	}
	if len(spec.Tables) > 0 {
		errs = append(errs, field.Forbidden(path.Child("tables"), "a Reshard workflow moves every table of the keyspace; only MoveTables lists tables"))
	}
	if spec.AllTables {
		errs = append(errs, field.Forbidden(path.Child("allTables"), "a Reshard workflow moves every table of the keyspace; only MoveTables sets allTables"))
	}

	srcPath, dstPath := path.Child("sourceShards"), path.Child("targetShards")
	source, srcErrs := parseShardList(spec.SourceShards, srcPath, "the shards to split or merge, e.g. [\"-\"] or [\"0\"]")
	target, dstErrs := parseShardList(spec.TargetShards, dstPath, "the shards they become, e.g. [\"-80\", \"80-\"]")
	errs = append(errs, srcErrs...)
	errs = append(errs, dstErrs...)

	sourceNames := sets.New[string]()
	for _, kr := range source {
		sourceNames.Insert(kr.ShardName())
	}
	for i, kr := range target {
		if sourceNames.Has(kr.ShardName()) {
			name := spec.TargetShards[i]
			errs = append(errs, field.Invalid(dstPath.Index(i), name, "is also a source shard: a shard cannot be resharded into itself"))
		}
	}
	if source == nil || target == nil {
		return errs
	}
	srcRange, srcErr := vitess.KeyRangeUnion(source)
	if srcErr != nil {
		errs = append(errs, field.Invalid(srcPath, strings.Join(spec.SourceShards, ","), "must cover one contiguous key range without gaps or overlaps: "+srcErr.Error()))
	}
	dstRange, dstErr := vitess.KeyRangeUnion(target)
	if dstErr != nil {
		errs = append(errs, field.Invalid(dstPath, strings.Join(spec.TargetShards, ","), "must cover one contiguous key range without gaps or overlaps: "+dstErr.Error()))
	}
	if srcErr == nil && dstErr == nil && !srcRange.Equal(dstRange) {
		errs = append(errs, field.Invalid(dstPath, strings.Join(spec.TargetShards, ","),
			fmt.Sprintf("must cover the same key range as sourceShards (%q), not %q", srcRange.ShardName(), dstRange.ShardName())))
	}
	return errs
}

// parseShardList parses shard names; it returns the key ranges in order only when all are valid
// and distinct.
func parseShardList(shards []string, path *field.Path, what string) ([]vitess.VitessKeyRange, field.ErrorList) {
	if len(shards) == 0 {
		return nil, field.ErrorList{field.Required(path, what)}
	}
	var errs field.ErrorList
	ranges := make([]vitess.VitessKeyRange, len(shards))
	seen := sets.New[string]()
	for i, name := range shards {
		kr, err := vitess.ParseKeyRange(name)
		if err != nil {
			errs = append(errs, field.Invalid(path.Index(i), name, err.Error()))
			continue
		}
		if seen.Has(kr.ShardName()) {
			errs = append(errs, field.Duplicate(path.Index(i), name))
		}
		seen.Insert(kr.ShardName())
		ranges[i] = kr
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return ranges, nil
}

// mysqlIdentifierErrors checks a database or table name as MySQL accepts it unquoted: 1 to 64
// characters, each an ASCII letter, digit, '$' or '_', or a character from U+0080 to U+FFFF; not
// digits only.
func mysqlIdentifierErrors(name string) []string {
	if name == "" {
		return []string{"must not be empty"}
	}
	if !utf8.ValidString(name) {
		return []string{"must be valid UTF-8"}
	}
	var msgs []string
	if n := utf8.RuneCountInString(name); n > maxMySQLIdentifierLength {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", maxMySQLIdentifierLength))
	}
	digitsOnly := true
	for _, r := range name {
		switch {
		case '0' <= r && r <= '9':
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_', r == '$', 0x80 <= r && r <= 0xFFFF:
			digitsOnly = false
		default:
			return append(msgs, fmt.Sprintf("must be a MySQL identifier: letters, digits, '_' and '$' only (found %q)", r))
		}
	}
	if digitsOnly {
		msgs = append(msgs, "must not consist of digits only")
	}
	return msgs
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
