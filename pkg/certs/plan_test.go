package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
	clocktesting "k8s.io/utils/clock/testing"
)

var planStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// plan runs planServing and fails the test on an error.
func plan(t *testing.T, c ServingConfig, data map[string][]byte, annotations map[string]string, observed []byte, now time.Time) (map[string][]byte, map[string]string, []string) {
	t.Helper()
	data, annotations, notes, err := planServing(c, data, annotations, observed, now)
	if err != nil {
		t.Fatal(err)
	}
	return data, annotations, notes
}

// Without an APIService to watch, the next CA is served Settle after it was made.
func TestPlanWithoutAPIServicePromotesAfterSettle(t *testing.T) {
	c := testConfig(t)
	c.ManageAPIService = false
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	renewal := planStart.Add(40 * time.Minute)
	data, annotations, _ = plan(t, c, data, annotations, nil, renewal)
	if len(data[KeyNextCACert]) == 0 || annotations[AnnotationBundleSeenAt] == "" {
		t.Fatalf("rotation not started with its settle time recorded: %v", annotations)
	}
	next := data[KeyNextTLSCert]
	data, annotations, _ = plan(t, c, data, annotations, nil, renewal.Add(c.Settle-time.Nanosecond))
	if len(data[KeyNextCACert]) == 0 {
		t.Fatalf("promoted before the settle time")
	}
	data, _, notes := plan(t, c, data, annotations, nil, renewal.Add(c.Settle))
	if !bytes.Equal(data[KeyTLSCert], next) {
		t.Fatalf("not promoted after the settle time: %v", notes)
	}
}

// The settle time restarts when the APIService stops holding the bundle (someone edited it).
func TestPlanRestartsSettleWhenAPIServiceDiffers(t *testing.T) {
	c := testConfig(t)
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	renewal := planStart.Add(40 * time.Minute)
	data, annotations, _ = plan(t, c, data, annotations, data[KeyCABundle], renewal)
	bundle := data[KeyCABundle]
	data, annotations, _ = plan(t, c, data, annotations, bundle, renewal)
	if annotations[AnnotationBundleSeenAt] == "" {
		t.Fatalf("bundle on the APIService not recorded")
	}
	data, annotations, _ = plan(t, c, data, annotations, data[KeyCACert], renewal.Add(c.Settle))
	if len(data[KeyNextCACert]) == 0 {
		t.Fatalf("promoted while the APIService does not trust the next CA")
	}
	if _, ok := annotations[AnnotationBundleSeenAt]; ok {
		t.Fatalf("seen-at kept while the APIService holds another bundle")
	}
	data, annotations, _ = plan(t, c, data, annotations, bundle, renewal.Add(c.Settle))
	data, _, _ = plan(t, c, data, annotations, bundle, renewal.Add(2*c.Settle-time.Nanosecond))
	if len(data[KeyNextCACert]) == 0 {
		t.Fatalf("promoted before a whole settle time since the APIService held the bundle again")
	}
}

// A changed --serving-cert-service needs a new certificate, which the same CA signs: the
// APIService trusts it at once, no rotation needed.
func TestPlanReissuesForAnotherService(t *testing.T) {
	c := testConfig(t)
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	c.Service = "renamed"
	now := planStart.Add(time.Minute)
	out, _, notes := plan(t, c, data, annotations, data[KeyCABundle], now)
	if !bytes.Equal(out[KeyCACert], data[KeyCACert]) || !bytes.Equal(out[KeyCABundle], data[KeyCABundle]) {
		t.Fatalf("the CA or bundle changed: %v", notes)
	}
	if err := verifies(mustParse(t, out[KeyTLSCert]), mustParse(t, out[KeyCACert]), c.DNSNames(), x509.ExtKeyUsageServerAuth, now); err != nil {
		t.Fatalf("reissued certificate: %v", err)
	}
	if _, ok := out[KeyNextCACert]; ok {
		t.Fatalf("a rotation started for a new name")
	}
}

// An expired certificate under a CA that is still valid is reissued at once; with the CA
// expired too, everything is new.
func TestPlanReplacesExpired(t *testing.T) {
	c := testConfig(t)
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	ca := mustParse(t, data[KeyCACert])
	later := ca.NotAfter.Add(time.Hour)
	out, _, _ := plan(t, c, data, annotations, data[KeyCABundle], later)
	if mustParse(t, out[KeyCACert]).Equal(ca) {
		t.Fatalf("an expired CA kept")
	}
	if err := verifies(mustParse(t, out[KeyTLSCert]), mustParse(t, out[KeyCACert]), c.DNSNames(), x509.ExtKeyUsageServerAuth, later); err != nil {
		t.Fatalf("new certificate: %v", err)
	}
	if cas, _ := parseCertificates(out[KeyCABundle]); len(cas) != 1 {
		t.Fatalf("bundle has %d CAs, want the new one only", len(cas))
	}
}

// Expired CAs leave the bundle; valid ones stay, whatever their order.
func TestPlanDropsExpiredCAsFromBundle(t *testing.T) {
	c := testConfig(t)
	old, err := newCA("old", planStart.Add(-time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	valid, err := newCA("valid", planStart, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	data[KeyCABundle] = append(append(append([]byte{}, old.certPEM...), data[KeyCACert]...), valid.certPEM...)
	out, _, notes := plan(t, c, data, annotations, nil, planStart.Add(time.Second))
	cas, err := parseCertificates(out[KeyCABundle])
	if err != nil {
		t.Fatal(err)
	}
	if len(cas) != 2 || !cas[0].Equal(mustParse(t, data[KeyCACert])) || !cas[1].Equal(valid.cert) {
		t.Fatalf("bundle: %d CAs, want the current and the valid one", len(cas))
	}
	if len(notes) != 1 || notes[0] != "dropped expired CAs from the bundle" {
		t.Fatalf("notes %q", notes)
	}
}

// The server's dynamic serving content, which watches the files, takes the rotated certificate.
func TestServedFilesAreReloaded(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	clk := clocktesting.NewFakeClock(planStart)
	r := newReplica(t, client, apiService, clk)
	r.sync(t)
	content, err := dynamiccertificates.NewDynamicServingContentFromFiles("serving-cert", r.CertFile(), r.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	before, _ := content.CurrentCertKeyContent()

	clk.SetTime(planStart.Add(40 * time.Minute))
	r.sync(t) // rotation starts, APIService patched
	r.sync(t) // bundle seen on the APIService
	clk.Step(DefaultSettle)
	r.sync(t) // promoted
	if err := content.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, key := content.CurrentCertKeyContent()
	if bytes.Equal(before, after) {
		t.Fatalf("the served content did not change")
	}
	secret := getSecret(t, client)
	if !bytes.Equal(after, secret.Data[KeyTLSCert]) || !bytes.Equal(key, secret.Data[KeyTLSKey]) {
		t.Fatalf("the served content is not the Secret's current certificate")
	}
}

// Run writes the files when another replica changes the Secret, and syncs on its own every
// ResyncInterval.
func TestRunFollowsSecretAndResyncs(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	clk := clocktesting.NewFakeClock(planStart)
	watcher, other := newReplica(t, client, apiService, clk), newReplica(t, client, apiService, clk)
	other.sync(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- watcher.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	// From the informer alone (the fake clock has not ticked).
	waitForFile(t, watcher, getSecret(t, client).Data[KeyTLSCert])

	// Another replica rotates; the informer brings the new certificate.
	clk.SetTime(planStart.Add(40 * time.Minute))
	other.sync(t)
	other.sync(t)
	clk.Step(DefaultSettle)
	other.sync(t)
	promoted := getSecret(t, client).Data[KeyTLSCert]
	waitForFile(t, watcher, promoted)

	// With no event, the resync starts the next rotation on time.
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return clk.HasWaiters(), nil
	}); err != nil {
		t.Fatal("Run made no ticker")
	}
	clk.SetTime(mustParse(t, promoted).NotAfter.Add(-20 * time.Minute))
	clk.Step(ResyncInterval(time.Hour))
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		return len(getSecret(t, client).Data[KeyNextCACert]) > 0, nil
	}); err != nil {
		t.Fatal("the resync did not start the rotation")
	}
}

func waitForFile(t *testing.T, r replica, want []byte) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		got, err := os.ReadFile(r.CertFile())
		return err == nil && bytes.Equal(got, want), nil
	})
	if err != nil {
		t.Fatalf("the replica's file never held the Secret's certificate")
	}
}

// A shorter --serving-cert-validity applies to the certificate already served (e.g. a year's, from
// an earlier install): its renewal is due once it has lived 2/3 of the new validity.
func TestPlanRenewsWhenValidityIsShortened(t *testing.T) {
	c := testConfig(t)
	data, annotations, _ := plan(t, c, nil, nil, nil, planStart)
	c.Validity /= 4
	data, _, _ = plan(t, c, data, annotations, data[KeyCABundle], planStart.Add(c.Validity*2/3-time.Minute))
	if len(data[KeyNextCACert]) != 0 {
		t.Fatalf("rotation started before 2/3 of the shortened validity")
	}
	data, _, notes := plan(t, c, data, annotations, data[KeyCABundle], planStart.Add(c.Validity*2/3))
	if len(data[KeyNextCACert]) == 0 {
		t.Fatalf("no rotation at 2/3 of the shortened validity: %v", notes)
	}
}
