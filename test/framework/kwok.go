package framework

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kwok marks the nodes it manages with this annotation (and, by convention, this taint).
const (
	kwokNodeKey   = "kwok.x-k8s.io/node"
	kwokNodeValue = "fake"
)

// kwokStages are the only behaviour kwok has: without Stage objects it refuses to start. These
// make a fake node look like a healthy kubelet and pods on it run until they are deleted:
//   - node-ready: a node that is not Ready becomes Ready with the standard conditions;
//   - node-heartbeat: refreshes the conditions' heartbeat well within the controller manager's
//     node-monitor grace period (leases, which kwok also renews, are the primary signal);
//   - pod-ready: a pending pod on a fake node becomes Running with all containers ready;
//   - pod-delete: a pod marked for deletion is removed at once, as a kubelet would after its
//     containers stopped (otherwise deleted pods stay Terminating forever).
const kwokStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: NotIn
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $now | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
      addresses:
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
      - address: {{ .metadata.name | Quote }}
        type: Hostname
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        containerRuntimeVersion: kwok
        kernelVersion: kwok
        kubeletVersion: kwok
        kubeProxyVersion: kwok
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-heartbeat
spec:
  resourceRef:
    apiGroup: v1
    kind: Node
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: In
      values: ['True']
  delay:
    durationMilliseconds: 10000
    jitterDurationMilliseconds: 15000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range .status.conditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ .lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}
  immediateNextStage: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: DoesNotExist
    - key: '.status.phase'
      operator: In
      values: ['Pending']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      {{ range .spec.readinessGates }}
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: {{ .conditionType | Quote }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        started: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          terminated:
            exitCode: 0
            reason: Completed
            startedAt: {{ $now | Quote }}
            finishedAt: {{ $now | Quote }}
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: Exists
  next:
    delete: true
`

func (cp *ControlPlane) startKwok() error {
	stages := filepath.Join(cp.dir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, []byte(kwokStages), 0o644); err != nil {
		return err
	}
	return cp.start("kwok", cp.tools.Kwok,
		"--kubeconfig="+cp.adminKubeconfig,
		"--config="+stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector="+kwokNodeKey+"="+kwokNodeValue,
		// Fake nodes report a loopback address: anything that tries to reach a "kubelet"
		// (kubectl logs/exec) fails locally instead of sending traffic off the machine.
		"--node-ip=127.0.0.1",
		// Pod IPs are only status fields; a /16 leaves room for large test clusters.
		"--cidr=10.0.0.0/16",
		// Renew node leases like a kubelet, so node health does not hinge on status heartbeats.
		"--node-lease-duration-seconds=40",
	)
}

// AddNodes adds count kwok nodes to a control plane started with some, and waits until they are
// Ready: for a test that needs more room for Pods than the shared nodes give.
func (cp *ControlPlane) AddNodes(ctx context.Context, count int) error {
	if cp.opts.Nodes == 0 {
		return fmt.Errorf("the control plane runs no kwok")
	}
	added, err := cp.createNodes(ctx, count)
	if err != nil {
		return err
	}
	return cp.waitNodesReady(ctx, "added kwok nodes", added)
}

// createNodes creates count more fake nodes for kwok to manage, each sized for a Vitess cluster
// with room to spare, and returns their names.
func (cp *ControlPlane) createNodes(ctx context.Context, count int) ([]string, error) {
	var added []string
	for range count {
		name := "kwok-node-" + strconv.Itoa(len(cp.nodes))
		capacity := corev1.ResourceList{
			corev1.ResourceCPU:              resource.MustParse("32"),
			corev1.ResourceMemory:           resource.MustParse("256Gi"),
			corev1.ResourcePods:             resource.MustParse("110"),
			corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
		}
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Annotations: map[string]string{
					kwokNodeKey: kwokNodeValue,
					// Lets kubectl and the node controller skip TTL bookkeeping for fake nodes.
					"node.alpha.kubernetes.io/ttl": "0",
				},
				Labels: map[string]string{
					"kubernetes.io/hostname":        name,
					"kubernetes.io/os":              "linux",
					"kubernetes.io/arch":            "amd64",
					"kubernetes.io/role":            "agent",
					"node-role.kubernetes.io/agent": "",
					"type":                          "kwok",
				},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if cp.opts.TaintNodes {
			node.Spec.Taints = []corev1.Taint{{Key: kwokNodeKey, Value: kwokNodeValue, Effect: corev1.TaintEffectNoSchedule}}
		}
		_, err := cp.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("creating node %s: %w", name, err)
		}
		cp.nodes = append(cp.nodes, name)
		added = append(added, name)
	}
	return added, nil
}

// waitNodesReady waits until every node named is Ready and schedulable: admission gives new nodes
// a not-ready taint that only the controller manager removes.
func (cp *ControlPlane) waitNodesReady(ctx context.Context, what string, names []string) error {
	return cp.poll(ctx, what+" to be Ready", func(ctx context.Context) (bool, error) {
		for _, name := range names {
			node, err := cp.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			ready := false
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready = true
				}
			}
			if !ready {
				return false, nil
			}
			for _, t := range node.Spec.Taints {
				if t.Key == corev1.TaintNodeNotReady && !cp.opts.DisableControllerManager {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

// PodReady tells whether a Pod's Ready condition is true.
func PodReady(pod *corev1.Pod) bool {
	for _, condition := range pod.Status.Conditions {
		if condition.Type == corev1.PodReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}
