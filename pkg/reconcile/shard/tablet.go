package shard

import (
	"fmt"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8slabels "k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// A tablet is a Pod of three containers that share an emptyDir for their sockets: mysqld run by
// mysqlctld, vttablet in front of it, and a Prometheus exporter. mysqld's data lives on the
// tablet's PVC, which no object owns, so it outlives the Pod, the shard and the cluster.

const (
	vtDataRoot       = "/vt/vtdataroot"
	vtSocketDir      = "/vt/socket"
	mysqlctlSocket   = vtSocketDir + "/mysqlctl.sock"
	mysqlSocket      = vtSocketDir + "/mysql.sock"
	dbInitScriptDir  = "/vt/secrets/db-init-script"
	dbInitScriptFile = "init_db.sql"
	// The Vitess files mysqld's container needs (mysqlctld, the my.cnf templates) are copied
	// into a shared emptyDir, so that any MySQL image can run it.
	sharedVtDir        = "/mnt/vt"
	mysqldOverridesCnf = "/vt/config/overrides.cnf"
	exporterCnf        = "/vt/config/exporter.cnf"
	mysqldExporterPort = 9104

	volumeData     = "vtdataroot"
	volumeSocket   = "vt-socket"
	volumeSharedVt = "vt-shared"
	volumeInitDB   = "db-init-script"
	volumeTmp      = "tmp"
)

// tablet is one tablet a shard's pools declare.
type tablet struct {
	pool  *v1alpha1.VitessShardTabletPool
	index int32 // 1-based within its pool
	uid   uint32
}

func (t tablet) alias() string { return names.TabletAlias(t.pool.Cell, t.uid) }

// shardTablets are the shard's tablets, pool by pool, in index order.
func shardTablets(shard *v1alpha1.VitessShard) []tablet {
	keyRange := shard.Spec.KeyRange.Start + "-" + shard.Spec.KeyRange.End
	var tablets []tablet
	for i := range shard.Spec.TabletPools {
		pool := &shard.Spec.TabletPools[i]
		for index := int32(1); index <= pool.Replicas; index++ {
			uid := names.TabletUID(pool.Cell, shard.Spec.KeyspaceName, keyRange, string(pool.Type), uint32(index))
			tablets = append(tablets, tablet{pool: pool, index: index, uid: uid})
		}
	}
	return tablets
}

// shardLabels select the objects of one shard.
func shardLabels(shard *v1alpha1.VitessShard, component string) map[string]string {
	return map[string]string{
		vitess.LabelComponent: component,
		vitess.LabelCluster:   shard.Spec.Cluster,
		vitess.LabelKeyspace:  shard.Spec.KeyspaceName,
		vitess.LabelShard:     shard.Labels[vitess.LabelShard],
	}
}

func tabletLabels(shard *v1alpha1.VitessShard, t tablet) map[string]string {
	labels := shardLabels(shard, vitess.ComponentVttablet)
	labels[vitess.LabelCell] = t.pool.Cell
	labels[vitess.LabelTabletUID] = names.TabletUIDString(t.uid)
	labels[vitess.LabelTabletType] = string(t.pool.Type)
	labels[vitess.LabelTabletIndex] = strconv.Itoa(int(t.index))
	return labels
}

// tabletPVC is the claim for a tablet's data, made from its pool's template. It has no owner, so
// deleting the tablet, its shard or its cluster leaves the data in place.
func tabletPVC(shard *v1alpha1.VitessShard, t tablet) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{
			Name:      names.TabletPVCName(shard.Spec.Cluster, t.pool.Cell, t.uid),
			Namespace: shard.Namespace,
			Labels:    tabletLabels(shard, t),
		},
		Spec: *t.pool.DataVolumeClaimTemplate.DeepCopy(),
	}
}

func tabletPod(shard *v1alpha1.VitessShard, t tablet) *corev1.Pod {
	owner := ownedByShard(shard)
	spec, pool := &shard.Spec, t.pool
	name := names.TabletPodName(spec.Cluster, pool.Cell, t.uid)
	labels := tabletLabels(shard, t)
	for _, extra := range []map[string]string{spec.ExtraLabels, pool.ExtraLabels} {
		for k, v := range extra {
			labels[k] = v
		}
	}
	annotations := map[string]string{}
	for _, extra := range []map[string]string{spec.Annotations, pool.Annotations} {
		for k, v := range extra {
			annotations[k] = v
		}
	}
	uid := strconv.FormatUint(uint64(t.uid), 10)
	vttablet, mysqld, exporter := ptr.Deref(pool.Vttablet, v1alpha1.VttabletSpec{}), ptr.Deref(pool.Mysqld, v1alpha1.MysqldSpec{}), ptr.Deref(pool.MysqldExporter, v1alpha1.MysqldExporterSpec{})
	vitessImage := orDefault(spec.Images.Vttablet, vitess.DefaultVitessImage)
	vtEnv := []corev1.EnvVar{{Name: "VTROOT", Value: "/vt"}, {Name: "VTDATAROOT", Value: vtDataRoot}}

	tabletFlags := owner.VitessFlags(true)
	for flag, value := range map[string]string{
		"tablet-path":           t.alias(),
		"tablet-hostname":       "$(POD_IP)",
		"init-keyspace":         spec.KeyspaceName,
		"init-shard":            spec.Name,
		"init-tablet-type":      string(pool.Type),
		"health-check-interval": "5s",
		"mysqlctl-socket":       mysqlctlSocket,
		"db-socket":             mysqlSocket,
		"service-map":           "grpc-queryservice,grpc-tabletmanager,grpc-updatestream",
	} {
		tabletFlags[flag] = value
	}
	if spec.DatabaseName != "" {
		tabletFlags["init-db-name-override"] = spec.DatabaseName
	}
	backup := poolBackupStorage(shard, pool)
	if backup != nil {
		// A tablet that starts with no data (a new replica, or one whose claim was lost) restores
		// the shard's latest backup, then replicates from the primary; one that finds data on its
		// claim, or no backup to restore, starts as it would without a location.
		tabletFlags["restore-from-backup"] = "true"
		if spec.KeyspaceSnapshot != nil {
			// A snapshot's tablet that found no backup would start empty and serve nothing as if
			// it were the snapshot: it waits for one instead.
			tabletFlags["wait-for-backup-interval"] = "30s"
		}
		maps.Copy(tabletFlags, backup.Flags)
		// The location's annotations yield to the shard's and the pool's own, as vtctld's do.
		annotations = k8slabels.Merge(backup.Annotations, annotations)
		// vttablet backs up and restores only with mysqld's my.cnf in hand (it stops and starts
		// mysqld and copies its files), and reads it only when it is not given a socket: it finds
		// the my.cnf mysqlctld writes on the claim, and the socket named in it.
		delete(tabletFlags, "db-socket")
	}
	for _, extra := range []map[string]string{spec.ExtraVitessFlags, vttablet.ExtraFlags} {
		for flag, value := range extra {
			tabletFlags[flag] = value
		}
	}
	mysqlctldFlags := map[string]string{
		"tablet-uid":  uid,
		"socket-file": mysqlctlSocket,
		"mysql-port":  fmt.Sprint(objects.MysqlPort),
		"logtostderr": "true",
	}
	volumes := []corev1.Volume{
		{Name: volumeSocket, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volumeSharedVt, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volumeTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	if pool.DataVolumeClaimTemplate != nil {
		volumes = append(volumes, corev1.Volume{Name: volumeData, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: names.TabletPVCName(spec.Cluster, pool.Cell, t.uid)}}})
	} else {
		volumes = append(volumes, corev1.Volume{Name: volumeData, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}})
	}
	var tabletMounts []corev1.VolumeMount
	tabletEnv := append([]corev1.EnvVar{{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}}}, vtEnv...)
	if backup != nil {
		volumes = append(volumes, backup.Volumes...)
		tabletMounts = append(tabletMounts, backup.Mounts...)
		tabletEnv = append(tabletEnv, backup.Env...)
	}
	dataMount := corev1.VolumeMount{Name: volumeData, MountPath: vtDataRoot}
	socketMount := corev1.VolumeMount{Name: volumeSocket, MountPath: vtSocketDir}
	// The root filesystems are read-only, and mysqlctld writes a defaults file to /tmp for each
	// mysqladmin it runs: without a writable /tmp, its shutdown of mysqld on SIGTERM fails and
	// mysqld is killed instead, leaving crash recovery to the next start.
	tmpMount := corev1.VolumeMount{Name: volumeTmp, MountPath: "/tmp"}
	configMount := corev1.VolumeMount{Name: volumeSharedVt, MountPath: "/vt/config", SubPath: "config"}
	mysqldMounts := []corev1.VolumeMount{dataMount, socketMount, configMount, tmpMount,
		{Name: volumeSharedVt, MountPath: "/vt/bin", SubPath: "bin"}}
	if secret := spec.DatabaseInitScriptSecret; secret.Name != "" {
		volume := orDefault(secret.VolumeName, volumeInitDB)
		volumes = append(volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: secret.Name, Items: []corev1.KeyToPath{{Key: secret.Key, Path: dbInitScriptFile}}}}})
		mysqldMounts = append(mysqldMounts, corev1.VolumeMount{Name: volume, MountPath: dbInitScriptDir, ReadOnly: true})
		mysqlctldFlags["init-db-sql-file"] = dbInitScriptDir + "/" + dbInitScriptFile
	}
	mysqldEnv := append(append([]corev1.EnvVar{}, vtEnv...), corev1.EnvVar{Name: "VT_MYSQL_ROOT", Value: "/usr"})
	if mysqld.ConfigOverrides != "" {
		mysqldEnv = append(mysqldEnv, corev1.EnvVar{Name: "EXTRA_MY_CNF", Value: mysqldOverridesCnf})
	}

	// init-vt-root gives mysqld's container what it needs from the Vitess image; init-mysql-socket
	// links mysqld's socket, which lives in the data directory of the tablet's uid, to the fixed
	// path vttablet and the exporter use. It also removes the socket's lock file that a mysqld
	// killed before it could shut down leaves on the claim: it holds that mysqld's pid, which in
	// the new Pod's pid namespace may well belong to a live process (even a thread of the new
	// mysqld), and mysqld then refuses to start ("Another process ... is using unix socket
	// file"). No mysqld runs yet while init containers do.
	setup := fmt.Sprintf(`set -e
mkdir -p %[1]s/bin %[1]s/config
cp /vt/bin/mysqlctld %[1]s/bin/
cp -R /vt/config/. %[1]s/config/
printf '[client]\nuser=vt_dba\nsocket=%[2]s\n' > %[1]s/config/exporter.cnf
printf '%%s\n' "$MYSQLD_CONFIG_OVERRIDES" > %[1]s/config/overrides.cnf
`, sharedVtDir, mysqlSocket)
	initContainers := []corev1.Container{
		{
			Name: "init-vt-root", Image: vitessImage, ImagePullPolicy: spec.ImagePullPolicies.Vttablet,
			Command:         []string{"/bin/sh", "-c", setup},
			Env:             []corev1.EnvVar{{Name: "MYSQLD_CONFIG_OVERRIDES", Value: mysqld.ConfigOverrides}},
			VolumeMounts:    []corev1.VolumeMount{{Name: volumeSharedVt, MountPath: sharedVtDir}},
			SecurityContext: objects.RestrictedContainer(),
		},
		{
			Name: "init-mysql-socket", Image: vitessImage, ImagePullPolicy: spec.ImagePullPolicies.Vttablet,
			Command:         []string{"/bin/sh", "-c", fmt.Sprintf("rm -f %[1]s/mysql.sock.lock && ln -sf %[1]s/mysql.sock %[2]s", tabletDataDir(t), mysqlSocket)},
			VolumeMounts:    []corev1.VolumeMount{socketMount},
			SecurityContext: objects.RestrictedContainer(),
		},
	}
	exporterFlags := map[string]string{"config.my-cnf": exporterCnf, "web.listen-address": fmt.Sprintf(":%d", mysqldExporterPort)}
	for flag, value := range exporter.ExtraFlags {
		exporterFlags[flag] = value
	}
	containers := []corev1.Container{
		{
			Name: vitess.ComponentVttablet, Image: vitessImage, ImagePullPolicy: spec.ImagePullPolicies.Vttablet,
			Command: []string{"/vt/bin/vttablet"},
			Args:    objects.FlagArgs(tabletFlags),
			Env:     append(tabletEnv, vttablet.ExtraEnv...),
			Ports: []corev1.ContainerPort{
				{Name: "web", ContainerPort: objects.VitessWebPort, Protocol: corev1.ProtocolTCP},
				{Name: "grpc", ContainerPort: objects.VitessGRPCPort, Protocol: corev1.ProtocolTCP},
			},
			Resources: vttablet.Resources,
			// A tablet is ready when vttablet reports itself healthy: serving, or replicating
			// with little lag.
			ReadinessProbe:  &corev1.Probe{ProbeHandler: objects.VitessHealth, PeriodSeconds: 10},
			LivenessProbe:   &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("web")}}, PeriodSeconds: 10, FailureThreshold: 30},
			VolumeMounts:    append(append([]corev1.VolumeMount{dataMount, socketMount, tmpMount}, tabletMounts...), pool.ExtraVolumeMounts...),
			SecurityContext: objects.RestrictedContainer(),
		},
		{
			Name: "mysqld", Image: mysqldImage(spec.Images), ImagePullPolicy: spec.ImagePullPolicies.Mysqld,
			Command:   []string{"/vt/bin/mysqlctld"},
			Args:      objects.FlagArgs(mysqlctldFlags),
			Env:       mysqldEnv,
			Ports:     []corev1.ContainerPort{{Name: "mysql", ContainerPort: objects.MysqlPort, Protocol: corev1.ProtocolTCP}},
			Resources: mysqld.Resources,
			// Initialising a data directory takes a while; after that mysqld answers on its port.
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("mysql")}},
				InitialDelaySeconds: 60, PeriodSeconds: 10, FailureThreshold: 30},
			VolumeMounts:    append(mysqldMounts, pool.ExtraVolumeMounts...),
			SecurityContext: objects.RestrictedContainer(),
		},
		{
			Name: "mysqld-exporter", Image: orDefault(spec.Images.MysqldExporter, vitess.DefaultMysqldExporterImage), ImagePullPolicy: spec.ImagePullPolicies.MysqldExporter,
			Args: objects.FlagArgs(exporterFlags),
			// Exporters before v0.15 refuse a my.cnf without a password and read this instead;
			// later ones read only the my.cnf.
			Env:             []corev1.EnvVar{{Name: "DATA_SOURCE_NAME", Value: fmt.Sprintf("vt_dba@unix(%s)/", mysqlSocket)}},
			Ports:           []corev1.ContainerPort{{Name: "metrics", ContainerPort: mysqldExporterPort, Protocol: corev1.ProtocolTCP}},
			Resources:       exporter.Resources,
			VolumeMounts:    []corev1.VolumeMount{socketMount, configMount},
			SecurityContext: objects.RestrictedContainer(),
		},
	}
	nodeSelector := map[string]string{}
	if zone := spec.ZoneMap[pool.Cell]; zone != "" {
		nodeSelector[corev1.LabelTopologyZone] = zone
	}
	for k, v := range pool.NodeSelector {
		nodeSelector[k] = v
	}
	if len(nodeSelector) == 0 {
		nodeSelector = nil
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	meta := owner.Meta(name, labels)
	meta.Annotations = annotations
	pod := &corev1.Pod{
		ObjectMeta: meta,
		Spec: corev1.PodSpec{
			InitContainers:            append(initContainers, pool.InitContainers...),
			Containers:                append(containers, pool.SidecarContainers...),
			Volumes:                   append(volumes, pool.ExtraVolumes...),
			ImagePullSecrets:          owner.PullSecrets,
			Affinity:                  pool.Affinity,
			NodeSelector:              nodeSelector,
			Tolerations:               pool.Tolerations,
			TopologySpreadConstraints: pool.TopologySpreadConstraints,
			SecurityContext:           objects.NonRootPod,
			// mysqld flushes and shuts down cleanly when given the time.
			TerminationGracePeriodSeconds: ptr.To[int64](300),
		},
	}
	objects.StampHash(&pod.ObjectMeta, pod.Spec)
	return pod
}

// poolBackupStorage is how a pool's tablets reach the backup location it names, nil when the
// shard has no location by that name ("" names the default location, as in the vitess-operator).
func poolBackupStorage(shard *v1alpha1.VitessShard, pool *v1alpha1.VitessShardTabletPool) *objects.BackupStorage {
	for i := range shard.Spec.BackupLocations {
		if location := &shard.Spec.BackupLocations[i]; location.Name == pool.BackupLocationName {
			storage := objects.NewBackupStorage(shard.Spec.Cluster, shard.Spec.BackupEngine, location)
			return &storage
		}
	}
	return nil
}

// tabletDataDir is where mysqlctld keeps the tablet's MySQL files on its claim.
func tabletDataDir(t tablet) string {
	return fmt.Sprintf("%s/vt_%s", vtDataRoot, names.TabletUIDString(t.uid))
}

// mysqldImage is the first MySQL flavour the cluster names, else the Vitess image, which carries
// a MySQL 8.0 server.
func mysqldImage(images v1alpha1.VitessImages) string {
	if m := images.Mysqld; m != nil {
		for _, image := range []string{m.Mysql80Compatible, m.Mysql84Compatible, m.Mysql56Compatible, m.MariadbCompatible, m.Mariadb103Compatible} {
			if image != "" {
				return image
			}
		}
	}
	return vitess.DefaultVitessImage
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

// ownedByShard is what the shard's objects (tablets, VTOrc) take from it.
func ownedByShard(shard *v1alpha1.VitessShard) objects.ComponentOwner {
	return objects.ComponentOwner{
		Cluster:          shard.Spec.Cluster,
		Namespace:        shard.Namespace,
		Ref:              *metav1.NewControllerRef(shard, v1alpha1.SchemeGroupVersion.WithKind("VitessShard")),
		Lockserver:       shard.Spec.GlobalLockserver,
		ExtraVitessFlags: shard.Spec.ExtraVitessFlags,
		PullSecrets:      shard.Spec.ImagePullSecrets,
	}
}
