package integration

import (
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/names"
	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// TestLoopResumesAfterAPIServerStall stalls kube-apiserver past the lease's renew deadline, so the
// server loses its lease, then checks that the loop works again once the server leads anew: a
// deleted Service of a cluster comes back. (Once the lost term's queue was reused: the new term's
// workers exited at once and nothing was reconciled until a restart.)
func TestLoopResumesAfterAPIServerStall(t *testing.T) {
	ns := newNamespace(t, "stall")
	mustApply(t, clusterManifest(ns, "demo"))
	services := kubeClient(t).CoreV1().Services(ns)
	vtctld := names.VtctldServiceName("demo")
	eventually(t, "the vtctld Service", func() (bool, error) {
		_, err := services.Get(testContext(t), vtctld, metav1.GetOptions{})
		return err == nil, ignoreNotFound(err)
	})

	logBefore, err := os.ReadFile(server.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	// Past the 10 s renew deadline and the 15 s lease.
	resumed := time.Now().Add(25 * time.Second)
	if err := controlPlane.PauseAPIServer(25 * time.Second); err != nil {
		t.Fatal(err)
	}
	leases := kubeClient(t).CoordinationV1().Leases(framework.ServerNamespace)
	eventually(t, "the reconciler's lease renewed after the stall", func() (bool, error) {
		lease, err := leases.Get(testContext(t), "vitess-apiserver-reconciler", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(resumed), nil
	})
	// The stall must have cost the lease, or this test proves nothing.
	if log, err := os.ReadFile(server.LogPath()); err != nil {
		t.Fatal(err)
	} else if !strings.Contains(string(log[len(logBefore):]), "Stopped reconciling: lease lost or released") {
		t.Fatalf("the server did not lose its lease while kube-apiserver stalled (log %s)", server.LogPath())
	}
	if err := services.Delete(testContext(t), vtctld, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deleted vtctld Service recreated", func() (bool, error) {
		_, err := services.Get(testContext(t), vtctld, metav1.GetOptions{})
		return err == nil, ignoreNotFound(err)
	})
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
