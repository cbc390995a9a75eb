package vitess

// AnnotationVtctldAddress on a VitessCluster names a vtctld (host:port of its gRPC) outside the
// cluster for the server to use instead of the vtctld it runs for the cluster. It is honoured
// only by a server started with --allow-vtctld-address-annotation, a test bed whose Vitess runs
// outside Kubernetes; any other server refuses it, since it would let whoever may edit a cluster
// act on another namespace's Vitess.
const AnnotationVtctldAddress = "vitess.planetscale.com/vtctld-address"

// FinalizerWorkflow holds a deleted VitessWorkflow until the reconcile loop has cancelled the
// workflow it made in Vitess, so that deleting the object stops the copy rather than leaving it
// running with nothing in Kubernetes to show it.
const FinalizerWorkflow = "vitess.planetscale.com/workflow"

// AnnotationSpecHash records the hash of the desired object an object was made from: Pods and
// Deployments are compared by it, because the server fills in defaults that a desired object does
// not state.
const AnnotationSpecHash = "vitess.planetscale.com/spec-hash"

// The operator's annotations for updateStrategy External: the server marks a tablet Pod that runs
// an old spec as scheduled for replacement, and replaces it once an outside tool (or a person) has
// marked it released.
const (
	AnnotationRolloutScheduled = "rollout.planetscale.com/scheduled"
	AnnotationRolloutReleased  = "rollout.planetscale.com/released"
)
