package objects

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// The flags are Vitess v24's names for what the vitess-operator passes for each location kind,
// with the same roots, so backups it wrote are found here.
func TestBackupStorage(t *testing.T) {
	secret := v1alpha1.SecretSource{Name: "backup-auth", Key: "credentials"}
	secretVolume := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: "backup-auth", Items: []corev1.KeyToPath{{Key: "credentials", Path: "credentials"}}}}}
	}
	hostPath := corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/backup"}}
	tests := []struct {
		name     string
		engine   v1alpha1.VitessBackupEngine
		location v1alpha1.VitessBackupLocation
		want     BackupStorage
	}{
		{
			name:     "volume with a sub path",
			location: v1alpha1.VitessBackupLocation{Volume: &hostPath, VolumeSubPath: "team-a", Annotations: map[string]string{"backup.example.com/tier": "cold"}},
			want: BackupStorage{
				Flags:       map[string]string{"backup-engine-implementation": "builtin", "backup-storage-implementation": "file", "file-backup-storage-root": "/vt/backups/example"},
				Volumes:     []corev1.Volume{{Name: "vitess-backups", VolumeSource: hostPath}},
				Mounts:      []corev1.VolumeMount{{Name: "vitess-backups", MountPath: "/vt/backups", SubPath: "team-a"}},
				Annotations: map[string]string{"backup.example.com/tier": "cold"},
			},
		},
		{
			name:   "s3 with every field",
			engine: v1alpha1.VitessBackupEngineXtraBackup,
			location: v1alpha1.VitessBackupLocation{S3: &v1alpha1.S3BackupLocation{
				Region: "us-east-1", Bucket: "vitess", Endpoint: "http://10.0.0.1:8333", KeyPrefix: "team-a/", ForcePathStyle: true, MinPartSize: 16 << 20, AuthSecret: &secret,
			}},
			want: BackupStorage{
				Flags: map[string]string{
					"backup-engine-implementation": "xtrabackup", "backup-storage-implementation": "s3",
					"s3-backup-aws-region": "us-east-1", "s3-backup-storage-bucket": "vitess", "s3-backup-storage-root": "team-a/example",
					"s3-backup-force-path-style": "true", "s3-backup-aws-endpoint": "http://10.0.0.1:8333", "s3-backup-aws-min-partsize": "16777216",
					"xtrabackup-user": "vt_dba", "xtrabackup-stream-mode": "xbstream", "xtrabackup-stripes": "8",
					"xtrabackup-backup-flags": "--parallel=1", "xbstream-restore-flags": "--parallel=1", "backup-storage-compress": "true",
				},
				Volumes: []corev1.Volume{secretVolume("s3-backup-auth")},
				Mounts:  []corev1.VolumeMount{{Name: "s3-backup-auth", MountPath: "/vt/secrets/s3-backup-auth", ReadOnly: true}},
				Env:     []corev1.EnvVar{{Name: "AWS_SHARED_CREDENTIALS_FILE", Value: "/vt/secrets/s3-backup-auth/credentials"}},
			},
		},
		{
			name:     "s3 with the SDK's own credentials",
			location: v1alpha1.VitessBackupLocation{S3: &v1alpha1.S3BackupLocation{Region: "eu-west-1", Bucket: "vitess"}},
			want: BackupStorage{Flags: map[string]string{
				"backup-engine-implementation": "builtin", "backup-storage-implementation": "s3",
				"s3-backup-aws-region": "eu-west-1", "s3-backup-storage-bucket": "vitess", "s3-backup-storage-root": "example", "s3-backup-force-path-style": "false",
			}},
		},
		{
			name:     "gcs",
			location: v1alpha1.VitessBackupLocation{GCS: &v1alpha1.GCSBackupLocation{Bucket: "vitess", KeyPrefix: "prod", AuthSecret: &secret}},
			want: BackupStorage{
				Flags: map[string]string{
					"backup-engine-implementation": "builtin", "backup-storage-implementation": "gcs",
					"gcs-backup-storage-bucket": "vitess", "gcs-backup-storage-root": "prod/example",
				},
				Volumes: []corev1.Volume{secretVolume("gcs-backup-auth")},
				Mounts:  []corev1.VolumeMount{{Name: "gcs-backup-auth", MountPath: "/vt/secrets/gcs-backup-auth", ReadOnly: true}},
				Env:     []corev1.EnvVar{{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/vt/secrets/gcs-backup-auth/credentials"}},
			},
		},
		{
			name:     "azblob",
			location: v1alpha1.VitessBackupLocation{Azblob: &v1alpha1.AzblobBackupLocation{Account: "acct", Container: "vitess", AuthSecret: secret}},
			want: BackupStorage{
				Flags: map[string]string{
					"backup-engine-implementation": "builtin", "backup-storage-implementation": "azblob",
					"azblob-backup-account-name": "acct", "azblob-backup-container-name": "vitess", "azblob-backup-storage-root": "example",
					"azblob-backup-account-key-file": "/vt/secrets/azblob-backup-auth/credentials",
				},
				Volumes: []corev1.Volume{secretVolume("azblob-backup-auth")},
				Mounts:  []corev1.VolumeMount{{Name: "azblob-backup-auth", MountPath: "/vt/secrets/azblob-backup-auth", ReadOnly: true}},
			},
		},
		{
			name:     "ceph, its Secret in a volume named by the user",
			location: v1alpha1.VitessBackupLocation{Ceph: &v1alpha1.CephBackupLocation{AuthSecret: v1alpha1.SecretSource{Name: "backup-auth", Key: "credentials", VolumeName: "ceph-conf"}}},
			want: BackupStorage{
				Flags: map[string]string{
					"backup-engine-implementation": "builtin", "backup-storage-implementation": "ceph",
					"ceph-backup-storage-config": "/vt/secrets/ceph-backup-auth/credentials",
				},
				Volumes: []corev1.Volume{secretVolume("ceph-conf")},
				Mounts:  []corev1.VolumeMount{{Name: "ceph-conf", MountPath: "/vt/secrets/ceph-backup-auth", ReadOnly: true}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NewBackupStorage("example", tc.engine, &tc.location)
			if !maps.Equal(got.Flags, tc.want.Flags) {
				t.Errorf("flags:\n got %v\nwant %v", got.Flags, tc.want.Flags)
			}
			for _, part := range []struct {
				name      string
				got, want any
			}{
				{"volumes", got.Volumes, tc.want.Volumes}, {"mounts", got.Mounts, tc.want.Mounts},
				{"env", got.Env, tc.want.Env}, {"annotations", got.Annotations, tc.want.Annotations},
			} {
				if !equality.Semantic.DeepEqual(part.got, part.want) {
					t.Errorf("%s:\n got %+v\nwant %+v", part.name, part.got, part.want)
				}
			}
		})
	}
}
