// Package reconcile turns a VitessCluster into the objects that run it. This file derives the
// cluster's child objects (EtcdLockserver, VitessCell, VitessKeyspace, VitessShard), named as the
// vitess-operator names them, from the cluster's spec alone.
package cluster

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// children is the desired state of a cluster's child objects. Shards are grouped by the
// keyspace that owns them.
type children struct {
	Lockserver *v1alpha1.EtcdLockserver
	Cells      []*v1alpha1.VitessCell
	Keyspaces  []*v1alpha1.VitessKeyspace
	Shards     map[string][]*v1alpha1.VitessShard
}

// desiredChildren derives every child of the cluster. Shards name their keyspace in their labels;
// their owner reference is set once the keyspace exists and has a UID.
func desiredChildren(cluster *v1alpha1.VitessCluster) (*children, error) {
	spec := &cluster.Spec
	desired := &children{Shards: map[string][]*v1alpha1.VitessShard{}}
	globalLockserver := globalLockserverParams(cluster)
	if spec.GlobalLockserver.Etcd != nil {
		desired.Lockserver = &v1alpha1.EtcdLockserver{
			ObjectMeta: childMeta(cluster, names.GlobalLockserver(cluster.Name), map[string]string{vitess.LabelComponent: vitess.ComponentEtcd}),
			Spec:       v1alpha1.EtcdLockserverSpec{EtcdLockserverTemplate: *spec.GlobalLockserver.Etcd.DeepCopy()},
		}
	}
	backup := ptr.Deref(spec.Backup, v1alpha1.ClusterBackupSpec{})
	zones := map[string]string{}
	for _, cell := range spec.Cells {
		if cell.Zone != "" {
			zones[cell.Name] = cell.Zone
		}
		desired.Cells = append(desired.Cells, &v1alpha1.VitessCell{
			ObjectMeta: childMeta(cluster, names.Cell(cluster.Name, cell.Name), map[string]string{vitess.LabelCell: cell.Name}),
			Spec: v1alpha1.VitessCellSpec{
				VitessCellTemplate: *cell.DeepCopy(),
				GlobalLockserver:   globalLockserver,
				Images:             *spec.Images.DeepCopy(),
				ExtraVitessFlags:   objects.CopyMap(spec.ExtraVitessFlags),
			},
		})
	}
	for _, keyspace := range spec.Keyspaces {
		keyspaceName := names.Keyspace(cluster.Name, keyspace.Name)
		desired.Keyspaces = append(desired.Keyspaces, &v1alpha1.VitessKeyspace{
			ObjectMeta: childMeta(cluster, keyspaceName, map[string]string{vitess.LabelKeyspace: keyspace.Name}),
			Spec: v1alpha1.VitessKeyspaceSpec{
				VitessKeyspaceTemplate: *keyspace.DeepCopy(),
				Cluster:                cluster.Name,
				GlobalLockserver:       globalLockserver,
				Images:                 *spec.Images.DeepCopy(),
				ZoneMap:                objects.CopyMap(zones),
				ExtraVitessFlags:       objects.CopyMap(spec.ExtraVitessFlags),
			},
		})
		shards, err := keyspaceShards(keyspace)
		if err != nil {
			return nil, fmt.Errorf("keyspace %s: %w", keyspace.Name, err)
		}
		databaseName := keyspace.DatabaseName
		if snapshot := keyspace.Snapshot; snapshot != nil {
			// Its tablets restore the base keyspace's backups, which hold the base's database.
			if i := slices.IndexFunc(spec.Keyspaces, func(k v1alpha1.VitessKeyspaceTemplate) bool { return k.Name == snapshot.BaseKeyspace }); i >= 0 {
				base := vitess.VitessKeyspaceTemplate{Name: spec.Keyspaces[i].Name, DatabaseName: spec.Keyspaces[i].DatabaseName}
				databaseName = base.EffectiveDatabaseName()
			}
		}
		for _, shard := range shards {
			template := v1alpha1.VitessShardTemplate{}
			if err := v1alpha1.Convert_vitess_VitessShardTemplate_To_v1alpha1_VitessShardTemplate(&shard.Template, &template, nil); err != nil {
				return nil, err
			}
			safeName := shard.KeyRange.SafeName()
			desired.Shards[keyspaceName] = append(desired.Shards[keyspaceName], &v1alpha1.VitessShard{
				ObjectMeta: childMeta(cluster, names.Shard(cluster.Name, keyspace.Name, safeName),
					map[string]string{vitess.LabelKeyspace: keyspace.Name, vitess.LabelShard: safeName}),
				Spec: v1alpha1.VitessShardSpec{
					VitessShardTemplate: template,
					Name:                shard.Name,
					KeyspaceName:        keyspace.Name,
					KeyRange:            v1alpha1.VitessKeyRange{Start: shard.KeyRange.Start, End: shard.KeyRange.End},
					Cluster:             cluster.Name,
					DurabilityPolicy:    keyspace.DurabilityPolicy,
					GlobalLockserver:    globalLockserver,
					Images:              *spec.Images.DeepCopy(),
					ZoneMap:             objects.CopyMap(zones),
					ExtraVitessFlags:    objects.CopyMap(spec.ExtraVitessFlags),
					DatabaseName:        databaseName,
					ImagePullPolicies:   spec.ImagePullPolicies,
					ImagePullSecrets:    slices.Clone(spec.ImagePullSecrets),
					UpdateStrategy:      spec.UpdateStrategy.DeepCopy(),
					VitessOrchestrator:  keyspace.VitessOrchestrator.DeepCopy(),
					BackupLocations:     backup.DeepCopy().Locations,
					BackupEngine:        backup.Engine,
					BackupRetention:     backup.Retention.DeepCopy(),
					KeyspaceSnapshot:    keyspace.Snapshot.DeepCopy(),
				},
			})
		}
	}
	return desired, nil
}

// keyspaceShards is the union of the keyspace's partitionings, one shard per distinct key range.
func keyspaceShards(keyspace v1alpha1.VitessKeyspaceTemplate) ([]vitess.KeyspaceShard, error) {
	var internal vitess.VitessKeyspaceTemplate
	if err := v1alpha1.Convert_v1alpha1_VitessKeyspaceTemplate_To_vitess_VitessKeyspaceTemplate(&keyspace, &internal, nil); err != nil {
		return nil, err
	}
	return internal.Shards(), nil
}

// globalLockserverParams is how every component reaches the global topology: the deployed etcd's
// client Service, or the external lockserver.
func globalLockserverParams(cluster *v1alpha1.VitessCluster) v1alpha1.VitessLockserverParams {
	if external := cluster.Spec.GlobalLockserver.External; external != nil {
		return *external
	}
	lockserver := names.GlobalLockserver(cluster.Name)
	return v1alpha1.VitessLockserverParams{
		Implementation: "etcd2",
		Address:        fmt.Sprintf("%s.%s.svc:%d", names.EtcdClientServiceName(lockserver), cluster.Namespace, objects.EtcdClientPort),
		RootPath:       fmt.Sprintf("/vitess/%s/global", cluster.Name),
	}
}

// childMeta is the metadata of a child the cluster controls.
func childMeta(cluster *v1alpha1.VitessCluster, name string, labels map[string]string) metav1.ObjectMeta {
	return ownedByCluster(cluster).Meta(name, labels)
}

// ownedByCluster is what the cluster's own components (vtctld, vtgate, Services) take from it.
func ownedByCluster(cluster *v1alpha1.VitessCluster) objects.ComponentOwner {
	return objects.ComponentOwner{
		Cluster:          cluster.Name,
		Namespace:        cluster.Namespace,
		Ref:              *metav1.NewControllerRef(cluster, v1alpha1.SchemeGroupVersion.WithKind("VitessCluster")),
		Lockserver:       globalLockserverParams(cluster),
		ExtraVitessFlags: cluster.Spec.ExtraVitessFlags,
		PullSecrets:      cluster.Spec.ImagePullSecrets,
	}
}

// componentService exposes a component's web and gRPC ports, and any more it names.
func componentService(cluster *v1alpha1.VitessCluster, name string, selector map[string]string, extra ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: ownedByCluster(cluster).Meta(name, objects.CopyMap(selector)),
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: append([]corev1.ServicePort{
				{Name: "web", Port: objects.VitessWebPort, TargetPort: intstr.FromString("web"), Protocol: corev1.ProtocolTCP},
				{Name: "grpc", Port: objects.VitessGRPCPort, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP},
			}, extra...),
		},
	}
}

// tabletService is the cluster's headless Service over every tablet, which gives each tablet
// Pod a DNS name; not-ready tablets are published so that replicas can find a recovering primary.
func tabletService(cluster *v1alpha1.VitessCluster) *corev1.Service {
	service := componentService(cluster, names.TabletServiceName(cluster.Name), objects.ComponentSelector(cluster.Name, vitess.ComponentVttablet))
	service.Spec.ClusterIP = corev1.ClusterIPNone
	service.Spec.PublishNotReadyAddresses = true
	return service
}
