package objects

import (
	"time"

	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
	// Registers the work queues' depth, latency and retry metrics under workqueue_*{name="<kind>"}.
	_ "k8s.io/component-base/metrics/prometheus/workqueue"
)

var (
	reconciles = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "vitess_apiserver", Subsystem: "reconcile", Name: "total",
		Help: "Reconciles, by kind and result (success or error).", StabilityLevel: metrics.ALPHA,
	}, []string{"kind", "result"})
	reconcileDuration = metrics.NewHistogramVec(&metrics.HistogramOpts{
		Namespace: "vitess_apiserver", Subsystem: "reconcile", Name: "duration_seconds",
		Help: "How long a reconcile takes, by kind.", Buckets: metrics.ExponentialBuckets(0.001, 2, 15), StabilityLevel: metrics.ALPHA,
	}, []string{"kind"})
	// writes counts every object the reconciler writes: in a steady state it does not move.
	writes = metrics.NewCounterVec(&metrics.CounterOpts{
		Namespace: "vitess_apiserver", Subsystem: "reconcile", Name: "writes_total",
		Help: "Objects the reconciler created, updated or deleted, by kind and verb.", StabilityLevel: metrics.ALPHA,
	}, []string{"kind", "verb"})
)

func init() {
	legacyregistry.MustRegister(reconciles, reconcileDuration, writes)
}

// Observe records one reconcile of kind that began at start.
func Observe(kind string, start time.Time, err error) {
	result := "success"
	if err != nil {
		result = "error"
	}
	reconciles.WithLabelValues(kind, result).Inc()
	reconcileDuration.WithLabelValues(kind).Observe(time.Since(start).Seconds())
}

// CountWrite records one write of the loop.
func CountWrite(kind, verb string) {
	writes.WithLabelValues(kind, verb).Inc()
}
