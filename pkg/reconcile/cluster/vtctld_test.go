package cluster

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

func TestVtctld(t *testing.T) {
	cluster := exampleCluster()
	cluster.Spec.VitessDashboard = &v1alpha1.VitessDashboardSpec{Replicas: ptr.To[int32](2)}
	cluster.Spec.VitessDashboard.ExtraFlags = map[string]string{"security-policy": "read-only"}
	if cells := vtctldCells(cluster); !slices.Equal(cells, []string{"zone1"}) {
		t.Errorf("vtctld cells default to every cell: %v", cells)
	}
	deployment := vtctldDeployment(cluster, "zone1")
	if deployment.Name != "example-zone1-vtctld-1d4dcad0" || *deployment.Spec.Replicas != 2 {
		t.Errorf("deployment %s with %d replicas", deployment.Name, *deployment.Spec.Replicas)
	}
	args := deployment.Spec.Template.Spec.Containers[0].Args
	for _, want := range []string{"--cell=zone1", "--topo-implementation=etcd2", "--topo-global-root=/vitess/example/global",
		"--topo-global-server-address=example-etcd-faf13de3-client.example.svc:2379", "--security-policy=read-only"} {
		if !slices.Contains(args, want) {
			t.Errorf("vtctld args lack %s: %v", want, args)
		}
	}
	if service := vtctldService(cluster); service.Name != "example-vtctld-625ee430" || service.Spec.Selector[vitess.LabelComponent] != "vtctld" {
		t.Errorf("service %s selecting %v", service.Name, service.Spec.Selector)
	}
	before := deployment.Annotations[vitess.AnnotationSpecHash]
	cluster.Spec.Images.Vtctld = "vitess/lite:v24.0.1"
	if vtctldDeployment(cluster, "zone1").Annotations[vitess.AnnotationSpecHash] == before {
		t.Errorf("a new image kept the deployment's hash")
	}
}

// vtctld reaches the first backup location, as the vitess-operator's does, and the cluster's shards
// carry every location for their pools to choose from, and the retention that prunes their backups.
func TestBackupLocationsReachVtctldAndShards(t *testing.T) {
	cluster := exampleCluster()
	cluster.Spec.Backup = &v1alpha1.ClusterBackupSpec{Engine: v1alpha1.VitessBackupEngineBuiltin, Locations: []v1alpha1.VitessBackupLocation{
		{S3: &v1alpha1.S3BackupLocation{Region: "us-east-1", Bucket: "vitess", AuthSecret: &v1alpha1.SecretSource{Name: "s3-auth", Key: "credentials"}},
			Annotations: map[string]string{"backup.example.com/tier": "hot"}},
		{Name: "local", Volume: &corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}, Retention: &v1alpha1.VitessBackupRetention{MinRetentionTime: &metav1.Duration{Duration: 24 * time.Hour}, MinRetentionCount: 2}}
	pod := vtctldDeployment(cluster, "zone1").Spec.Template
	container := pod.Spec.Containers[0]
	for _, want := range []string{"--backup-storage-implementation=s3", "--s3-backup-storage-bucket=vitess", "--s3-backup-storage-root=example", "--backup-engine-implementation=builtin"} {
		if !slices.Contains(container.Args, want) {
			t.Errorf("vtctld args lack %s: %v", want, container.Args)
		}
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].Secret == nil || pod.Spec.Volumes[0].Secret.SecretName != "s3-auth" {
		t.Errorf("vtctld volumes %+v, want the S3 credentials' Secret alone", pod.Spec.Volumes)
	}
	if len(container.VolumeMounts) != 1 || !container.VolumeMounts[0].ReadOnly || len(container.Env) != 1 || container.Env[0].Value != "/vt/secrets/s3-backup-auth/credentials" {
		t.Errorf("vtctld mounts %+v, env %+v", container.VolumeMounts, container.Env)
	}
	if pod.Annotations["backup.example.com/tier"] != "hot" {
		t.Errorf("vtctld Pod annotations %v lack the location's", pod.Annotations)
	}

	children, err := desiredChildren(cluster)
	if err != nil {
		t.Fatal(err)
	}
	for _, shards := range children.Shards {
		for _, shard := range shards {
			if len(shard.Spec.BackupLocations) != 2 || shard.Spec.BackupLocations[1].Name != "local" || shard.Spec.BackupEngine != "builtin" {
				t.Errorf("shard %s backup locations %+v, engine %q", shard.Name, shard.Spec.BackupLocations, shard.Spec.BackupEngine)
			}
			if !apiequality.Semantic.DeepEqual(shard.Spec.BackupRetention, cluster.Spec.Backup.Retention) || shard.Spec.BackupRetention == cluster.Spec.Backup.Retention {
				t.Errorf("shard %s backup retention %+v, want a copy of the cluster's", shard.Name, shard.Spec.BackupRetention)
			}
		}
	}
}
