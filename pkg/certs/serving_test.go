package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	clienttesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

const testNamespace = "vitess-system"

var secretsResource = corev1.SchemeGroupVersion.WithResource("secrets")

// newClientset is a fake clientset whose Secrets have resourceVersions that Update checks, as a
// real server does (the fake's tracker checks none), so that conflicts between replicas happen.
func newClientset(objects ...runtime.Object) *fake.Clientset {
	client := fake.NewClientset(objects...)
	var mu sync.Mutex
	client.PrependReactor("create", "secrets", func(action clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		secret := action.(clienttesting.CreateAction).GetObject().(*corev1.Secret).DeepCopy()
		secret.ResourceVersion = "1"
		// The caller gets its own copy, as from a real server: the tracker hands secret to watchers.
		return true, secret.DeepCopy(), client.Tracker().Create(secretsResource, secret, secret.Namespace)
	})
	client.PrependReactor("update", "secrets", func(action clienttesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		defer mu.Unlock()
		secret := action.(clienttesting.UpdateAction).GetObject().(*corev1.Secret).DeepCopy()
		stored, err := client.Tracker().Get(secretsResource, secret.Namespace, secret.Name)
		if err != nil {
			return true, nil, err
		}
		version := stored.(*corev1.Secret).ResourceVersion
		if secret.ResourceVersion != version {
			return true, nil, apierrors.NewConflict(secretsResource.GroupResource(), secret.Name, nil)
		}
		n, _ := strconv.Atoi(version)
		secret.ResourceVersion = strconv.Itoa(n + 1)
		return true, secret.DeepCopy(), client.Tracker().Update(secretsResource, secret, secret.Namespace)
	})
	return client
}

// fakeSecrets is the Secrets of a fake clientset that tells informers, as the clientset does, that
// it cannot stream their initial list.
type fakeSecrets struct {
	corev1client.SecretsGetter
	*fake.Clientset
}

func newAPIServiceClient(t *testing.T) *dynamicfake.FakeDynamicClient {
	t.Helper()
	apiService := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]any{"name": "v1alpha1.vitess.planetscale.com"},
		"spec": map[string]any{
			"group": "vitess.planetscale.com", "version": "v1alpha1",
			"service": map[string]any{"namespace": testNamespace, "name": "vitess-apiserver"},
		},
	}}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{APIServicesResource: "APIServiceList"}, apiService)
}

func testConfig(t *testing.T) ServingConfig {
	return ServingConfig{
		Namespace:        testNamespace,
		SecretName:       "vitess-apiserver-serving-cert",
		Service:          "vitess-apiserver",
		Validity:         time.Hour,
		ManageAPIService: true,
		Settle:           DefaultSettle,
		CertDir:          t.TempDir(),
	}
}

// replica is one server process: its own files, the shared clients and clock.
type replica struct {
	*Serving
}

func newReplica(t *testing.T, client *fake.Clientset, apiService APIService, clk *clocktesting.FakeClock) replica {
	return replica{NewServing(testConfig(t), fakeSecrets{client.CoreV1(), client}, apiService, clk)}
}

func (r replica) sync(t *testing.T) {
	t.Helper()
	if err := r.Sync(context.Background()); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// served is the certificate the replica's server would serve now: its file.
func (r replica) served(t *testing.T) *x509.Certificate {
	t.Helper()
	certPEM, err := os.ReadFile(r.CertFile())
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(r.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	pair, err := parseKeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("served files: %v", err)
	}
	return pair.cert
}

func getSecret(t *testing.T, client *fake.Clientset) *corev1.Secret {
	t.Helper()
	secret, err := client.CoreV1().Secrets(testNamespace).Get(context.Background(), "vitess-apiserver-serving-cert", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func apiServiceBundle(t *testing.T, apiService APIService) []*x509.Certificate {
	t.Helper()
	bundle, err := apiService.CABundle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cas, err := parseCertificates(bundle)
	if err != nil {
		t.Fatal(err)
	}
	return cas
}

// verifiesAgainst fails the test unless leaf is trusted by one of cas for every Service name,
// as the aggregator checks it.
func verifiesAgainst(t *testing.T, what string, leaf *x509.Certificate, cas []*x509.Certificate, now time.Time) {
	t.Helper()
	roots := x509.NewCertPool()
	for _, ca := range cas {
		roots.AddCert(ca)
	}
	for _, name := range testConfig(t).DNSNames() {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Fatalf("%s (issuer %s) is not trusted by the APIService's caBundle for %s: %v", what, leaf.Issuer.CommonName, name, err)
		}
	}
}

func mustParse(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	cert, err := parseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestFirstSyncCreatesSecretWithValidChain(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	clk := clocktesting.NewFakeClock(planStart)
	r := newReplica(t, client, apiService, clk)
	r.sync(t)

	secret := getSecret(t, client)
	ca := mustParse(t, secret.Data[KeyCACert])
	leaf := mustParse(t, secret.Data[KeyTLSCert])
	if !ca.IsCA {
		t.Errorf("ca.crt is not a CA")
	}
	if err := verifies(leaf, ca, []string{
		"vitess-apiserver", "vitess-apiserver.vitess-system", "vitess-apiserver.vitess-system.svc", "vitess-apiserver.vitess-system.svc.cluster.local",
	}, x509.ExtKeyUsageServerAuth, clk.Now()); err != nil {
		t.Fatalf("tls.crt does not verify against ca.crt: %v", err)
	}
	if _, err := parseKeyPair(secret.Data[KeyCACert], secret.Data[KeyCAKey]); err != nil {
		t.Errorf("ca.key: %v", err)
	}
	if !bytes.Equal(secret.Data[KeyCABundle], secret.Data[KeyCACert]) {
		t.Errorf("ca-bundle.crt is not the one CA")
	}
	for _, key := range []string{KeyNextCACert, KeyNextCAKey, KeyNextTLSCert, KeyNextTLSKey} {
		if _, ok := secret.Data[key]; ok {
			t.Errorf("%s present outside a rotation", key)
		}
	}
	if got := leaf.NotAfter.Sub(clk.Now()); got != time.Hour {
		t.Errorf("leaf valid for %s, want the configured hour", got)
	}
	if got := r.served(t); !got.Equal(leaf) {
		t.Errorf("the file holds another certificate than the Secret")
	}
	verifiesAgainst(t, "served certificate", r.served(t), apiServiceBundle(t, apiService), clk.Now())

	// The patch changed the caBundle only.
	obj, err := dyn.Resource(APIServicesResource).Get(context.Background(), apiService.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if group, _, _ := unstructured.NestedString(obj.Object, "spec", "group"); group != "vitess.planetscale.com" {
		t.Errorf("spec.group became %q", group)
	}
}

func TestConcurrentReplicasMakeOneSecret(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	clk := clocktesting.NewFakeClock(planStart)
	replicas := []replica{newReplica(t, client, apiService, clk), newReplica(t, client, apiService, clk), newReplica(t, client, apiService, clk)}
	var wg sync.WaitGroup
	for _, r := range replicas {
		wg.Go(func() { r.sync(t) })
	}
	wg.Wait()

	secrets, err := client.CoreV1().Secrets(testNamespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.Items) != 1 {
		t.Fatalf("%d Secrets, want 1", len(secrets.Items))
	}
	leaf := mustParse(t, secrets.Items[0].Data[KeyTLSCert])
	for i, r := range replicas {
		if !r.served(t).Equal(leaf) {
			t.Errorf("replica %d serves another certificate than the Secret's", i)
		}
	}
	verifiesAgainst(t, "served certificate", leaf, apiServiceBundle(t, apiService), clk.Now())
}

// TestRotation drives a whole rotation with a fake clock and two replicas, one of which lags
// behind (it syncs only now and then, as a replica whose resync has not come yet), and checks at
// every step that whatever either serves is trusted by the APIService.
func TestRotation(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	start := planStart
	clk := clocktesting.NewFakeClock(start)
	a, lagging := newReplica(t, client, apiService, clk), newReplica(t, client, apiService, clk)
	check := func(step string) {
		t.Helper()
		bundle := apiServiceBundle(t, apiService)
		verifiesAgainst(t, step+": replica a", a.served(t), bundle, clk.Now())
		verifiesAgainst(t, step+": lagging replica", lagging.served(t), bundle, clk.Now())
	}

	a.sync(t)
	lagging.sync(t)
	ca0 := mustParse(t, getSecret(t, client).Data[KeyCACert])
	leaf0 := a.served(t)
	check("start")

	// Before 2/3 of the lifetime nothing happens.
	clk.SetTime(start.Add(39 * time.Minute))
	a.sync(t)
	if _, ok := getSecret(t, client).Data[KeyNextCACert]; ok {
		t.Fatalf("rotation started before 2/3 of the lifetime")
	}
	check("before renewal")

	// c: past 2/3, a next CA and certificate; d: the APIService gets both CAs at once.
	clk.SetTime(start.Add(40 * time.Minute))
	a.sync(t)
	secret := getSecret(t, client)
	ca1 := mustParse(t, secret.Data[KeyNextCACert])
	if ca1.Equal(ca0) {
		t.Fatalf("the next CA is the current one")
	}
	if err := verifies(mustParse(t, secret.Data[KeyNextTLSCert]), ca1, testConfig(t).DNSNames(), x509.ExtKeyUsageServerAuth, clk.Now()); err != nil {
		t.Fatalf("next-tls.crt does not verify against next-ca.crt: %v", err)
	}
	if got := apiServiceBundle(t, apiService); len(got) != 2 || !got[0].Equal(ca0) || !got[1].Equal(ca1) {
		t.Fatalf("APIService caBundle has %d CAs, want the current and the next", len(got))
	}
	if !a.served(t).Equal(leaf0) {
		t.Fatalf("the next certificate is served before the APIService trusts its CA for the settle time")
	}
	check("rotation started")

	// e: the bundle is seen on the APIService; promotion waits for the settle time.
	clk.Step(time.Second)
	a.sync(t)
	if at := getSecret(t, client).Annotations[AnnotationBundleSeenAt]; at != clk.Now().Format(time.RFC3339Nano) {
		t.Fatalf("seen-at annotation %q, want the time of this sync", at)
	}
	clk.Step(DefaultSettle - time.Second)
	a.sync(t)
	lagging.sync(t)
	if !a.served(t).Equal(leaf0) {
		t.Fatalf("promoted before the settle time")
	}
	check("settling")

	// Promotion by one replica; the lagging one still serves the old certificate.
	clk.Step(time.Second)
	a.sync(t)
	secret = getSecret(t, client)
	if got := mustParse(t, secret.Data[KeyCACert]); !got.Equal(ca1) {
		t.Fatalf("ca.crt is not the former next CA after promotion")
	}
	for _, key := range []string{KeyNextCACert, KeyNextCAKey, KeyNextTLSCert, KeyNextTLSKey} {
		if _, ok := secret.Data[key]; ok {
			t.Errorf("%s kept after promotion", key)
		}
	}
	if _, ok := secret.Annotations[AnnotationBundleSeenAt]; ok {
		t.Errorf("seen-at annotation kept after promotion")
	}
	if served := a.served(t); served.Equal(leaf0) || served.CheckSignatureFrom(ca1) != nil {
		t.Fatalf("after promotion the replica does not serve a certificate of the new CA")
	}
	if !lagging.served(t).Equal(leaf0) {
		t.Fatalf("test setup: the lagging replica should still serve the old certificate")
	}
	if got := apiServiceBundle(t, apiService); len(got) != 2 || !got[0].Equal(ca1) || !got[1].Equal(ca0) {
		t.Fatalf("after promotion the APIService caBundle has %d CAs, want the new and the old", len(got))
	}
	check("promoted")
	lagging.sync(t)
	if !lagging.served(t).Equal(a.served(t)) {
		t.Fatalf("the lagging replica did not take the new certificate")
	}
	check("all replicas on the new certificate")

	// f: once the old CA has expired it leaves the bundle and the APIService.
	clk.SetTime(ca0.NotAfter.Add(-time.Second))
	a.sync(t)
	if got := apiServiceBundle(t, apiService); len(got) != 2 {
		t.Fatalf("the old CA left the bundle before it expired")
	}
	clk.SetTime(ca0.NotAfter)
	a.sync(t)
	if got := apiServiceBundle(t, apiService); len(got) != 1 || !got[0].Equal(ca1) {
		t.Fatalf("after the old CA expired the APIService caBundle has %d CAs, want the new one only", len(got))
	}
	if got, _ := parseCertificates(getSecret(t, client).Data[KeyCABundle]); len(got) != 1 {
		t.Fatalf("ca-bundle.crt has %d CAs after the old one expired, want 1", len(got))
	}
	check("old CA expired")
}

// Two replicas that both see the leaf past 2/3 start one rotation, not two.
func TestConcurrentRotationMakesOneNextCA(t *testing.T) {
	client, dyn := newClientset(), newAPIServiceClient(t)
	apiService := APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}
	start := planStart
	clk := clocktesting.NewFakeClock(start)
	a, b := newReplica(t, client, apiService, clk), newReplica(t, client, apiService, clk)
	a.sync(t)
	clk.SetTime(start.Add(41 * time.Minute))
	var wg sync.WaitGroup
	wg.Go(func() { a.sync(t) })
	wg.Go(func() { b.sync(t) })
	wg.Wait()
	next := getSecret(t, client).Data[KeyNextCACert]
	if len(next) == 0 {
		t.Fatal("no rotation started")
	}
	// The loser of the race took the winner's next CA rather than making another.
	a.sync(t)
	b.sync(t)
	if after := getSecret(t, client); !bytes.Equal(after.Data[KeyNextCACert], next) {
		t.Fatalf("the next CA changed: the replicas disagree")
	}
	if got := apiServiceBundle(t, apiService); len(got) != 2 {
		t.Fatalf("APIService caBundle has %d CAs, want the current and the one next", len(got))
	}
}

func TestResyncInterval(t *testing.T) {
	for validity, want := range map[time.Duration]time.Duration{
		8760 * time.Hour: 30 * time.Second,
		3 * time.Minute:  9 * time.Second,
		10 * time.Second: time.Second,
	} {
		if got := ResyncInterval(validity); got != want {
			t.Errorf("ResyncInterval(%s) = %s, want %s", validity, got, want)
		}
	}
}

// An APIService that does not exist yet (it is applied last) does not keep the server from its
// certificate.
func TestSyncWithoutAPIServiceWritesFiles(t *testing.T) {
	client := newClientset()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{APIServicesResource: "APIServiceList"})
	r := newReplica(t, client, APIService{Client: dyn, Name: "v1alpha1.vitess.planetscale.com"}, clocktesting.NewFakeClock(planStart))
	r.sync(t)
	if !r.served(t).Equal(mustParse(t, getSecret(t, client).Data[KeyTLSCert])) {
		t.Fatal("the file is not the Secret's certificate")
	}
}
