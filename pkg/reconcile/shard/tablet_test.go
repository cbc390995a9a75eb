package shard

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
)

// exampleShard is the commerce shard of the operator's example cluster, as the cluster
// controller makes it, with VTOrc, a claim template and mysqld overrides.
func exampleShard(t *testing.T) *v1alpha1.VitessShard {
	t.Helper()
	return &v1alpha1.VitessShard{
		ObjectMeta: metav1.ObjectMeta{
			Name: "example-commerce-x-x-0f5afee6", Namespace: "example", UID: "shard-uid",
			Labels: map[string]string{vitess.LabelCluster: "example", vitess.LabelKeyspace: "commerce", vitess.LabelShard: "x-x"},
		},
		Spec: v1alpha1.VitessShardSpec{
			VitessShardTemplate: v1alpha1.VitessShardTemplate{
				DatabaseInitScriptSecret: v1alpha1.SecretSource{Name: "example-cluster-config", Key: "init_db.sql"},
				TabletPools: []v1alpha1.VitessShardTabletPool{{
					Cell: "zone1", Type: v1alpha1.TabletPoolTypeReplica, Replicas: 3,
					DataVolumeClaimTemplate: &corev1.PersistentVolumeClaimSpec{
						AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
						Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("10Gi")}},
					},
					Mysqld: &v1alpha1.MysqldSpec{ConfigOverrides: "max_connections = 500"},
				}},
			},
			Name: "-", KeyspaceName: "commerce", Cluster: "example",
			GlobalLockserver: v1alpha1.VitessLockserverParams{
				Implementation: "etcd2", Address: "example-etcd-faf13de3-client.example.svc:2379", RootPath: "/vitess/example/global",
			},
			ZoneMap:            map[string]string{"zone1": "us-east-1a"},
			VitessOrchestrator: &v1alpha1.VitessOrchestratorSpec{},
		},
	}
}

// The pod and claim names are the operator's for its example cluster (see pkg/reconcile/names).
func TestTabletPods(t *testing.T) {
	shard := exampleShard(t)
	tablets := shardTablets(shard)
	var pods []string
	for _, tablet := range tablets {
		pods = append(pods, tabletPod(shard, tablet).Name)
	}
	want := []string{"example-vttablet-zone1-2548885007-46a852d0", "example-vttablet-zone1-2469782763-bfadd780", "example-vttablet-zone1-0790125915-4e37d9d5"}
	if !slices.Equal(pods, want) {
		t.Fatalf("tablet pods %v, want %v", pods, want)
	}

	pod := tabletPod(shard, tablets[0])
	if pod.Labels[vitess.LabelTabletUID] != "2548885007" || pod.Labels[vitess.LabelTabletType] != "replica" || pod.Labels[vitess.LabelShard] != "x-x" ||
		pod.Labels[vitess.LabelKeyspace] != "commerce" || pod.Labels[vitess.LabelComponent] != "vttablet" || pod.Labels[vitess.LabelCluster] != "example" {
		t.Errorf("labels %v", pod.Labels)
	}
	if ref := pod.OwnerReferences; len(ref) != 1 || ref[0].Kind != "VitessShard" || ref[0].UID != "shard-uid" {
		t.Errorf("owner %+v", ref)
	}
	if pod.Spec.NodeSelector[corev1.LabelTopologyZone] != "us-east-1a" {
		t.Errorf("the cell's zone is not selected: %v", pod.Spec.NodeSelector)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != objects.VitessUID {
		t.Errorf("pod security context %+v", sc)
	}
	containers := map[string]corev1.Container{}
	for _, c := range pod.Spec.Containers {
		containers[c.Name] = c
		if c.SecurityContext == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			t.Errorf("container %s may escalate privileges", c.Name)
		}
	}
	if len(containers) != 3 || len(pod.Spec.InitContainers) != 2 {
		t.Fatalf("containers %v, init containers %d", containers, len(pod.Spec.InitContainers))
	}
	for _, arg := range []string{"--tablet-path=zone1-2548885007", "--init-keyspace=commerce", "--init-shard=-", "--init-tablet-type=replica",
		"--tablet-hostname=$(POD_IP)", "--db-socket=/vt/socket/mysql.sock", "--topo-global-root=/vitess/example/global"} {
		if !slices.Contains(containers["vttablet"].Args, arg) {
			t.Errorf("vttablet lacks %s: %v", arg, containers["vttablet"].Args)
		}
	}
	if containers["vttablet"].ReadinessProbe == nil || containers["vttablet"].LivenessProbe == nil || containers["mysqld"].LivenessProbe == nil {
		t.Error("vttablet and mysqld need probes")
	}
	for _, arg := range []string{"--tablet-uid=2548885007", "--init-db-sql-file=/vt/secrets/db-init-script/init_db.sql", "--socket-file=/vt/socket/mysqlctl.sock"} {
		if !slices.Contains(containers["mysqld"].Args, arg) {
			t.Errorf("mysqlctld lacks %s: %v", arg, containers["mysqld"].Args)
		}
	}
	if !slices.Contains(containers["mysqld"].Env, corev1.EnvVar{Name: "EXTRA_MY_CNF", Value: mysqldOverridesCnf}) {
		t.Errorf("configOverrides are not given to mysqld: %v", containers["mysqld"].Env)
	}
	if !strings.Contains(pod.Spec.InitContainers[1].Command[2], "/vt/vtdataroot/vt_2548885007/mysql.sock") {
		t.Errorf("socket link: %v", pod.Spec.InitContainers[1].Command)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Spec.Volumes {
		volumes[v.Name] = v
	}
	if claim := volumes[volumeData].PersistentVolumeClaim; claim == nil || claim.ClaimName != pod.Name {
		t.Errorf("data volume %+v", volumes[volumeData])
	}
	if secret := volumes[volumeInitDB].Secret; secret == nil || secret.SecretName != "example-cluster-config" || secret.Items[0].Key != "init_db.sql" {
		t.Errorf("init_db.sql volume %+v", volumes[volumeInitDB])
	}

	pvc := tabletPVC(shard, tablets[0])
	if pvc.Name != pod.Name || len(pvc.OwnerReferences) != 0 || pvc.Spec.Resources.Requests.Storage().String() != "10Gi" {
		t.Errorf("pvc %s owners %v size %v", pvc.Name, pvc.OwnerReferences, pvc.Spec.Resources.Requests)
	}

	changed := shard.DeepCopy()
	changed.Spec.Images.Vttablet = "vitess/lite:v24.0.1"
	if tabletPod(changed, shardTablets(changed)[0]).Annotations[vitess.AnnotationSpecHash] == pod.Annotations[vitess.AnnotationSpecHash] {
		t.Error("a new image does not change the spec hash")
	}
}

func TestVtorc(t *testing.T) {
	shard := exampleShard(t)
	deployments := vtorcDeployments(shard)
	if len(deployments) != 1 || deployments[0].Name != "example-commerce-x-x-zone1-vtorc-c13ef6ff" {
		t.Fatalf("vtorc deployments %v", deployments)
	}
	if args := deployments[0].Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--clusters-to-watch=commerce/-") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--grpc-port") }) {
		t.Errorf("vtorc args %v", args)
	}
	shard.Spec.VitessOrchestrator = nil
	if deployments := vtorcDeployments(shard); len(deployments) != 0 {
		t.Errorf("vtorc without vitessOrchestrator: %v", deployments)
	}
}

// A pool's tablets reach the location it names and restore from it when they start without data;
// a pool that names none, or a shard without locations, runs as before.
func TestTabletBackupLocation(t *testing.T) {
	shard := exampleShard(t)
	before := tabletPod(shard, shardTablets(shard)[0])
	shard.Spec.BackupLocations = []v1alpha1.VitessBackupLocation{
		{Name: "nightly", Volume: &corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/backup"}}, VolumeSubPath: "vitess",
			Annotations: map[string]string{"backup.example.com/tier": "cold"}},
	}
	if pod := tabletPod(shard, shardTablets(shard)[0]); pod.Annotations[vitess.AnnotationSpecHash] != before.Annotations[vitess.AnnotationSpecHash] {
		t.Errorf("a location no pool names changed the tablet Pod")
	}
	shard.Spec.TabletPools[0].BackupLocationName = "nightly"
	pod := tabletPod(shard, shardTablets(shard)[0])
	vttablet := pod.Spec.Containers[0]
	for _, want := range []string{"--restore-from-backup=true", "--backup-storage-implementation=file", "--file-backup-storage-root=/vt/backups/example", "--backup-engine-implementation=builtin"} {
		if !slices.Contains(vttablet.Args, want) {
			t.Errorf("vttablet args lack %s: %v", want, vttablet.Args)
		}
	}
	if slices.ContainsFunc(vttablet.Args, func(arg string) bool { return strings.HasPrefix(arg, "--db-socket") }) {
		t.Errorf("vttablet args %v name mysqld's socket: vttablet then reads no my.cnf, and refuses to back up or restore", vttablet.Args)
	}
	if i := slices.IndexFunc(vttablet.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/vt/backups" }); i < 0 || vttablet.VolumeMounts[i].SubPath != "vitess" {
		t.Errorf("vttablet mounts %+v lack the backup volume's sub path", vttablet.VolumeMounts)
	}
	if !slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.HostPath != nil && v.HostPath.Path == "/backup" }) {
		t.Errorf("tablet Pod volumes %+v lack the backup volume", pod.Spec.Volumes)
	}
	if pod.Annotations["backup.example.com/tier"] != "cold" {
		t.Errorf("tablet Pod annotations %v lack the location's", pod.Annotations)
	}
	shard.Spec.TabletPools[0].Annotations = map[string]string{"backup.example.com/tier": "hot"}
	if pod := tabletPod(shard, shardTablets(shard)[0]); pod.Annotations["backup.example.com/tier"] != "hot" {
		t.Errorf("tablet Pod annotations %v: the pool's own should win over the location's", pod.Annotations)
	}
	for _, c := range pod.Spec.Containers[1:] {
		if slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.MountPath == "/vt/backups" }) {
			t.Errorf("container %s mounts the backups: only vttablet backs up and restores", c.Name)
		}
	}
}
