package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// StorageClass is the cluster's default StorageClass (unless a real node is the only node: then
// RealNodeStorageClass is), created by Start when the controller manager runs. Like a single-node
// dev cluster's, it provisions hostPath PersistentVolumes at once (volumeBindingMode Immediate)
// and deletes them with their claim, so a PVC without a storageClassName binds by itself and pods
// using it can be scheduled.
const StorageClass = "standard"

// hostPathProvisioner is the in-tree provisioner kube-controller-manager runs when started with
// --enable-hostpath-provisioner.
const hostPathProvisioner = "kubernetes.io/host-path"

// hostPathPVDir is where that provisioner creates a directory per PersistentVolume, from the
// kube-controller-manager process, on this machine. It is not configurable: v1.37.2 hard-codes
// fmt.Sprintf("/tmp/%s/%s", "hostpath_pv", uuid) in pkg/volume/hostpath (no flag, no config field,
// and not $TMPDIR), and its deleter refuses any path outside /tmp. So the volumes of every local
// cluster share this directory rather than living in the control plane's Dir; each is an empty
// directory (pods on kwok nodes never run, so nothing writes there), removed by the deleter when
// its claim is deleted (reclaimPolicy Delete) and, for claims still present, by Stop.
const hostPathPVDir = "/tmp/hostpath_pv"

func (cp *ControlPlane) createDefaultStorageClass(ctx context.Context, isDefault bool) error {
	return cp.createStorageClass(ctx, &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: StorageClass},
		Provisioner:       hostPathProvisioner,
		ReclaimPolicy:     ptr.To(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr.To(storagev1.VolumeBindingImmediate),
		// Claims may ask for more storage; the hostPath plugin cannot grow a volume, so only the
		// claim's request changes, which is what tests of resizing look at.
		AllowVolumeExpansion: ptr.To(true),
	}, isDefault)
}

// createStorageClass creates sc, marked as the cluster's default if isDefault. One that exists is
// left as it is: a Dir whose etcd data survived an earlier run.
func (cp *ControlPlane) createStorageClass(ctx context.Context, sc *storagev1.StorageClass, isDefault bool) error {
	if isDefault {
		sc.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	}
	if _, err := cp.client.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating StorageClass %s: %w", sc.Name, err)
	}
	return nil
}

// removeHostPathVolumes deletes, best effort, the directories the hostPath provisioner created for
// this cluster's PersistentVolumes that still exist: the cluster is going away, and they are
// outside Dir. It is called by Stop while kube-apiserver still runs, and gives up quickly if it
// does not answer.
func (cp *ControlPlane) removeHostPathVolumes() {
	if cp.client == nil || cp.opts.DisableControllerManager {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pvs, err := cp.client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, pv := range pvs.Items {
		if pv.Spec.HostPath == nil || pv.Annotations["pv.kubernetes.io/provisioned-by"] != hostPathProvisioner {
			continue
		}
		// Only the provisioner's own directories, never a hostPath someone else chose.
		if path := filepath.Clean(pv.Spec.HostPath.Path); filepath.Dir(path) == hostPathPVDir {
			_ = os.RemoveAll(path)
		}
	}
}
