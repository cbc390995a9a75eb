package reconcile

import (
	"context"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// leaseName is the Lease the server replicas compete for; only its holder reconciles, while
// every replica serves the API.
const leaseName = "vitess-apiserver-reconciler"

// RunLeaderElected runs run whenever this process holds the lease, until ctx is done. Losing the
// lease stops run and puts the process back in the running for it, without stopping the API.
func RunLeaderElected(ctx context.Context, client kubernetes.Interface, namespace, identity string, run func(context.Context)) {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: namespace, Name: leaseName},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	for ctx.Err() == nil {
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			Name:            leaseName,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: run,
				OnStoppedLeading: func() {
					klog.InfoS("Stopped reconciling: lease lost or released", "lease", namespace+"/"+leaseName, "identity", identity)
				},
			},
		})
	}
}
