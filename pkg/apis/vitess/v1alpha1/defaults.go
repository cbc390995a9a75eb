package v1alpha1

import (
	"k8s.io/utils/ptr"
)

// The defaults make the stored object say what the reconciler will do, so that `kubectl get -o yaml`
// shows the effective settings instead of blanks. Nothing inside an atomic list (partitionings,
// tablet pools) is defaulted: a stored value that differs from what a user applied would make
// every later server-side apply of the same manifest conflict.

func SetDefaults_VitessClusterSpec(obj *VitessClusterSpec) {
	if obj.UpdateStrategy == nil {
		obj.UpdateStrategy = &VitessClusterUpdateStrategy{}
	}
	if obj.UpdateStrategy.Type == nil {
		obj.UpdateStrategy.Type = ptr.To(UpdateStrategyImmediate)
	}
	if obj.GlobalLockserver.External == nil && obj.GlobalLockserver.Etcd == nil {
		obj.GlobalLockserver.Etcd = &EtcdLockserverTemplate{}
	}
	if obj.VitessDashboard == nil {
		obj.VitessDashboard = &VitessDashboardSpec{}
	}
}

func SetDefaults_EtcdLockserverTemplate(obj *EtcdLockserverTemplate) {
	for _, flag := range []**bool{&obj.CreatePDB, &obj.CreateClientService, &obj.CreatePeerService} {
		if *flag == nil {
			*flag = ptr.To(true)
		}
	}
}

func SetDefaults_VitessDashboardSpec(obj *VitessDashboardSpec) {
	if obj.Replicas == nil {
		obj.Replicas = ptr.To[int32](1)
	}
}

func SetDefaults_VitessCellGatewaySpec(obj *VitessCellGatewaySpec) {
	if obj.Replicas == nil {
		obj.Replicas = ptr.To[int32](1)
	}
}

func SetDefaults_ClusterBackupSpec(obj *ClusterBackupSpec) {
	if obj.Engine == "" {
		obj.Engine = VitessBackupEngineBuiltin
	}
}

func SetDefaults_VitessBackupRetention(obj *VitessBackupRetention) {
	if obj.MinRetentionCount == 0 {
		obj.MinRetentionCount = 1
	}
}

func SetDefaults_VitessKeyspaceTemplate(obj *VitessKeyspaceTemplate) {
	if obj.DurabilityPolicy == "" {
		obj.DurabilityPolicy = "none"
	}
	if obj.TurndownPolicy == "" {
		obj.TurndownPolicy = TurndownPolicyRequireIdle
	}
}

func SetDefaults_VitessWorkflowOptions(obj *VitessWorkflowOptions) {
	if obj.OnDDL == "" {
		obj.OnDDL = "IGNORE"
	}
	if obj.AutoStart == nil {
		obj.AutoStart = ptr.To(true)
	}
	if obj.DeferSecondaryKeys == nil {
		obj.DeferSecondaryKeys = ptr.To(false)
	}
}
