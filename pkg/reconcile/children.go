// Package reconcile turns a VitessCluster into the objects that run it. This file derives the
// cluster's child objects (EtcdLockserver, VitessCell, VitessKeyspace, VitessShard), named as the
// vitess-operator names them, from the cluster's spec alone.
package reconcile

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// Labels the children carry: the vitess-operator's keys, so selectors written for its objects
// (e.g. planetscale.com/component=vtctld) keep working.
const (
	LabelCluster   = "planetscale.com/cluster"
	LabelCell      = "planetscale.com/cell"
	LabelKeyspace  = "planetscale.com/keyspace"
	LabelShard     = "planetscale.com/shard"
	LabelComponent = "planetscale.com/component"
)

// etcdClientPort is where the deployed etcd serves clients.
const etcdClientPort = 2379

// children is the desired state of a cluster's child objects. Shards are grouped by the
// keyspace that owns them.
type children struct {
	lockserver *v1alpha1.EtcdLockserver
	cells      []*v1alpha1.VitessCell
	keyspaces  []*v1alpha1.VitessKeyspace
	shards     map[string][]*v1alpha1.VitessShard
}

// desiredChildren derives every child of the cluster. Shards name their keyspace in their labels;
// their owner reference is set once the keyspace exists and has a UID.
func desiredChildren(cluster *v1alpha1.VitessCluster) (*children, error) {
	spec := &cluster.Spec
	desired := &children{shards: map[string][]*v1alpha1.VitessShard{}}
	globalLockserver := globalLockserverParams(cluster)
	if spec.GlobalLockserver.Etcd != nil {
		desired.lockserver = &v1alpha1.EtcdLockserver{
			ObjectMeta: childMeta(cluster, names.GlobalLockserver(cluster.Name), map[string]string{LabelComponent: "etcd"}),
			Spec:       v1alpha1.EtcdLockserverSpec{EtcdLockserverTemplate: *spec.GlobalLockserver.Etcd.DeepCopy()},
		}
	}
	zones := map[string]string{}
	for _, cell := range spec.Cells {
		if cell.Zone != "" {
			zones[cell.Name] = cell.Zone
		}
		desired.cells = append(desired.cells, &v1alpha1.VitessCell{
			ObjectMeta: childMeta(cluster, names.Cell(cluster.Name, cell.Name), map[string]string{LabelCell: cell.Name}),
			Spec: v1alpha1.VitessCellSpec{
				VitessCellTemplate: *cell.DeepCopy(),
				GlobalLockserver:   globalLockserver,
				Images:             *spec.Images.DeepCopy(),
				ExtraVitessFlags:   copyMap(spec.ExtraVitessFlags),
			},
		})
	}
	for _, keyspace := range spec.Keyspaces {
		keyspaceName := names.Keyspace(cluster.Name, keyspace.Name)
		desired.keyspaces = append(desired.keyspaces, &v1alpha1.VitessKeyspace{
			ObjectMeta: childMeta(cluster, keyspaceName, map[string]string{LabelKeyspace: keyspace.Name}),
			Spec: v1alpha1.VitessKeyspaceSpec{
				VitessKeyspaceTemplate: *keyspace.DeepCopy(),
				Cluster:                cluster.Name,
				GlobalLockserver:       globalLockserver,
				Images:                 *spec.Images.DeepCopy(),
				ZoneMap:                copyMap(zones),
				ExtraVitessFlags:       copyMap(spec.ExtraVitessFlags),
			},
		})
		shards, err := keyspaceShards(keyspace)
		if err != nil {
			return nil, fmt.Errorf("keyspace %s: %w", keyspace.Name, err)
		}
		for _, shard := range shards {
			template := v1alpha1.VitessShardTemplate{}
			if err := v1alpha1.Convert_vitess_VitessShardTemplate_To_v1alpha1_VitessShardTemplate(&shard.Template, &template, nil); err != nil {
				return nil, err
			}
			safeName := shard.KeyRange.SafeName()
			desired.shards[keyspaceName] = append(desired.shards[keyspaceName], &v1alpha1.VitessShard{
				ObjectMeta: childMeta(cluster, names.Shard(cluster.Name, keyspace.Name, safeName),
					map[string]string{LabelKeyspace: keyspace.Name, LabelShard: safeName}),
				Spec: v1alpha1.VitessShardSpec{
					VitessShardTemplate: template,
					Name:                shard.Name,
					KeyspaceName:        keyspace.Name,
					KeyRange:            v1alpha1.VitessKeyRange{Start: shard.KeyRange.Start, End: shard.KeyRange.End},
					Cluster:             cluster.Name,
					DurabilityPolicy:    keyspace.DurabilityPolicy,
					GlobalLockserver:    globalLockserver,
					Images:              *spec.Images.DeepCopy(),
					ZoneMap:             copyMap(zones),
					ExtraVitessFlags:    copyMap(spec.ExtraVitessFlags),
					DatabaseName:        keyspace.DatabaseName,
					ImagePullPolicies:   spec.ImagePullPolicies,
					ImagePullSecrets:    slices.Clone(spec.ImagePullSecrets),
					UpdateStrategy:      spec.UpdateStrategy.DeepCopy(),
					VitessOrchestrator:  keyspace.VitessOrchestrator.DeepCopy(),
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
		Address:        fmt.Sprintf("%s.%s.svc:%d", names.EtcdClientServiceName(lockserver), cluster.Namespace, etcdClientPort),
		RootPath:       fmt.Sprintf("/vitess/%s/global", cluster.Name),
	}
}

// childMeta is the metadata of a child the cluster controls.
func childMeta(cluster *v1alpha1.VitessCluster, name string, labels map[string]string) metav1.ObjectMeta {
	return ownedByCluster(cluster).meta(name, labels)
}

func copyMap(in map[string]string) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
