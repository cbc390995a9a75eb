package objects

import (
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

const (
	// BackupVolumeRoot is where a volume location is mounted.
	BackupVolumeRoot = "/vt/backups"
	backupVolume     = "vitess-backups"
	secretRoot       = "/vt/secrets"
)

// BackupStorage is what a Vitess process needs to reach one backup location: its flags, the
// volumes and mounts that hold the location or its credentials, its environment, and the Pod
// annotations the location asks for. Credentials are mounted from their Secret and named by
// file: the server never reads them, so they cannot reach a status, an Event or a log.
type BackupStorage struct {
	Flags       map[string]string
	Volumes     []corev1.Volume
	Mounts      []corev1.VolumeMount
	Env         []corev1.EnvVar
	Annotations map[string]string
}

// NewBackupStorage is how the cluster's processes reach location with engine. Backups go under
// a root named after the cluster (and below the location's key prefix), as the vitess-operator
// lays them out, so a bucket it wrote to reads the same here; Vitess adds keyspace/shard below.
func NewBackupStorage(cluster string, engine v1alpha1.VitessBackupEngine, location *v1alpha1.VitessBackupLocation) BackupStorage {
	if engine == "" {
		engine = v1alpha1.VitessBackupEngineBuiltin
	}
	s := BackupStorage{
		Flags:       map[string]string{"backup-engine-implementation": string(engine)},
		Annotations: maps.Clone(location.Annotations),
	}
	if engine == v1alpha1.VitessBackupEngineXtraBackup {
		// What the vitess-operator runs xtrabackup with: as the tablet's DBA user, streamed and
		// striped, compressed on the way to storage.
		maps.Copy(s.Flags, map[string]string{
			"xtrabackup-user":         "vt_dba",
			"xtrabackup-stream-mode":  "xbstream",
			"xtrabackup-stripes":      "8",
			"xtrabackup-backup-flags": "--parallel=1",
			"xbstream-restore-flags":  "--parallel=1",
			"backup-storage-compress": "true",
		})
	}
	switch {
	case location.Volume != nil:
		s.Flags["backup-storage-implementation"] = "file"
		s.Flags["file-backup-storage-root"] = BackupVolumeRoot + "/" + cluster
		s.Volumes = append(s.Volumes, corev1.Volume{Name: backupVolume, VolumeSource: *location.Volume.DeepCopy()})
		s.Mounts = append(s.Mounts, corev1.VolumeMount{Name: backupVolume, MountPath: BackupVolumeRoot, SubPath: location.VolumeSubPath})
	case location.S3 != nil:
		s3 := location.S3
		s.Flags["backup-storage-implementation"] = "s3"
		s.Flags["s3-backup-aws-region"] = s3.Region
		s.Flags["s3-backup-storage-bucket"] = s3.Bucket
		s.Flags["s3-backup-storage-root"] = storageRoot(s3.KeyPrefix, cluster)
		s.Flags["s3-backup-force-path-style"] = fmt.Sprint(s3.ForcePathStyle)
		if s3.Endpoint != "" {
			s.Flags["s3-backup-aws-endpoint"] = s3.Endpoint
		}
		if s3.MinPartSize > 0 {
			s.Flags["s3-backup-aws-min-partsize"] = fmt.Sprint(s3.MinPartSize)
		}
		if s3.AuthSecret != nil {
			// The AWS SDK's default chain reads a shared credentials file from here.
			s.Env = append(s.Env, corev1.EnvVar{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: s.mountSecret("s3", *s3.AuthSecret)})
		}
	case location.GCS != nil:
		gcs := location.GCS
		s.Flags["backup-storage-implementation"] = "gcs"
		s.Flags["gcs-backup-storage-bucket"] = gcs.Bucket
		s.Flags["gcs-backup-storage-root"] = storageRoot(gcs.KeyPrefix, cluster)
		if gcs.AuthSecret != nil {
			s.Env = append(s.Env, corev1.EnvVar{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: s.mountSecret("gcs", *gcs.AuthSecret)})
		}
	case location.Azblob != nil:
		az := location.Azblob
		s.Flags["backup-storage-implementation"] = "azblob"
		s.Flags["azblob-backup-account-name"] = az.Account
		s.Flags["azblob-backup-container-name"] = az.Container
		s.Flags["azblob-backup-storage-root"] = storageRoot(az.KeyPrefix, cluster)
		s.Flags["azblob-backup-account-key-file"] = s.mountSecret("azblob", az.AuthSecret)
	case location.Ceph != nil:
		// The configuration file names the bucket; Vitess puts keyspace/shard right under it.
		s.Flags["backup-storage-implementation"] = "ceph"
		s.Flags["ceph-backup-storage-config"] = s.mountSecret("ceph", location.Ceph.AuthSecret)
	}
	return s
}

// mountSecret mounts the one key of secret that a location's credentials are in, read-only, and
// returns the file's path.
func (s *BackupStorage) mountSecret(kind string, secret v1alpha1.SecretSource) string {
	dir := secretRoot + "/" + kind + "-backup-auth"
	volume := secret.VolumeName
	if volume == "" {
		volume = kind + "-backup-auth"
	}
	s.Volumes = append(s.Volumes, corev1.Volume{Name: volume, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
		SecretName: secret.Name, Items: []corev1.KeyToPath{{Key: secret.Key, Path: secret.Key}}}}})
	s.Mounts = append(s.Mounts, corev1.VolumeMount{Name: volume, MountPath: dir, ReadOnly: true})
	return dir + "/" + secret.Key
}

func storageRoot(keyPrefix, cluster string) string {
	if keyPrefix == "" {
		return cluster
	}
	return strings.TrimRight(keyPrefix, "/") + "/" + cluster
}
