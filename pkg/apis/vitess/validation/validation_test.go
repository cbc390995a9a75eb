package validation

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// ---------------------------------------------------------------------------------------------
// Helpers

// want is one expected error: its type and exact field path.
type want struct {
	typ  field.ErrorType
	path string
}

func e(typ field.ErrorType, path string) want { return want{typ, path} }

const (
	required     = field.ErrorTypeRequired
	invalid      = field.ErrorTypeInvalid
	notSupported = field.ErrorTypeNotSupported
	notFound     = field.ErrorTypeNotFound
	duplicate    = field.ErrorTypeDuplicate
	forbidden    = field.ErrorTypeForbidden
	tooMany      = field.ErrorTypeTooMany
)

// checkErrors asserts that errs holds exactly the wanted (type, path) pairs, in any order.
func checkErrors(t *testing.T, errs field.ErrorList, wanted ...want) {
	t.Helper()
	got := make([]string, len(errs))
	for i, err := range errs {
		got[i] = fmt.Sprintf("%s %s", err.Type, err.Field)
	}
	exp := make([]string, len(wanted))
	for i, w := range wanted {
		exp[i] = fmt.Sprintf("%s %s", w.typ, w.path)
	}
	sort.Strings(got)
	sort.Strings(exp)
	if strings.Join(got, "\n") != strings.Join(exp, "\n") {
		t.Errorf("errors:\n  %s\nwant:\n  %s\nfull errors: %v", strings.Join(got, "\n  "), strings.Join(exp, "\n  "), errs.ToAggregate())
	}
	for _, err := range errs {
		if err.Type != required && err.Type != forbidden && err.Detail == "" && err.BadValue == nil {
			t.Errorf("error %v tells the user nothing", err)
		}
	}
}

func storage(size string) *corev1.PersistentVolumeClaimSpec {
	return &corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
		},
	}
}

func shardTemplate() vitess.VitessShardTemplate {
	return vitess.VitessShardTemplate{
		DatabaseInitScriptSecret: vitess.SecretSource{Name: "example-cluster-config", Key: "init_db.sql"},
		TabletPools: []vitess.VitessShardTabletPool{{
			Cell:                    "zone1",
			Type:                    vitess.TabletPoolTypeReplica,
			Replicas:                3,
			Vttablet:                &vitess.VttabletSpec{ExtraFlags: map[string]string{"db_charset": "utf8mb4"}},
			DataVolumeClaimTemplate: storage("10Gi"),
		}},
	}
}

func equal(parts int32) vitess.VitessKeyspacePartitioning {
	return vitess.VitessKeyspacePartitioning{Equal: &vitess.VitessKeyspaceEqualPartitioning{Parts: parts, ShardTemplate: shardTemplate()}}
}

// custom builds a custom partitioning from shard names, splitting each at its "-" without
// checking anything, so that malformed ranges can be written too.
func custom(shards ...string) vitess.VitessKeyspacePartitioning {
	c := &vitess.VitessKeyspaceCustomPartitioning{}
	for _, s := range shards {
		start, end, _ := strings.Cut(s, "-")
		c.Shards = append(c.Shards, vitess.VitessKeyspaceKeyRangeShard{
			KeyRange:            vitess.VitessKeyRange{Start: start, End: end},
			VitessShardTemplate: shardTemplate(),
		})
	}
	return vitess.VitessKeyspacePartitioning{Custom: c}
}

// validCluster is like the operator's 201 example plus a custom-partitioned keyspace.
func validCluster() *vitess.VitessCluster {
	return &vitess.VitessCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "example", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessClusterSpec{
			Images: vitess.VitessImages{
				Vtgate: "vitess/lite:mysql80",
				Mysqld: &vitess.MysqldImage{Mysql80Compatible: "vitess/lite:mysql80"},
			},
			Backup: &vitess.ClusterBackupSpec{
				Engine: vitess.VitessBackupEngineXtraBackup,
				Locations: []vitess.VitessBackupLocation{{
					Volume: &corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "vitess-backups"}},
				}},
			},
			GlobalLockserver: vitess.LockserverSpec{Etcd: &vitess.EtcdLockserverTemplate{}},
			VitessDashboard: &vitess.VitessDashboardSpec{
				ComponentSpec: vitess.ComponentSpec{ExtraFlags: map[string]string{"security_policy": "read-only"}},
				Cells:         []string{"zone1"},
				Replicas:      ptr.To[int32](1),
			},
			Cells: []vitess.VitessCellTemplate{{
				Name: "zone1",
				Gateway: vitess.VitessCellGatewaySpec{
					ComponentSpec: vitess.ComponentSpec{ExtraFlags: map[string]string{"tablet-refresh-interval": "10s"}},
					Authentication: vitess.VitessGatewayAuthentication{Static: &vitess.VitessGatewayStaticAuthentication{
						Secret: &vitess.SecretSource{Name: "example-cluster-config", Key: "users.json"},
					}},
					Replicas: ptr.To[int32](1),
				},
			}},
			Keyspaces: []vitess.VitessKeyspaceTemplate{
				{
					Name:             "commerce",
					DurabilityPolicy: "semi_sync",
					TurndownPolicy:   vitess.TurndownPolicyImmediate,
					Partitionings:    []vitess.VitessKeyspacePartitioning{equal(1)},
				},
				{
					Name:             "customer",
					DurabilityPolicy: "none",
					TurndownPolicy:   vitess.TurndownPolicyRequireIdle,
					Partitionings:    []vitess.VitessKeyspacePartitioning{custom("-80", "80-")},
				},
			},
			UpdateStrategy: &vitess.VitessClusterUpdateStrategy{Type: ptr.To(vitess.UpdateStrategyImmediate)},
		},
	}
}

// Paths used by many cases.
const (
	commerce     = "spec.keyspaces[0]"
	commerceP0   = commerce + ".partitionings[0]"
	commerceTmpl = commerceP0 + ".equal.shardTemplate"
	commercePool = commerceTmpl + ".tabletPools[0]"
	customer     = "spec.keyspaces[1]"
	customerP0   = customer + ".partitionings[0]"
	customShards = customerP0 + ".custom.shards"
)

func commerceEqual(c *vitess.VitessCluster) *vitess.VitessKeyspaceEqualPartitioning {
	return c.Spec.Keyspaces[0].Partitionings[0].Equal
}

func commercePool0(c *vitess.VitessCluster) *vitess.VitessShardTabletPool {
	return &commerceEqual(c).ShardTemplate.TabletPools[0]
}

func setCustomer(c *vitess.VitessCluster, shards ...string) {
	c.Spec.Keyspaces[1].Partitionings = []vitess.VitessKeyspacePartitioning{custom(shards...)}
}

// ---------------------------------------------------------------------------------------------
// VitessCluster

func TestValidateVitessCluster(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *vitess.VitessCluster)
		want   []want
	}{
		// Good inputs.
		{"valid", func(c *vitess.VitessCluster) {}, nil},
		{"rdonly pool and a named replica pool", func(c *vitess.VitessCluster) {
			tmpl := &commerceEqual(c).ShardTemplate
			tmpl.TabletPools = append(tmpl.TabletPools,
				vitess.VitessShardTabletPool{Cell: "zone1", Type: vitess.TabletPoolTypeRdonly, Replicas: 1},
				vitess.VitessShardTabletPool{Cell: "zone1", Type: vitess.TabletPoolTypeReplica, Name: "extra", Replicas: 0})
		}, nil},
		{"equal parts 256 with hexWidth 2", func(c *vitess.VitessCluster) { commerceEqual(c).Parts, commerceEqual(c).HexWidth = 256, 2 }, nil},
		{"equal parts 1000 with hexWidth 4", func(c *vitess.VitessCluster) { commerceEqual(c).Parts, commerceEqual(c).HexWidth = 1000, 4 }, nil},
		{"two partitionings during a reshard", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[1].Partitionings = append(c.Spec.Keyspaces[1].Partitionings, custom("-40", "40-80", "80-"))
		}, nil},
		{"custom boundaries equal by value", func(c *vitess.VitessCluster) { setCustomer(c, "-8000", "80-c0", "c000-") }, nil},
		{"custom uppercase hex", func(c *vitess.VitessCluster) { setCustomer(c, "-8A", "8a-") }, nil},
		{"custom single full shard", func(c *vitess.VitessCluster) { setCustomer(c, "-") }, nil},
		{"external global lockserver", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver = vitess.LockserverSpec{External: &vitess.VitessLockserverParams{Implementation: "etcd2", Address: "etcd:2379", RootPath: "/vitess/global"}}
		}, nil},
		{"named backup location used by a pool", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations = append(c.Spec.Backup.Locations, vitess.VitessBackupLocation{Name: "offsite", S3: &vitess.S3BackupLocation{Bucket: "b", Region: "eu-west-1"}})
			commercePool0(c).BackupLocationName = "offsite"
		}, nil},
		{"no keyspaces yet", func(c *vitess.VitessCluster) { c.Spec.Keyspaces = nil }, nil},
		{"second cell", func(c *vitess.VitessCluster) {
			c.Spec.Cells = append(c.Spec.Cells, vitess.VitessCellTemplate{Name: "zone2", Zone: "us-east-1b"})
			commercePool0(c).Cell = "zone2"
		}, nil},

		// Metadata.
		{"uppercase name", func(c *vitess.VitessCluster) { c.Name = "Example" }, []want{e(invalid, "metadata.name")}},
		{"name is a subdomain, not a label", func(c *vitess.VitessCluster) { c.Name = "ex.ample" }, []want{e(invalid, "metadata.name")}},
		{"no namespace", func(c *vitess.VitessCluster) { c.Namespace = "" }, []want{e(required, "metadata.namespace")}},

		// Cells.
		{"no cells", func(c *vitess.VitessCluster) {
			c.Spec.Cells = nil
			c.Spec.Keyspaces = nil
			c.Spec.VitessDashboard.Cells = nil
		}, []want{e(required, "spec.cells")}},
		{"cell name not a DNS label", func(c *vitess.VitessCluster) {
			c.Spec.Cells = append(c.Spec.Cells, vitess.VitessCellTemplate{Name: "zone_2"})
		}, []want{e(invalid, "spec.cells[1].name")}},
		{"cell name missing", func(c *vitess.VitessCluster) {
			c.Spec.Cells = append(c.Spec.Cells, vitess.VitessCellTemplate{})
		}, []want{e(required, "spec.cells[1].name")}},
		{"duplicate cell", func(c *vitess.VitessCluster) {
			c.Spec.Cells = append(c.Spec.Cells, vitess.VitessCellTemplate{Name: "zone1"})
		}, []want{e(duplicate, "spec.cells[1].name")}},
		{"cell zone not a label value", func(c *vitess.VitessCluster) { c.Spec.Cells[0].Zone = "us east" }, []want{e(invalid, "spec.cells[0].zone")}},
		{"negative gateway replicas", func(c *vitess.VitessCluster) { c.Spec.Cells[0].Gateway.Replicas = ptr.To[int32](-1) }, []want{e(invalid, "spec.cells[0].gateway.replicas")}},
		{"static authentication without secret", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Gateway.Authentication.Static.Secret = nil
		}, []want{e(required, "spec.cells[0].gateway.authentication.static.secret")}},
		{"static authentication secret without name and key", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Gateway.Authentication.Static.Secret = &vitess.SecretSource{}
		}, []want{e(required, "spec.cells[0].gateway.authentication.static.secret.name"), e(required, "spec.cells[0].gateway.authentication.static.secret.key")}},
		{"gateway flag with leading dashes", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Gateway.ExtraFlags["--mysql_server_port"] = "3306"
		}, []want{e(invalid, "spec.cells[0].gateway.extraFlags[--mysql_server_port]")}},
		{"cell lockserver both external and etcd", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Lockserver = vitess.LockserverSpec{
				External: &vitess.VitessLockserverParams{Implementation: "etcd2", Address: "etcd:2379", RootPath: "/vitess/zone1"},
				Etcd:     &vitess.EtcdLockserverTemplate{},
			}
		}, []want{e(forbidden, "spec.cells[0].lockserver.etcd")}},

		// Global settings.
		{"empty extra flag name", func(c *vitess.VitessCluster) {
			c.Spec.ExtraVitessFlags = map[string]string{"": "x", "ok_flag": "y"}
		}, []want{e(invalid, "spec.extraVitessFlags[]")}},
		{"extra flag with '='", func(c *vitess.VitessCluster) {
			c.Spec.ExtraVitessFlags = map[string]string{"a=b": "x"}
		}, []want{e(invalid, "spec.extraVitessFlags[a=b]")}},
		{"global lockserver both external and etcd", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver.External = &vitess.VitessLockserverParams{Implementation: "etcd2", Address: "etcd:2379", RootPath: "/vitess/global"}
		}, []want{e(forbidden, "spec.globalLockserver.etcd")}},
		{"external lockserver without parameters", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver = vitess.LockserverSpec{External: &vitess.VitessLockserverParams{}}
		}, []want{
			e(required, "spec.globalLockserver.external.implementation"),
			e(required, "spec.globalLockserver.external.address"),
			e(required, "spec.globalLockserver.external.rootPath"),
		}},
		{"etcd data volume without size", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver.Etcd.DataVolumeClaimTemplate = &corev1.PersistentVolumeClaimSpec{}
		}, []want{e(required, "spec.globalLockserver.etcd.dataVolumeClaimTemplate.resources.requests[storage]")}},
		{"two mysqld flavors", func(c *vitess.VitessCluster) {
			c.Spec.Images.Mysqld.Mysql84Compatible = "vitess/lite:mysql84"
		}, []want{e(forbidden, "spec.images.mysqld.mysql84Compatible")}},
		{"unknown image pull policy", func(c *vitess.VitessCluster) {
			c.Spec.ImagePullPolicies.Vtgate = "Sometimes"
		}, []want{e(notSupported, "spec.imagePullPolicies.vtgate")}},
		{"image pull secret without name", func(c *vitess.VitessCluster) {
			c.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{}}
		}, []want{e(required, "spec.imagePullSecrets[0].name")}},
		{"unknown update strategy", func(c *vitess.VitessCluster) {
			c.Spec.UpdateStrategy.Type = ptr.To[vitess.VitessClusterUpdateStrategyType]("Rolling")
		}, []want{e(notSupported, "spec.updateStrategy.type")}},

		// Backup.
		{"backup without locations", func(c *vitess.VitessCluster) { c.Spec.Backup.Locations = nil }, []want{e(required, "spec.backup.locations")}},
		{"backup location without storage", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0].Volume = nil
		}, []want{e(required, "spec.backup.locations[0]")}},
		{"backup location with two storages", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0].GCS = &vitess.GCSBackupLocation{Bucket: "backups"}
		}, []want{e(forbidden, "spec.backup.locations[0].volume")}},
		{"unknown backup engine", func(c *vitess.VitessCluster) { c.Spec.Backup.Engine = "mysqldump" }, []want{e(notSupported, "spec.backup.engine")}},
		{"backup retention", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Retention = &vitess.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: 7 * 24 * time.Hour}, MinRetentionCount: 3}
		}, nil},
		{"backup retention without a time", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Retention = &vitess.VitessBackupRetention{MinRetentionCount: 3}
		}, []want{e(required, "spec.backup.retention.minRetentionTime")}},
		{"backup retention with no time and no count", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Retention = &vitess.VitessBackupRetention{MinRetentionTime: &metav1.Duration{}, MinRetentionCount: 0}
		}, []want{e(invalid, "spec.backup.retention.minRetentionTime"), e(invalid, "spec.backup.retention.minRetentionCount")}},
		{"backup retention with a negative time and count", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Retention = &vitess.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: -time.Hour}, MinRetentionCount: -1}
		}, []want{e(invalid, "spec.backup.retention.minRetentionTime"), e(invalid, "spec.backup.retention.minRetentionCount")}},
		{"duplicate backup location names", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations = append(c.Spec.Backup.Locations, vitess.VitessBackupLocation{GCS: &vitess.GCSBackupLocation{Bucket: "b"}})
		}, []want{e(duplicate, "spec.backup.locations[1].name")}},
		{"s3 location without bucket and region", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0] = vitess.VitessBackupLocation{S3: &vitess.S3BackupLocation{AuthSecret: &vitess.SecretSource{Name: "aws"}}}
		}, []want{
			e(required, "spec.backup.locations[0].s3.bucket"),
			e(required, "spec.backup.locations[0].s3.region"),
			e(required, "spec.backup.locations[0].s3.authSecret.key"),
		}},
		{"pool uses an undeclared backup location", func(c *vitess.VitessCluster) {
			commercePool0(c).BackupLocationName = "offsite"
		}, []want{e(notFound, commercePool+".backupLocationName")}},
		{"every location kind, each complete", func(c *vitess.VitessCluster) {
			secret := vitess.SecretSource{Name: "backup-auth", Key: "credentials"}
			c.Spec.Backup.Locations[0].VolumeSubPath = "vitess/backups"
			c.Spec.Backup.Locations = append(c.Spec.Backup.Locations,
				vitess.VitessBackupLocation{Name: "s3", S3: &vitess.S3BackupLocation{Bucket: "b", Region: "r", Endpoint: "http://s3:8333", KeyPrefix: "team/a", MinPartSize: 8 << 20, AuthSecret: &secret}},
				vitess.VitessBackupLocation{Name: "gcs", GCS: &vitess.GCSBackupLocation{Bucket: "b", AuthSecret: &secret}},
				vitess.VitessBackupLocation{Name: "azure", Azblob: &vitess.AzblobBackupLocation{Account: "a", Container: "c", AuthSecret: secret}},
				vitess.VitessBackupLocation{Name: "ceph", Ceph: &vitess.CephBackupLocation{AuthSecret: secret}})
		}, nil},
		{"incomplete azblob and ceph locations", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations = append(c.Spec.Backup.Locations,
				vitess.VitessBackupLocation{Name: "azure", Azblob: &vitess.AzblobBackupLocation{}},
				vitess.VitessBackupLocation{Name: "ceph", Ceph: &vitess.CephBackupLocation{AuthSecret: vitess.SecretSource{Name: "ceph"}}})
		}, []want{
			e(required, "spec.backup.locations[1].azblob.account"),
			e(required, "spec.backup.locations[1].azblob.container"),
			e(required, "spec.backup.locations[1].azblob.authSecret.name"),
			e(required, "spec.backup.locations[1].azblob.authSecret.key"),
			e(required, "spec.backup.locations[2].ceph.authSecret.key"),
		}},
		{"bad s3 part size and key prefix", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0] = vitess.VitessBackupLocation{S3: &vitess.S3BackupLocation{Bucket: "b", Region: "r", KeyPrefix: "a\nb", MinPartSize: -1}}
		}, []want{e(invalid, "spec.backup.locations[0].s3.minPartSize"), e(invalid, "spec.backup.locations[0].s3.keyPrefix")}},
		{"volume sub path escaping the volume", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0].VolumeSubPath = "../etc"
		}, []want{e(invalid, "spec.backup.locations[0].volumeSubPath")}},
		{"volume sub path without a volume", func(c *vitess.VitessCluster) {
			c.Spec.Backup.Locations[0] = vitess.VitessBackupLocation{GCS: &vitess.GCSBackupLocation{Bucket: "b"}, VolumeSubPath: "x"}
		}, []want{e(forbidden, "spec.backup.locations[0].volumeSubPath")}},

		// Dashboard.
		{"dashboard in an undeclared cell", func(c *vitess.VitessCluster) {
			c.Spec.VitessDashboard.Cells = []string{"zone1", "zone9"}
		}, []want{e(notFound, "spec.vitessDashboard.cells[1]")}},
		{"dashboard cell listed twice", func(c *vitess.VitessCluster) {
			c.Spec.VitessDashboard.Cells = []string{"zone1", "zone1"}
		}, []want{e(duplicate, "spec.vitessDashboard.cells[1]")}},
		{"negative dashboard replicas", func(c *vitess.VitessCluster) {
			c.Spec.VitessDashboard.Replicas = ptr.To[int32](-2)
		}, []want{e(invalid, "spec.vitessDashboard.replicas")}},

		// Keyspaces.
		{"keyspace name not a DNS label", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].Name = "Commerce" }, []want{e(invalid, commerce+".name")}},
		{"keyspace name with underscore", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].Name = "_vt" }, []want{e(invalid, commerce+".name")}},
		{"reserved keyspace name", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].Name = "mysql" }, []want{e(invalid, commerce+".name")}},
		{"keyspace without name", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].Name = "" }, []want{e(required, commerce+".name")}},
		{"duplicate keyspace", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[1].Name = "commerce" }, []want{e(duplicate, customer+".name")}},
		{"unknown durability policy", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DurabilityPolicy = "semi-sync" }, []want{e(notSupported, commerce+".durabilityPolicy")}},
		{"unknown turndown policy", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].TurndownPolicy = "Never" }, []want{e(notSupported, commerce+".turndownPolicy")}},
		{"database name with a dash", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DatabaseName = "vt-commerce" }, []want{e(invalid, commerce+".databaseName")}},
		{"reserved database name", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DatabaseName = "_vt" }, []want{e(invalid, commerce+".databaseName")}},
		{"orchestrator flag with leading dash", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].VitessOrchestrator = &vitess.VitessOrchestratorSpec{ComponentSpec: vitess.ComponentSpec{ExtraFlags: map[string]string{"-instance-poll-time": "3s"}}}
		}, []want{e(invalid, commerce+".vitessOrchestrator.extraFlags[-instance-poll-time]")}},

		// Partitionings.
		{"no partitionings", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].Partitionings = nil }, []want{e(required, commerce+".partitionings")}},
		{"three partitionings", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{equal(1), equal(2), equal(4)}
		}, []want{e(tooMany, commerce+".partitionings")}},
		{"partitioning neither equal nor custom", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{{}}
		}, []want{e(required, commerceP0)}},
		{"partitioning both equal and custom", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings[0].Custom = custom("-").Custom
		}, []want{e(forbidden, commerceP0+".custom")}},
		{"zero parts", func(c *vitess.VitessCluster) { commerceEqual(c).Parts = 0 }, []want{e(invalid, commerceP0+".equal.parts")}},
		{"too many parts", func(c *vitess.VitessCluster) { commerceEqual(c).Parts = 65537 }, []want{e(invalid, commerceP0+".equal.parts")}},
		{"odd hexWidth", func(c *vitess.VitessCluster) { commerceEqual(c).HexWidth = 3 }, []want{e(invalid, commerceP0+".equal.hexWidth")}},
		{"hexWidth too large", func(c *vitess.VitessCluster) { commerceEqual(c).HexWidth = 18 }, []want{e(invalid, commerceP0+".equal.hexWidth")}},
		{"negative hexWidth", func(c *vitess.VitessCluster) { commerceEqual(c).HexWidth = -2 }, []want{e(invalid, commerceP0+".equal.hexWidth")}},
		{"hexWidth too narrow for parts", func(c *vitess.VitessCluster) {
			commerceEqual(c).Parts, commerceEqual(c).HexWidth = 300, 2
		}, []want{e(invalid, commerceP0+".equal.hexWidth")}},
		{"custom without shards", func(c *vitess.VitessCluster) { setCustomer(c) }, []want{e(required, customShards)}},
		{"custom odd number of hex digits", func(c *vitess.VitessCluster) { setCustomer(c, "-8", "8-") }, []want{
			e(invalid, customShards+"[0].keyRange.end"), e(invalid, customShards+"[1].keyRange.start"),
		}},
		{"custom not hex", func(c *vitess.VitessCluster) { setCustomer(c, "-zz", "zz-") }, []want{
			e(invalid, customShards+"[0].keyRange.end"), e(invalid, customShards+"[1].keyRange.start"),
		}},
		{"custom bound too long", func(c *vitess.VitessCluster) { setCustomer(c, "-800000000000000000", "800000000000000000-") }, []want{
			e(invalid, customShards+"[0].keyRange.end"), e(invalid, customShards+"[1].keyRange.start"),
		}},
		{"custom start not below end", func(c *vitess.VitessCluster) { setCustomer(c, "-80", "80-40", "40-") }, []want{
			e(invalid, customShards+"[1].keyRange"),
		}},
		{"custom empty range by value", func(c *vitess.VitessCluster) { setCustomer(c, "-80", "80-8000", "80-") }, []want{
			e(invalid, customShards+"[1].keyRange"),
		}},
		{"custom gap", func(c *vitess.VitessCluster) { setCustomer(c, "-40", "80-") }, []want{e(invalid, customShards+"[1].keyRange.start")}},
		{"custom overlap", func(c *vitess.VitessCluster) { setCustomer(c, "-80", "40-") }, []want{e(invalid, customShards+"[1].keyRange.start")}},
		{"custom first shard does not start at the beginning", func(c *vitess.VitessCluster) { setCustomer(c, "00-80", "80-") }, []want{
			e(invalid, customShards+"[0].keyRange.start"),
		}},
		{"custom last shard does not reach the end", func(c *vitess.VitessCluster) { setCustomer(c, "-80", "80-ff") }, []want{
			e(invalid, customShards+"[1].keyRange.end"),
		}},
		{"custom duplicate shard", func(c *vitess.VitessCluster) { setCustomer(c, "-80", "-80", "80-") }, []want{e(duplicate, customShards+"[1].keyRange")}},
		{"custom shards out of order", func(c *vitess.VitessCluster) { setCustomer(c, "80-", "-80") }, []want{
			e(invalid, customShards+"[0].keyRange.start"),
			e(invalid, customShards+"[1].keyRange.start"),
			e(invalid, customShards+"[1].keyRange.end"),
		}},
		{"two identical partitionings", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[1].Partitionings = append(c.Spec.Keyspaces[1].Partitionings, equal(2))
		}, []want{e(duplicate, customer+".partitionings[1]")}},
		{"same key ranges spelled differently", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[1].Partitionings = append(c.Spec.Keyspaces[1].Partitionings, custom("-8000", "8000-c0", "c0-"))
		}, []want{e(invalid, customer+".partitionings[1]")}},

		// Shard templates and tablet pools.
		{"init script secret missing", func(c *vitess.VitessCluster) {
			commerceEqual(c).ShardTemplate.DatabaseInitScriptSecret = vitess.SecretSource{}
		}, []want{e(required, commerceTmpl+".databaseInitScriptSecret.name"), e(required, commerceTmpl+".databaseInitScriptSecret.key")}},
		{"init script secret with invalid name", func(c *vitess.VitessCluster) {
			commerceEqual(c).ShardTemplate.DatabaseInitScriptSecret.Name = "Example_Config"
		}, []want{e(invalid, commerceTmpl+".databaseInitScriptSecret.name")}},
		{"custom shard without init script key", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[1].Partitionings[0].Custom.Shards[1].DatabaseInitScriptSecret.Key = ""
		}, []want{e(required, customShards+"[1].databaseInitScriptSecret.key")}},
		{"pool of type primary", func(c *vitess.VitessCluster) { commercePool0(c).Type = "primary" }, []want{e(notSupported, commercePool+".type")}},
		{"pool without type", func(c *vitess.VitessCluster) { commercePool0(c).Type = "" }, []want{e(required, commercePool+".type")}},
		{"pool in an undeclared cell", func(c *vitess.VitessCluster) { commercePool0(c).Cell = "zone2" }, []want{e(notFound, commercePool+".cell")}},
		{"pool without cell", func(c *vitess.VitessCluster) { commercePool0(c).Cell = "" }, []want{e(required, commercePool+".cell")}},
		{"pool with too many replicas", func(c *vitess.VitessCluster) { commercePool0(c).Replicas = 65 }, []want{e(invalid, commercePool+".replicas")}},
		{"pool with negative replicas", func(c *vitess.VitessCluster) { commercePool0(c).Replicas = -1 }, []want{e(invalid, commercePool+".replicas")}},
		{"pool name not a DNS label", func(c *vitess.VitessCluster) { commercePool0(c).Name = "Big_Pool" }, []want{e(invalid, commercePool+".name")}},
		{"duplicate pool", func(c *vitess.VitessCluster) {
			tmpl := &commerceEqual(c).ShardTemplate
			tmpl.TabletPools = append(tmpl.TabletPools, vitess.VitessShardTabletPool{Cell: "zone1", Type: vitess.TabletPoolTypeReplica, Replicas: 1})
		}, []want{e(duplicate, commerceTmpl+".tabletPools[1]")}},
		{"pool volume without size", func(c *vitess.VitessCluster) {
			commercePool0(c).DataVolumeClaimTemplate.Resources.Requests = nil
		}, []want{e(required, commercePool+".dataVolumeClaimTemplate.resources.requests[storage]")}},
		{"pool volume of size zero", func(c *vitess.VitessCluster) {
			commercePool0(c).DataVolumeClaimTemplate = storage("0")
		}, []want{e(invalid, commercePool+".dataVolumeClaimTemplate.resources.requests[storage]")}},
		{"vttablet flag with '='", func(c *vitess.VitessCluster) {
			commercePool0(c).Vttablet.ExtraFlags["db_charset=utf8"] = ""
		}, []want{e(invalid, commercePool+".vttablet.extraFlags[db_charset=utf8]")}},
		{"init container without name", func(c *vitess.VitessCluster) {
			commercePool0(c).InitContainers = []corev1.Container{{Image: "busybox"}}
		}, []want{e(required, commercePool+".initContainers[0].name")}},
		{"more shards than a cluster may have", func(c *vitess.VitessCluster) { commerceEqual(c).Parts, commerceEqual(c).HexWidth = 65536, 16 },
			[]want{e(invalid, "spec.keyspaces"), e(invalid, "spec.keyspaces")}},
		{"more tablets than a cluster may have", func(c *vitess.VitessCluster) {
			commerceEqual(c).Parts = 1000
			commercePool0(c).Replicas = 5
		}, []want{e(invalid, "spec.keyspaces")}},
		{"invalid extra label", func(c *vitess.VitessCluster) {
			commercePool0(c).ExtraLabels = map[string]string{"tier": "not a label value"}
		}, []want{e(invalid, commercePool+".extraLabels")}},
		{"extra label in the server's domain", func(c *vitess.VitessCluster) {
			commercePool0(c).ExtraLabels = map[string]string{"planetscale.com/shard": "x-80", "etcd.planetscale.com/index": "1", "team.example.com/owner": "a"}
		}, []want{e(forbidden, commercePool+".extraLabels[etcd.planetscale.com/index]"), e(forbidden, commercePool+".extraLabels[planetscale.com/shard]")}},
		{"env var without name", func(c *vitess.VitessCluster) {
			commercePool0(c).Vttablet.ExtraEnv = []corev1.EnvVar{{Value: "x"}}
		}, []want{e(required, commercePool+".vttablet.extraEnv[0].name")}},
		{"cell removed while pools use it", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Name = "zone2"
			c.Spec.VitessDashboard.Cells = nil
		}, []want{e(notFound, commercePool+".cell"), e(notFound, customShards+"[0].tabletPools[0].cell"), e(notFound, customShards+"[1].tabletPools[0].cell")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validCluster()
			tc.mutate(c)
			checkErrors(t, ValidateVitessCluster(c), tc.want...)
		})
	}
}

func TestErrorMessagesReadWell(t *testing.T) {
	c := validCluster()
	setCustomer(c, "-40", "80-")
	commercePool0(c).Cell = "zone2"
	msg := ValidateVitessCluster(c).ToAggregate().Error()
	for _, part := range []string{
		`spec.keyspaces[1].partitionings[0].custom.shards[1].keyRange.start: Invalid value: "80": shard "80-" leaves a gap after the previous shard "-40": nothing would hold key range "40-80"`,
		`spec.keyspaces[0].partitionings[0].equal.shardTemplate.tabletPools[0].cell: Not found: "zone2": must be one of the cells declared in spec.cells: zone1`,
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("error message\n%s\ndoes not contain\n%s", msg, part)
		}
	}
}

func TestValidateVitessClusterUpdate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *vitess.VitessCluster)
		want   []want
	}{
		{"no change", func(c *vitess.VitessCluster) {}, nil},
		{"add a partitioning", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = append(c.Spec.Keyspaces[0].Partitionings, equal(2))
		}, nil},
		{"add a partitioning in front", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = append([]vitess.VitessKeyspacePartitioning{equal(2)}, c.Spec.Keyspaces[0].Partitionings...)
		}, nil},
		{"change a shard template", func(c *vitess.VitessCluster) {
			commercePool0(c).Replicas = 5
			commerceEqual(c).ShardTemplate.TabletPools = append(commerceEqual(c).ShardTemplate.TabletPools,
				vitess.VitessShardTabletPool{Cell: "zone1", Type: vitess.TabletPoolTypeRdonly, Replicas: 2})
		}, nil},
		{"equal to custom with the same key ranges", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{custom("-")}
			c.Spec.Keyspaces[1].Partitionings = []vitess.VitessKeyspacePartitioning{equal(2)}
		}, nil},
		{"rename a keyspace (remove and add)", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[1].Name = "customers"
			setCustomer(c, "-40", "40-")
		}, nil},
		{"remove a keyspace", func(c *vitess.VitessCluster) { c.Spec.Keyspaces = c.Spec.Keyspaces[:1] }, nil},
		{"default database name spelled out", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DatabaseName = "vt_commerce" }, nil},
		{"durability policy change", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DurabilityPolicy = "none" }, nil},

		{"change parts in place", func(c *vitess.VitessCluster) { commerceEqual(c).Parts = 2 }, []want{e(forbidden, commerceP0+".equal.parts")}},
		{"deployed etcd to an external lockserver", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver = vitess.LockserverSpec{External: &vitess.VitessLockserverParams{Implementation: "etcd2", Address: "etcd:2379", RootPath: "/vitess/global"}}
		}, []want{e(forbidden, "spec.globalLockserver.external")}},
		{"a cell's lockserver moved", func(c *vitess.VitessCluster) {
			c.Spec.Cells[0].Lockserver.External = &vitess.VitessLockserverParams{Implementation: "etcd2", Address: "etcd:2379", RootPath: "/vitess/zone1"}
		}, []want{e(forbidden, "spec.cells[0].lockserver.external")}},
		{"the deployed etcd's settings", func(c *vitess.VitessCluster) {
			c.Spec.GlobalLockserver.Etcd.Image = "quay.io/coreos/etcd:v3.5.18"
		}, nil},
		{"change custom shards in place", func(c *vitess.VitessCluster) { setCustomer(c, "-40", "40-") }, []want{e(forbidden, customerP0+".custom.shards")}},
		{"replace equal with a different custom", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{custom("-80", "80-")}
		}, []want{e(forbidden, commerceP0)}},
		{"remove one partitioning and add another", func(c *vitess.VitessCluster) {
			c.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{equal(4), equal(2)}
		}, []want{e(forbidden, commerceP0+".equal.parts"), e(forbidden, commerce+".partitionings[1]")}},
		{"change hexWidth", func(c *vitess.VitessCluster) { commerceEqual(c).HexWidth = 4 }, []want{e(invalid, commerceP0+".equal.hexWidth")}},
		{"change database name", func(c *vitess.VitessCluster) { c.Spec.Keyspaces[0].DatabaseName = "commerce" }, []want{e(invalid, commerce+".databaseName")}},
		{"change metadata.name", func(c *vitess.VitessCluster) { c.Name = "other" }, []want{e(invalid, "metadata.name")}},
		{"no resourceVersion", func(c *vitess.VitessCluster) { c.ResourceVersion = "" }, []want{e(invalid, "metadata.resourceVersion")}},
		{"update validates the new object", func(c *vitess.VitessCluster) { commercePool0(c).Type = "master" }, []want{e(notSupported, commercePool+".type")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validCluster()
			c := validCluster()
			tc.mutate(c)
			checkErrors(t, ValidateVitessClusterUpdate(c, old), tc.want...)
		})
	}

	// The old partitionings are removed once the new ones serve: two separate updates.
	old := validCluster()
	mid := validCluster()
	mid.Spec.Keyspaces[0].Partitionings = append(mid.Spec.Keyspaces[0].Partitionings, equal(2))
	checkErrors(t, ValidateVitessClusterUpdate(mid, old))
	last := validCluster()
	last.Spec.Keyspaces[0].Partitionings = []vitess.VitessKeyspacePartitioning{equal(2)}
	checkErrors(t, ValidateVitessClusterUpdate(last, mid))
	checkErrors(t, ValidateVitessClusterUpdate(last, old), e(forbidden, commerceP0+".equal.parts"))
	// Aborting a reshard is removing the new partitioning.
	checkErrors(t, ValidateVitessClusterUpdate(old, mid))
}

// ---------------------------------------------------------------------------------------------
// The vitess-operator's example manifests, with only the apiVersion changed.

// examplesDir finds /work/shared/seed/operator-examples next to the repository.
func examplesDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root (go.mod) not found")
		}
		dir = parent
	}
	examples := filepath.Join(dir, "..", "shared", "seed", "operator-examples")
	if _, err := os.Stat(examples); err != nil {
		t.Skipf("operator examples not available: %v", err)
	}
	return examples
}

// loadExample decodes the VitessCluster of an example manifest into the internal type, as the
// API server would: decode v1alpha1, default, convert.
func loadExample(t *testing.T, dir, file string) *vitess.VitessCluster {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---") {
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if meta.Kind != "VitessCluster" {
			continue
		}
		if meta.APIVersion != "planetscale.com/v2" {
			t.Fatalf("%s: apiVersion %q", file, meta.APIVersion)
		}
		doc = strings.Replace(doc, "apiVersion: planetscale.com/v2", "apiVersion: "+v1alpha1.SchemeGroupVersion.String(), 1)
		var versioned v1alpha1.VitessCluster
		if err := yaml.UnmarshalStrict([]byte(doc), &versioned); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if versioned.APIVersion != "vitess.planetscale.com/v1alpha1" {
			t.Fatalf("%s: apiVersion not swapped: %q", file, versioned.APIVersion)
		}
		v1alpha1.SetObjectDefaults_VitessCluster(&versioned)
		var internal vitess.VitessCluster
		if err := v1alpha1.Convert_v1alpha1_VitessCluster_To_vitess_VitessCluster(&versioned, &internal, nil); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		internal.ResourceVersion = "1" // as stored
		return &internal
	}
	t.Fatalf("%s has no VitessCluster", file)
	return nil
}

var exampleChain = []string{"101_initial_cluster.yaml", "201_customer_tablets.yaml", "302_new_shards.yaml", "306_down_shard_0.yaml"}

func TestOperatorExamples(t *testing.T) {
	dir := examplesDir(t)
	clusters := map[string]*vitess.VitessCluster{}
	for _, file := range exampleChain {
		c := loadExample(t, dir, file)
		clusters[file] = c
		t.Run("create "+file, func(t *testing.T) {
			checkErrors(t, ValidateVitessCluster(c))
		})
	}
	for i := 1; i < len(exampleChain); i++ {
		from, to := exampleChain[i-1], exampleChain[i]
		t.Run("update "+from+" to "+to, func(t *testing.T) {
			checkErrors(t, ValidateVitessClusterUpdate(clusters[to], clusters[from]))
		})
	}

	// What the examples amount to.
	var shards []string
	for _, s := range clusters["302_new_shards.yaml"].Spec.Keyspaces[1].Shards() {
		shards = append(shards, s.Name)
	}
	if got := strings.Join(shards, " "); got != "-80 - 80-" {
		t.Errorf("302 customer shards = %s", got)
	}

	// Skipping the reshard: 201 straight to 306 swaps customer's shards at once.
	t.Run("update 201 to 306 refused", func(t *testing.T) {
		checkErrors(t, ValidateVitessClusterUpdate(clusters["306_down_shard_0.yaml"], clusters["201_customer_tablets.yaml"]),
			e(forbidden, "spec.keyspaces[1].partitionings[0].equal.parts"))
	})
	// Replacing parts: 1 with parts: 2 in one step.
	t.Run("update 101 to two parts refused", func(t *testing.T) {
		next := clusters["101_initial_cluster.yaml"].DeepCopy()
		next.Spec.Keyspaces[0].Partitionings[0].Equal.Parts = 2
		errs := ValidateVitessClusterUpdate(next, clusters["101_initial_cluster.yaml"])
		checkErrors(t, errs, e(forbidden, "spec.keyspaces[0].partitionings[0].equal.parts"))
		if len(errs) == 1 {
			for _, part := range []string{`cannot add partitioning [-80, 80-] while removing partitioning [-]`, `keyspace "commerce"`, "Reshard"} {
				if !strings.Contains(errs[0].Detail, part) {
					t.Errorf("detail %q does not mention %q", errs[0].Detail, part)
				}
			}
		}
	})
	// Going back is fine: removing the new partitioning aborts the reshard.
	t.Run("update 302 to 201", func(t *testing.T) {
		checkErrors(t, ValidateVitessClusterUpdate(clusters["201_customer_tablets.yaml"], clusters["302_new_shards.yaml"]))
	})
}

// ---------------------------------------------------------------------------------------------
// VitessCell, EtcdLockserver

func validCell() *vitess.VitessCell {
	return &vitess.VitessCell{
		ObjectMeta: metav1.ObjectMeta{Name: "example-zone1", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessCellSpec{
			VitessCellTemplate: validCluster().Spec.Cells[0],
			GlobalLockserver:   vitess.VitessLockserverParams{Implementation: "etcd2", Address: "example-etcd-client:2379", RootPath: "/vitess/example/global"},
			ExtraVitessFlags:   map[string]string{"logtostderr": "true"},
		},
	}
}

func TestValidateVitessCell(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *vitess.VitessCell)
		want   []want
	}{
		{"valid", func(c *vitess.VitessCell) {}, nil},
		{"name with dots", func(c *vitess.VitessCell) { c.Name = "example.zone1" }, nil},
		{"invalid object name", func(c *vitess.VitessCell) { c.Name = "Example" }, []want{e(invalid, "metadata.name")}},
		{"no cell name", func(c *vitess.VitessCell) { c.Spec.Name = "" }, []want{e(required, "spec.name")}},
		{"invalid cell name", func(c *vitess.VitessCell) { c.Spec.Name = "zone 1" }, []want{e(invalid, "spec.name")}},
		{"negative replicas", func(c *vitess.VitessCell) { c.Spec.Gateway.Replicas = ptr.To[int32](-1) }, []want{e(invalid, "spec.gateway.replicas")}},
		{"static auth without key", func(c *vitess.VitessCell) { c.Spec.Gateway.Authentication.Static.Secret.Key = "" }, []want{e(required, "spec.gateway.authentication.static.secret.key")}},
		{"flag with dashes", func(c *vitess.VitessCell) { c.Spec.ExtraVitessFlags["--v"] = "1" }, []want{e(invalid, "spec.extraVitessFlags[--v]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validCell()
			tc.mutate(c)
			checkErrors(t, ValidateVitessCell(c), tc.want...)
		})
	}

	old := validCell()
	c := validCell()
	c.Spec.Zone = "us-east-1a"
	checkErrors(t, ValidateVitessCellUpdate(c, old))
	c.Spec.Name = "zone2"
	checkErrors(t, ValidateVitessCellUpdate(c, old), e(invalid, "spec.name"))
}

func validEtcd() *vitess.EtcdLockserver {
	return &vitess.EtcdLockserver{
		ObjectMeta: metav1.ObjectMeta{Name: "example-etcd", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.EtcdLockserverSpec{
			EtcdLockserverTemplate: vitess.EtcdLockserverTemplate{
				Image:                   "quay.io/coreos/etcd:v3.5.17",
				ImagePullPolicy:         corev1.PullIfNotPresent,
				DataVolumeClaimTemplate: storage("1Gi"),
				ExtraFlags:              map[string]string{"auto-compaction-retention": "1"},
				CreatePDB:               ptr.To(true),
			},
		},
	}
}

func TestValidateEtcdLockserver(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *vitess.EtcdLockserver)
		want   []want
	}{
		{"valid", func(c *vitess.EtcdLockserver) {}, nil},
		{"no namespace", func(c *vitess.EtcdLockserver) { c.Namespace = "" }, []want{e(required, "metadata.namespace")}},
		{"volume without size", func(c *vitess.EtcdLockserver) { c.Spec.DataVolumeClaimTemplate = &corev1.PersistentVolumeClaimSpec{} }, []want{
			e(required, "spec.dataVolumeClaimTemplate.resources.requests[storage]"),
		}},
		{"flag with dash", func(c *vitess.EtcdLockserver) { c.Spec.ExtraFlags["-quota-backend-bytes"] = "1" }, []want{e(invalid, "spec.extraFlags[-quota-backend-bytes]")}},
		{"unknown pull policy", func(c *vitess.EtcdLockserver) { c.Spec.ImagePullPolicy = "Maybe" }, []want{e(notSupported, "spec.imagePullPolicy")}},
		{"invalid zone", func(c *vitess.EtcdLockserver) { c.Spec.Zone = "-zone-" }, []want{e(invalid, "spec.zone")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validEtcd()
			tc.mutate(c)
			checkErrors(t, ValidateEtcdLockserver(c), tc.want...)
		})
	}
	old, c := validEtcd(), validEtcd()
	c.Spec.Image = "quay.io/coreos/etcd:v3.5.18"
	checkErrors(t, ValidateEtcdLockserverUpdate(c, old))
	c.Spec.ExtraFlags = map[string]string{"": ""}
	checkErrors(t, ValidateEtcdLockserverUpdate(c, old), e(invalid, "spec.extraFlags[]"))
}

// ---------------------------------------------------------------------------------------------
// VitessKeyspace, VitessShard

func validKeyspace() *vitess.VitessKeyspace {
	return &vitess.VitessKeyspace{
		ObjectMeta: metav1.ObjectMeta{Name: "example-customer", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessKeyspaceSpec{
			VitessKeyspaceTemplate: validCluster().Spec.Keyspaces[1],
			Cluster:                "example",
			ZoneMap:                map[string]string{"zone1": "", "zone2": "us-east-1b"},
		},
	}
}

func TestValidateVitessKeyspace(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(k *vitess.VitessKeyspace)
		want   []want
	}{
		{"valid", func(k *vitess.VitessKeyspace) {}, nil},
		{"pools in any cell", func(k *vitess.VitessKeyspace) {
			k.Spec.Partitionings[0].Custom.Shards[0].TabletPools[0].Cell = "zone7"
			k.Spec.Partitionings[0].Custom.Shards[0].TabletPools[0].BackupLocationName = "somewhere"
		}, nil},
		{"no cluster", func(k *vitess.VitessKeyspace) { k.Spec.Cluster = "" }, []want{e(required, "spec.cluster")}},
		{"invalid keyspace name", func(k *vitess.VitessKeyspace) { k.Spec.Name = "customer_db" }, []want{e(invalid, "spec.name")}},
		{"gap", func(k *vitess.VitessKeyspace) {
			k.Spec.Partitionings = []vitess.VitessKeyspacePartitioning{custom("-40", "80-")}
		}, []want{e(invalid, "spec.partitionings[0].custom.shards[1].keyRange.start")}},
		{"zero parts", func(k *vitess.VitessKeyspace) {
			k.Spec.Partitionings = []vitess.VitessKeyspacePartitioning{equal(0)}
		}, []want{e(invalid, "spec.partitionings[0].equal.parts")}},
		{"invalid zone", func(k *vitess.VitessKeyspace) { k.Spec.ZoneMap["zone1"] = "us east" }, []want{e(invalid, "spec.zoneMap[zone1]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := validKeyspace()
			tc.mutate(k)
			checkErrors(t, ValidateVitessKeyspace(k), tc.want...)
		})
	}

	old := validKeyspace()
	k := validKeyspace()
	k.Spec.Partitionings = append(k.Spec.Partitionings, custom("-40", "40-80", "80-"))
	k.Spec.DurabilityPolicy = "semi_sync"
	checkErrors(t, ValidateVitessKeyspaceUpdate(k, old))
	k.Spec.Name = "customers"
	k.Spec.Cluster = "other"
	checkErrors(t, ValidateVitessKeyspaceUpdate(k, old), e(invalid, "spec.name"), e(invalid, "spec.cluster"))
}

func validShard() *vitess.VitessShard {
	return &vitess.VitessShard{
		ObjectMeta: metav1.ObjectMeta{Name: "example-customer-x-80", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessShardSpec{
			VitessShardTemplate: shardTemplate(),
			Name:                "-80",
			KeyspaceName:        "customer",
			KeyRange:            vitess.VitessKeyRange{End: "80"},
			Cluster:             "example",
			DurabilityPolicy:    "semi_sync",
		},
	}
}

func TestValidateVitessShard(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(s *vitess.VitessShard)
		want   []want
	}{
		{"valid", func(s *vitess.VitessShard) {}, nil},
		{"legacy unsharded name", func(s *vitess.VitessShard) { s.Spec.Name, s.Spec.KeyRange = "0", vitess.VitessKeyRange{} }, nil},
		{"full range", func(s *vitess.VitessShard) { s.Spec.Name, s.Spec.KeyRange = "-", vitess.VitessKeyRange{} }, nil},
		{"no name", func(s *vitess.VitessShard) { s.Spec.Name = "" }, []want{e(required, "spec.name")}},
		{"name does not match key range", func(s *vitess.VitessShard) { s.Spec.Name = "80-" }, []want{e(invalid, "spec.name")}},
		{"name not canonical", func(s *vitess.VitessShard) { s.Spec.Name, s.Spec.KeyRange.End = "-8A", "8A" }, []want{e(invalid, "spec.name")}},
		{"name 0 for a partial range", func(s *vitess.VitessShard) { s.Spec.Name = "0" }, []want{e(invalid, "spec.name")}},
		{"bad key range end", func(s *vitess.VitessShard) { s.Spec.KeyRange.End = "8" }, []want{e(invalid, "spec.keyRange.end")}},
		{"empty key range", func(s *vitess.VitessShard) {
			s.Spec.Name, s.Spec.KeyRange = "80-80", vitess.VitessKeyRange{Start: "80", End: "80"}
		}, []want{
			e(invalid, "spec.keyRange"),
		}},
		{"no keyspace", func(s *vitess.VitessShard) { s.Spec.KeyspaceName = "" }, []want{e(required, "spec.keyspaceName")}},
		{"invalid cluster", func(s *vitess.VitessShard) { s.Spec.Cluster = "Example" }, []want{e(invalid, "spec.cluster")}},
		{"unknown durability", func(s *vitess.VitessShard) { s.Spec.DurabilityPolicy = "paxos" }, []want{e(notSupported, "spec.durabilityPolicy")}},
		{"no init script secret", func(s *vitess.VitessShard) { s.Spec.DatabaseInitScriptSecret.Name = "" }, []want{e(required, "spec.databaseInitScriptSecret.name")}},
		{"pool type", func(s *vitess.VitessShard) { s.Spec.TabletPools[0].Type = "spare" }, []want{e(notSupported, "spec.tabletPools[0].type")}},
		{"pool with one of the shard's backup locations", func(s *vitess.VitessShard) {
			s.Spec.BackupLocations = []vitess.VitessBackupLocation{{Name: "nightly", Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
			s.Spec.TabletPools[0].BackupLocationName = "nightly"
		}, nil},
		{"pool with a backup location the shard lacks", func(s *vitess.VitessShard) {
			s.Spec.TabletPools[0].BackupLocationName = "nightly"
		}, []want{e(notFound, "spec.tabletPools[0].backupLocationName")}},
		{"bad backup location and engine", func(s *vitess.VitessShard) {
			s.Spec.BackupLocations = []vitess.VitessBackupLocation{{Name: "nightly"}}
			s.Spec.BackupEngine = "mysqldump"
		}, []want{e(required, "spec.backupLocations[0]"), e(notSupported, "spec.backupEngine")}},
		{"backup retention", func(s *vitess.VitessShard) {
			s.Spec.BackupRetention = &vitess.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: time.Hour}, MinRetentionCount: 1}
		}, nil},
		{"bad backup retention", func(s *vitess.VitessShard) {
			s.Spec.BackupRetention = &vitess.VitessBackupRetention{MinRetentionCount: 0}
		}, []want{e(required, "spec.backupRetention.minRetentionTime"), e(invalid, "spec.backupRetention.minRetentionCount")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validShard()
			tc.mutate(s)
			checkErrors(t, ValidateVitessShard(s), tc.want...)
		})
	}

	old := validShard()
	s := validShard()
	s.Spec.TabletPools[0].Replicas = 5
	s.Spec.ExtraVitessFlags = map[string]string{"queryserver-config-pool-size": "32"}
	checkErrors(t, ValidateVitessShardUpdate(s, old))
	s.Spec.Name, s.Spec.KeyRange = "-40", vitess.VitessKeyRange{End: "40"}
	s.Spec.KeyspaceName = "commerce"
	s.Spec.Cluster = "other"
	checkErrors(t, ValidateVitessShardUpdate(s, old),
		e(invalid, "spec.name"), e(invalid, "spec.keyRange"), e(invalid, "spec.keyspaceName"), e(invalid, "spec.cluster"))
}

// ---------------------------------------------------------------------------------------------
// VitessWorkflow

func moveTables() *vitess.VitessWorkflow {
	return &vitess.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: "commerce2customer", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessWorkflowSpec{
			Type:           vitess.WorkflowTypeMoveTables,
			Cluster:        "example",
			TargetKeyspace: "customer",
			SourceKeyspace: "commerce",
			Tables:         []string{"customer", "corder"},
			VitessWorkflowOptions: vitess.VitessWorkflowOptions{
				OnDDL:     "IGNORE",
				AutoStart: ptr.To(true),
			},
		},
	}
}

func reshard() *vitess.VitessWorkflow {
	return &vitess.VitessWorkflow{
		ObjectMeta: metav1.ObjectMeta{Name: "cust2cust", Namespace: "example", ResourceVersion: "1"},
		Spec: vitess.VitessWorkflowSpec{
			Type:           vitess.WorkflowTypeReshard,
			Cluster:        "example",
			TargetKeyspace: "customer",
			SourceShards:   []string{"-"},
			TargetShards:   []string{"-80", "80-"},
			VitessWorkflowOptions: vitess.VitessWorkflowOptions{
				TabletTypes: []string{"rdonly", "replica"},
			},
		},
	}
}

func TestValidateVitessWorkflow(t *testing.T) {
	tests := []struct {
		name string
		wf   func() *vitess.VitessWorkflow
		mut  func(w *vitess.VitessWorkflowSpec)
		want []want
	}{
		{"valid MoveTables", moveTables, func(w *vitess.VitessWorkflowSpec) {}, nil},
		{"MoveTables allTables", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables, w.AllTables = nil, true }, nil},
		{"valid Reshard", reshard, func(w *vitess.VitessWorkflowSpec) {}, nil},
		{"Reshard from legacy shard 0", reshard, func(w *vitess.VitessWorkflowSpec) { w.SourceShards = []string{"0"} }, nil},
		{"Reshard of half the keyspace", reshard, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards, w.TargetShards = []string{"-80"}, []string{"40-80", "-40"}
		}, nil},
		{"Reshard merge", reshard, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards, w.TargetShards = []string{"-80", "80-"}, []string{"-"}
		}, nil},
		{"Reshard naming the keyspace as source", reshard, func(w *vitess.VitessWorkflowSpec) { w.SourceKeyspace = "customer" }, nil},
		{"tablet types in any case", reshard, func(w *vitess.VitessWorkflowSpec) { w.TabletTypes = []string{"PRIMARY", "Replica"} }, nil},

		{"no type", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Type = "" }, []want{e(required, "spec.type")}},
		{"unknown type", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Type = "Migrate" }, []want{e(notSupported, "spec.type")}},
		{"no cluster", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Cluster = "" }, []want{e(required, "spec.cluster")}},
		{"invalid target keyspace", moveTables, func(w *vitess.VitessWorkflowSpec) { w.TargetKeyspace = "Customer" }, []want{e(invalid, "spec.targetKeyspace")}},
		{"no target keyspace", reshard, func(w *vitess.VitessWorkflowSpec) { w.TargetKeyspace = "" }, []want{e(required, "spec.targetKeyspace")}},
		{"MoveTables without source", moveTables, func(w *vitess.VitessWorkflowSpec) { w.SourceKeyspace = "" }, []want{e(required, "spec.sourceKeyspace")}},
		{"MoveTables within one keyspace", moveTables, func(w *vitess.VitessWorkflowSpec) { w.SourceKeyspace = "customer" }, []want{e(invalid, "spec.sourceKeyspace")}},
		{"MoveTables tables and allTables", moveTables, func(w *vitess.VitessWorkflowSpec) { w.AllTables = true }, []want{e(forbidden, "spec.tables")}},
		{"MoveTables nothing to move", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = nil }, []want{e(required, "spec.tables")}},
		{"MoveTables duplicate table", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = []string{"corder", "corder"} }, []want{e(duplicate, "spec.tables[1]")}},
		{"MoveTables table with a dash", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = []string{"c-order"} }, []want{e(invalid, "spec.tables[0]")}},
		{"MoveTables table of digits", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = []string{"123"} }, []want{e(invalid, "spec.tables[0]")}},
		{"MoveTables table name too long", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = []string{strings.Repeat("t", 65)} }, []want{e(invalid, "spec.tables[0]")}},
		{"MoveTables empty table name", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Tables = []string{""} }, []want{e(invalid, "spec.tables[0]")}},
		{"MoveTables with shards", moveTables, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards, w.TargetShards = []string{"-"}, []string{"-"}
		}, []want{e(forbidden, "spec.sourceShards"), e(forbidden, "spec.targetShards")}},
		{"Reshard without source shards", reshard, func(w *vitess.VitessWorkflowSpec) { w.SourceShards = nil }, []want{e(required, "spec.sourceShards")}},
		{"Reshard without target shards", reshard, func(w *vitess.VitessWorkflowSpec) { w.TargetShards = nil }, []want{e(required, "spec.targetShards")}},
		{"Reshard bad shard name", reshard, func(w *vitess.VitessWorkflowSpec) { w.TargetShards = []string{"-8", "8-"} }, []want{
			e(invalid, "spec.targetShards[0]"), e(invalid, "spec.targetShards[1]"),
		}},
		{"Reshard target gap", reshard, func(w *vitess.VitessWorkflowSpec) { w.TargetShards = []string{"-40", "80-"} }, []want{e(invalid, "spec.targetShards")}},
		{"Reshard target overlap", reshard, func(w *vitess.VitessWorkflowSpec) { w.TargetShards = []string{"-80", "40-"} }, []want{e(invalid, "spec.targetShards")}},
		{"Reshard source gap", reshard, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards = []string{"-40", "c0-"}
		}, []want{e(invalid, "spec.sourceShards")}},
		{"Reshard different ranges", reshard, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards, w.TargetShards = []string{"-80"}, []string{"-40", "40-"}
		}, []want{e(invalid, "spec.targetShards")}},
		{"Reshard shard on both sides", reshard, func(w *vitess.VitessWorkflowSpec) {
			w.SourceShards, w.TargetShards = []string{"-80", "80-"}, []string{"-40", "40-80", "80-"}
		}, []want{e(invalid, "spec.targetShards[2]")}},
		{"Reshard duplicate source shard", reshard, func(w *vitess.VitessWorkflowSpec) { w.SourceShards = []string{"-", "0"} }, []want{e(duplicate, "spec.sourceShards[1]")}},
		{"Reshard with tables", reshard, func(w *vitess.VitessWorkflowSpec) { w.Tables, w.AllTables = []string{"corder"}, true }, []want{
			e(forbidden, "spec.tables"), e(forbidden, "spec.allTables"),
		}},
		{"Reshard across keyspaces", reshard, func(w *vitess.VitessWorkflowSpec) { w.SourceKeyspace = "commerce" }, []want{e(invalid, "spec.sourceKeyspace")}},
		{"unknown tablet type", reshard, func(w *vitess.VitessWorkflowSpec) { w.TabletTypes = []string{"master"} }, []want{e(notSupported, "spec.tabletTypes[0]")}},
		{"duplicate tablet type", reshard, func(w *vitess.VitessWorkflowSpec) { w.TabletTypes = []string{"replica", "REPLICA"} }, []want{e(duplicate, "spec.tabletTypes[1]")}},
		{"unknown onDDL", moveTables, func(w *vitess.VitessWorkflowSpec) { w.OnDDL = "ignore" }, []want{e(notSupported, "spec.onDDL")}},
		{"invalid cell", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Cells = []string{"zone 1"} }, []want{e(invalid, "spec.cells[0]")}},
		{"duplicate cell", moveTables, func(w *vitess.VitessWorkflowSpec) { w.Cells = []string{"zone1", "zone1"} }, []want{e(duplicate, "spec.cells[1]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := tc.wf()
			tc.mut(&w.Spec)
			checkErrors(t, ValidateVitessWorkflow(w), tc.want...)
		})
	}

	old := moveTables()
	w := moveTables()
	w.Labels = map[string]string{"team": "orders"}
	checkErrors(t, ValidateVitessWorkflowUpdate(w, old))
	w.Spec.Tables = append(w.Spec.Tables, "product")
	errs := ValidateVitessWorkflowUpdate(w, old)
	checkErrors(t, errs, e(forbidden, "spec"))
	if len(errs) == 1 && errs[0].Detail != "spec is immutable; create a new workflow" {
		t.Errorf("detail = %q", errs[0].Detail)
	}
}

// ---------------------------------------------------------------------------------------------
// Fuzzing partitionings

// fuzzBound returns the value of a bound as Vitess compares it: bytes without trailing zeros.
func fuzzBound(t *testing.T, s string) string {
	var b []byte
	for i := 0; i+1 < len(s); i += 2 {
		var v byte
		if _, err := fmt.Sscanf(strings.ToLower(s[i:i+2]), "%02x", &v); err != nil {
			t.Fatalf("accepted bound %q is not hex: %v", s, err)
		}
		b = append(b, v)
	}
	return strings.TrimRight(string(b), "\x00")
}

func FuzzValidateVitessCluster(f *testing.F) {
	f.Add(int32(1), int32(0), "-")
	f.Add(int32(2), int32(4), "-80,80-")
	f.Add(int32(3), int32(2), "-55,55-aa,aa-")
	f.Add(int32(300), int32(2), "-8000,80-")
	f.Add(int32(0), int32(3), "-40,80-")
	f.Add(int32(65537), int32(-2), "80-,-80")
	f.Add(int32(4), int32(16), "-80,-80,80-")
	f.Add(int32(2), int32(0), "-8,8-")
	f.Add(int32(2), int32(0), "00-80,80-ff")
	f.Add(int32(1), int32(0), "")
	f.Fuzz(func(t *testing.T, parts, hexWidth int32, shards string) {
		if len(shards) > 512 {
			return
		}
		c := validCluster()
		ks := &c.Spec.Keyspaces[1]
		eq := equal(parts)
		eq.Equal.HexWidth = hexWidth
		ks.Partitionings = []vitess.VitessKeyspacePartitioning{eq}
		if shards != "" {
			ks.Partitionings = append(ks.Partitionings, custom(strings.Split(shards, ",")...))
		}
		errs := ValidateVitessCluster(c)

		customPath := customer + ".partitionings[1]"
		equalPath := customer + ".partitionings[0].equal"
		customOK, equalOK := shards != "", true
		for _, err := range errs {
			switch {
			case strings.HasPrefix(err.Field, customPath):
				customOK = false
			case strings.HasPrefix(err.Field, equalPath):
				equalOK = false
			case strings.HasPrefix(err.Field, customer+".partitionings"):
				// Cross-partitioning errors: neither alone is to blame.
			case err.Field == "spec.keyspaces" && strings.Contains(err.Detail, "one VitessCluster may have at most"):
				// The cluster's size bound, which a large partitioning reaches.
			default:
				t.Fatalf("unexpected error outside the fuzzed partitionings: %v", err)
			}
		}

		if equalOK {
			if parts < 1 || parts > vitess.MaxEqualParts {
				t.Fatalf("accepted parts %d", parts)
			}
			if hexWidth != 0 && (hexWidth%2 != 0 || hexWidth < 2 || hexWidth > 16 || (hexWidth == 2 && parts > 256)) {
				t.Fatalf("accepted hexWidth %d for %d parts", hexWidth, parts)
			}
		}
		if customOK {
			// The accepted shards, in the order listed, must tile the keyspace exactly.
			listed := ks.Partitionings[1].Custom.Shards
			if listed[0].KeyRange.Start != "" || listed[len(listed)-1].KeyRange.End != "" {
				t.Fatalf("accepted %q, which does not span the keyspace", shards)
			}
			for i, s := range listed {
				start, end := fuzzBound(t, s.KeyRange.Start), fuzzBound(t, s.KeyRange.End)
				if s.KeyRange.End != "" && start >= end {
					t.Fatalf("accepted %q: shard %d is empty", shards, i)
				}
				if i > 0 {
					prev := listed[i-1].KeyRange
					if prev.End == "" || fuzzBound(t, prev.End) != start {
						t.Fatalf("accepted %q: shards %d and %d are not adjacent", shards, i-1, i)
					}
				}
			}
			union, err := vitess.KeyRangeUnion(ks.Partitionings[1].KeyRanges())
			if err != nil || !union.IsFull() {
				t.Fatalf("accepted %q: union %v, %v", shards, union, err)
			}
		}

		// Whatever was accepted, the reconciler's view must not panic, and adding the custom
		// partitioning to a cluster that had only the equal one is a valid update if both are.
		if parts <= 1024 { // a deep copy of the template per shard: slow for huge partitionings
			_ = ks.Shards()
		}
		old := c.DeepCopy()
		old.Spec.Keyspaces[1].Partitionings = old.Spec.Keyspaces[1].Partitionings[:1]
		updateErrs := ValidateVitessClusterUpdate(c, old)
		if len(errs) == 0 {
			checkErrors(t, updateErrs)
		}
	})
}
