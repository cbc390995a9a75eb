package shard

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objects"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
)

// VTOrc watches a shard's tablets and repairs replication: it elects the first primary and fails
// over when the primary is lost. The operator runs one per shard in every cell that has the
// shard's tablets, when the keyspace asks for it.

// vtorcDeployments are the shard's VTOrc Deployments, one per cell of its tablet pools; none
// when its keyspace does not ask for VTOrc.
func vtorcDeployments(shard *v1alpha1.VitessShard) []*appsv1.Deployment {
	orchestrator := shard.Spec.VitessOrchestrator
	if orchestrator == nil {
		return nil
	}
	var deployments []*appsv1.Deployment
	seen := map[string]bool{}
	for _, pool := range shard.Spec.TabletPools {
		if seen[pool.Cell] {
			continue
		}
		seen[pool.Cell] = true
		deployments = append(deployments, objects.StatelessComponent{
			Name:       vitess.ComponentVtorc,
			Deployment: names.VtorcDeploymentName(shard.Spec.Cluster, shard.Spec.KeyspaceName, shard.Labels[vitess.LabelShard], pool.Cell),
			Cell:       pool.Cell,
			Spec:       orchestrator.ComponentSpec,
			Replicas:   1,
			Image:      shard.Spec.Images.Vtorc,
			PullPolicy: shard.Spec.ImagePullPolicies.Vtorc,
			Flags:      map[string]string{"clusters-to-watch": shard.Spec.KeyspaceName + "/" + shard.Spec.Name},
			WebOnly:    true,
			Labels:     map[string]string{vitess.LabelKeyspace: shard.Spec.KeyspaceName, vitess.LabelShard: shard.Labels[vitess.LabelShard]},
		}.Build(ownedByShard(shard)))
	}
	return deployments
}
