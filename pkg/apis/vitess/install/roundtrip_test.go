package install

import (
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/apitesting/fuzzer"
	"k8s.io/apimachinery/pkg/api/apitesting/roundtrip"
	"k8s.io/apimachinery/pkg/api/resource"
	metafuzzer "k8s.io/apimachinery/pkg/apis/meta/fuzzer"
	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
)

// TestRoundTripTypes fuzzes every kind through internal → v1alpha1 → JSON, YAML and protobuf and
// back, which catches a field the conversion drops, a JSON tag that loses data, or protobuf
// marshalling out of date with the types.
func TestRoundTripTypes(t *testing.T) {
	scheme := runtime.NewScheme()
	Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	filler := fuzzer.FuzzerFor(fuzzer.MergeFuzzerFuncs(metafuzzer.Funcs, coreValueFuzzers, defaultedFuzzers), rand.NewSource(rand.Int63()), codecs)
	roundtrip.RoundTripTypes(t, scheme, codecs, filler, nil)
}

// coreValueFuzzers keep the core/v1 values nested in our specs serialisable: a Quantity or an
// IntOrString filled field by field is not a value JSON can carry.
func coreValueFuzzers(serializer.CodecFactory) []any {
	return []any{
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<20), resource.DecimalSI)
		},
		func(v *intstr.IntOrString, c randfill.Continue) {
			if c.Bool() {
				*v = intstr.FromInt32(c.Int31())
			} else {
				*v = intstr.FromString(c.String(0))
			}
		},
		// Core types carry their own +default markers, which decoding applies; the core API's
		// defaulting is not ours to test, so the fuzzed values leave those fields alone.
		func(v *corev1.EnvVar, c randfill.Continue) {
			*v = corev1.EnvVar{Name: c.String(0), Value: c.String(0)}
		},
		func(v *corev1.Container, c randfill.Continue) {
			*v = corev1.Container{Name: c.String(0), Image: c.String(0), Args: []string{c.String(0)}}
		},
		// A volume source with more than one member set does not survive JSON decoding's
		// one-of checks in clients; one is enough to exercise the conversion.
		func(v *corev1.VolumeSource, c randfill.Continue) {
			*v = corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMedium(c.String(0))}}
		},
	}
}

// defaultedFuzzers fill the internal types with values the v1alpha1 defaults would leave as they
// are, since decoding applies the defaults: each runs the real defaulting function on the fuzzed
// value instead of restating what it does.
func defaultedFuzzers(serializer.CodecFactory) []any {
	return []any{
		defaulted(v1alpha1.Convert_vitess_VitessClusterSpec_To_v1alpha1_VitessClusterSpec, v1alpha1.Convert_v1alpha1_VitessClusterSpec_To_vitess_VitessClusterSpec, v1alpha1.SetDefaults_VitessClusterSpec),
		defaulted(v1alpha1.Convert_vitess_EtcdLockserverTemplate_To_v1alpha1_EtcdLockserverTemplate, v1alpha1.Convert_v1alpha1_EtcdLockserverTemplate_To_vitess_EtcdLockserverTemplate, v1alpha1.SetDefaults_EtcdLockserverTemplate),
		defaulted(v1alpha1.Convert_vitess_VitessDashboardSpec_To_v1alpha1_VitessDashboardSpec, v1alpha1.Convert_v1alpha1_VitessDashboardSpec_To_vitess_VitessDashboardSpec, v1alpha1.SetDefaults_VitessDashboardSpec),
		defaulted(v1alpha1.Convert_vitess_VitessCellGatewaySpec_To_v1alpha1_VitessCellGatewaySpec, v1alpha1.Convert_v1alpha1_VitessCellGatewaySpec_To_vitess_VitessCellGatewaySpec, v1alpha1.SetDefaults_VitessCellGatewaySpec),
		defaulted(v1alpha1.Convert_vitess_ClusterBackupSpec_To_v1alpha1_ClusterBackupSpec, v1alpha1.Convert_v1alpha1_ClusterBackupSpec_To_vitess_ClusterBackupSpec, v1alpha1.SetDefaults_ClusterBackupSpec),
		defaulted(v1alpha1.Convert_vitess_VitessKeyspaceTemplate_To_v1alpha1_VitessKeyspaceTemplate, v1alpha1.Convert_v1alpha1_VitessKeyspaceTemplate_To_vitess_VitessKeyspaceTemplate, v1alpha1.SetDefaults_VitessKeyspaceTemplate),
		defaulted(v1alpha1.Convert_vitess_VitessWorkflowOptions_To_v1alpha1_VitessWorkflowOptions, v1alpha1.Convert_v1alpha1_VitessWorkflowOptions_To_vitess_VitessWorkflowOptions, v1alpha1.SetDefaults_VitessWorkflowOptions),
	}
}

func defaulted[Internal, Versioned any](
	toVersioned func(*Internal, *Versioned, conversion.Scope) error,
	toInternal func(*Versioned, *Internal, conversion.Scope) error,
	setDefaults func(*Versioned),
) func(*Internal, randfill.Continue) {
	return func(obj *Internal, c randfill.Continue) {
		c.FillNoCustom(obj)
		var versioned Versioned
		if err := toVersioned(obj, &versioned, nil); err != nil {
			panic(err)
		}
		setDefaults(&versioned)
		if err := toInternal(&versioned, obj, nil); err != nil {
			panic(err)
		}
	}
}
