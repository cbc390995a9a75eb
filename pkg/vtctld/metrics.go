package vtctld

import (
	"google.golang.org/grpc/status"
	"k8s.io/component-base/metrics"
	"k8s.io/component-base/metrics/legacyregistry"
)

// requests counts the RPCs sent to vtctlds, every attempt of a retried call included: what the
// server costs Vitess, which must not grow with the server's own clients.
var requests = metrics.NewCounterVec(&metrics.CounterOpts{
	Namespace: "vitess_apiserver", Subsystem: "vtctld", Name: "requests_total",
	Help: "RPCs sent to vtctld, by method and gRPC status code.", StabilityLevel: metrics.ALPHA,
}, []string{"method", "code"})

func init() {
	legacyregistry.MustRegister(requests)
}

func countRequest(method string, err error) {
	requests.WithLabelValues(method, status.Code(err).String()).Inc()
}
