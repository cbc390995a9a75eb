package v1alpha1

import (
	"testing"
)

func TestDefaults(t *testing.T) {
	cluster := &VitessCluster{Spec: VitessClusterSpec{
		Cells:     []VitessCellTemplate{{Name: "zone1"}},
		Keyspaces: []VitessKeyspaceTemplate{{Name: "commerce"}},
		Backup:    &ClusterBackupSpec{Retention: &VitessBackupRetention{}},
	}}
	SetObjectDefaults_VitessCluster(cluster)
	spec := cluster.Spec
	if spec.UpdateStrategy == nil || *spec.UpdateStrategy.Type != UpdateStrategyImmediate {
		t.Errorf("updateStrategy: %+v", spec.UpdateStrategy)
	}
	if spec.GlobalLockserver.Etcd == nil || !*spec.GlobalLockserver.Etcd.CreatePDB || !*spec.GlobalLockserver.Etcd.CreatePeerService {
		t.Errorf("global lockserver: %+v", spec.GlobalLockserver)
	}
	if spec.VitessDashboard == nil || *spec.VitessDashboard.Replicas != 1 {
		t.Errorf("vitessDashboard: %+v", spec.VitessDashboard)
	}
	if *spec.Cells[0].Gateway.Replicas != 1 {
		t.Errorf("gateway replicas: %d", *spec.Cells[0].Gateway.Replicas)
	}
	if ks := spec.Keyspaces[0]; ks.DurabilityPolicy != "none" || ks.TurndownPolicy != TurndownPolicyRequireIdle {
		t.Errorf("keyspace: durability %q, turndown %q", ks.DurabilityPolicy, ks.TurndownPolicy)
	}
	if spec.Backup.Engine != VitessBackupEngineBuiltin {
		t.Errorf("backup engine: %q", spec.Backup.Engine)
	}
	if spec.Backup.Retention.MinRetentionCount != 1 {
		t.Errorf("backup retention count: %d", spec.Backup.Retention.MinRetentionCount)
	}

	// An external lockserver is not replaced by a deployed one.
	external := &VitessCluster{Spec: VitessClusterSpec{GlobalLockserver: LockserverSpec{External: &VitessLockserverParams{Implementation: "etcd2"}}}}
	SetObjectDefaults_VitessCluster(external)
	if external.Spec.GlobalLockserver.Etcd != nil {
		t.Errorf("an external lockserver got an etcd template too")
	}

	workflow := &VitessWorkflow{}
	SetObjectDefaults_VitessWorkflow(workflow)
	if workflow.Spec.OnDDL != "IGNORE" || !*workflow.Spec.AutoStart || *workflow.Spec.DeferSecondaryKeys {
		t.Errorf("workflow options: %+v", workflow.Spec.VitessWorkflowOptions)
	}
	request := &VitessReshardRequest{}
	SetObjectDefaults_VitessReshardRequest(request)
	if request.OnDDL != "IGNORE" || !*request.AutoStart {
		t.Errorf("reshard request options: %+v", request.VitessWorkflowOptions)
	}
}
