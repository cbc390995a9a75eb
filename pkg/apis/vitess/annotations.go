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
