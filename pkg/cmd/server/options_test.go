package server

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// parse makes Options from command-line arguments, as the command does, and completes them.
// Complete may write a self-signed certificate into --cert-dir: a test's own, unless args say.
func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	o := NewOptions(io.Discard, io.Discard)
	if err := NewCommand(context.Background(), o).Flags().Parse(append([]string{"--cert-dir=" + t.TempDir()}, args...)); err != nil {
		t.Fatal(err)
	}
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestCertificateFlagDefaults(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "")
	o := NewOptions(io.Discard, io.Discard)
	if o.Namespace != "vitess-system" || o.ServingCertSecret != "" || o.ServingCertService != "vitess-apiserver" ||
		o.ServingCertValidity != 8760*time.Hour || o.APIService != "v1alpha1.vitess.planetscale.com" ||
		o.EtcdTLSSecret != "" || o.EtcdService != "vitess-apiserver-etcd" || o.EtcdMembers != 3 {
		t.Errorf("defaults: %+v", o)
	}
	if !strings.HasPrefix(o.RecommendedOptions.SecureServing.ServerCert.CertDirectory, "/tmp/") {
		t.Errorf("--cert-dir default %q is not under /tmp", o.RecommendedOptions.SecureServing.ServerCert.CertDirectory)
	}
	t.Setenv("POD_NAMESPACE", "elsewhere")
	if o := NewOptions(io.Discard, io.Discard); o.Namespace != "elsewhere" {
		t.Errorf("--namespace default %q, want $POD_NAMESPACE", o.Namespace)
	}
}

// With the Secret the server never makes a self-signed certificate: it would hide a failure to
// use the Secret's.
func TestServingCertSecretSkipsSelfSigned(t *testing.T) {
	o := parse(t, "--serving-cert-secret=vitess-apiserver-serving-cert")
	if key := o.RecommendedOptions.SecureServing.ServerCert.CertKey; key.CertFile != "" || key.KeyFile != "" {
		t.Errorf("Complete set a certificate: %+v", key)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestValidateCertificateFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string // "" for valid
	}{
		{"both secrets", []string{"--serving-cert-secret=s", "--etcd-tls-secret=e", "--etcd-servers=https://etcd:2379"}, ""},
		{"no apiservice", []string{"--serving-cert-secret=s", "--apiservice="}, ""},
		{"serving secret and tls files", []string{"--serving-cert-secret=s", "--tls-cert-file=/c", "--tls-private-key-file=/k"}, "cannot be combined with --tls-cert-file"},
		{"short validity", []string{"--serving-cert-secret=s", "--serving-cert-validity=30s"}, "--serving-cert-validity 30s"},
		{"bad service", []string{"--serving-cert-secret=s", "--serving-cert-service=Not_A_Name"}, "--serving-cert-service"},
		{"bad namespace", []string{"--serving-cert-secret=s", "--namespace=a.b"}, "--namespace"},
		{"bad secret", []string{"--serving-cert-secret=S!"}, "--serving-cert-secret"},
		{"etcd secret and etcd files", []string{"--etcd-tls-secret=e", "--etcd-servers=https://etcd:2379", "--etcd-cafile=/ca"}, "cannot be combined with --etcd-cafile"},
		{"etcd secret and embedded etcd", []string{"--etcd-tls-secret=e"}, "--etcd-tls-secret needs --etcd-servers"},
		{"no etcd members", []string{"--etcd-tls-secret=e", "--etcd-servers=https://etcd:2379", "--etcd-members=0"}, "--etcd-members 0"},
		{"no cert dir", []string{"--serving-cert-secret=s", "--cert-dir="}, "--cert-dir is required"},
		{"unset flags checked only when used", []string{"--serving-cert-service=Not_A_Name", "--etcd-members=0"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := parse(t, tc.args...).Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate: %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// The reconcile loop's limits: a QPS of 0 would be client-go's 5 requests a second, a negative one
// no limit at all; neither is what a user asking for it would mean.
func TestValidateReconcileFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for valid
	}{
		{nil, ""},
		{[]string{"--reconcile-api-qps=20", "--reconcile-api-burst=30", "--reconcile-workers=5"}, ""},
		{[]string{"--reconcile-api-qps=0"}, "--reconcile-api-qps 0"},
		{[]string{"--reconcile-api-qps=-1"}, "--reconcile-api-qps -1"},
		{[]string{"--reconcile-api-burst=0"}, "--reconcile-api-burst 0"},
		{[]string{"--reconcile-workers=0"}, "--reconcile-workers 0"},
	} {
		err := parse(t, tc.args...).Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: %v, want an error with %q", tc.args, err, tc.want)
		}
	}
}
