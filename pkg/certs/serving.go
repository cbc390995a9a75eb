package certs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// The keys of the serving certificate's Secret.
const (
	KeyCACert   = "ca.crt"        // the current CA
	KeyCAKey    = "ca.key"        // its key
	KeyTLSCert  = "tls.crt"       // the certificate every replica serves, signed by the current CA
	KeyTLSKey   = "tls.key"       // its key
	KeyCABundle = "ca-bundle.crt" // every CA whose certificates may still be served: the APIService's caBundle
	// During a rotation, the CA and certificate that will replace the current ones once the
	// APIService trusts the new CA.
	KeyNextCACert  = "next-ca.crt"
	KeyNextCAKey   = "next-ca.key"
	KeyNextTLSCert = "next-tls.crt"
	KeyNextTLSKey  = "next-tls.key"
)

// The annotations that record when the APIService was first seen holding the Secret's bundle
// during a rotation: the next CA is promoted only once that has lasted ServingConfig.Settle, so
// that kube-apiserver's aggregator has had time to pick the bundle up. The hash ties the time to
// one bundle; any other bundle starts the wait again.
const (
	AnnotationBundleSeenAt     = "vitess.planetscale.com/ca-bundle-seen-at"
	AnnotationBundleSeenSHA256 = "vitess.planetscale.com/ca-bundle-seen-sha256"
)

// DefaultSettle is how long the APIService must have held a bundle with the next CA before that
// CA's certificate is served.
const DefaultSettle = 10 * time.Second

// ServingConfig says which Secret holds the serving certificate and what it certifies.
type ServingConfig struct {
	Namespace  string
	SecretName string
	// Service is the name of the Service the aggregator reaches the server through.
	Service string
	// Validity is the lifetime of each CA and certificate; renewal starts at 2/3 of it.
	Validity time.Duration
	// ManageAPIService says that the server keeps an APIService's caBundle equal to the Secret's
	// bundle. Without it nobody is watched: the next CA is promoted Settle after it was made.
	ManageAPIService bool
	Settle           time.Duration
	// CertDir receives tls.crt and tls.key, the files the server serves.
	CertDir string
}

// DNSNames are the names the serving certificate is valid for.
func (c ServingConfig) DNSNames() []string {
	svc := c.Service + "." + c.Namespace
	return []string{c.Service, svc, svc + ".svc", svc + ".svc.cluster.local"}
}

// ResyncInterval is how often each replica re-checks the Secret without any event: often enough
// that a rotation, which starts at 2/3 of the lifetime, is never late.
func ResyncInterval(validity time.Duration) time.Duration {
	return min(max(validity/20, time.Second), 30*time.Second)
}

// servingPair is a CA and the serving certificate it signed.
type servingPair struct {
	ca, leaf *keyPair
}

func (c ServingConfig) newServingPair(now time.Time) (*servingPair, error) {
	ca, err := newCA("vitess-apiserver-serving-ca@"+strconv.FormatInt(now.Unix(), 10), now, c.Validity)
	if err != nil {
		return nil, err
	}
	return c.reissue(ca, now)
}

// reissue makes a new serving certificate under ca.
func (c ServingConfig) reissue(ca *keyPair, now time.Time) (*servingPair, error) {
	leaf, err := newLeaf(ca, c.leafSpec(), now, now.Add(c.Validity))
	if err != nil {
		return nil, err
	}
	return &servingPair{ca: ca, leaf: leaf}, nil
}

func (c ServingConfig) leafSpec() leafSpec {
	names := c.DNSNames()
	return leafSpec{commonName: names[2], dnsNames: names, usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// parseServingPair reads a CA and certificate from data; nil when any of them is missing or broken.
func parseServingPair(data map[string][]byte, caCert, caKey, tlsCert, tlsKey string) *servingPair {
	ca, err := parseKeyPair(data[caCert], data[caKey])
	if err != nil {
		return nil
	}
	leaf, err := parseKeyPair(data[tlsCert], data[tlsKey])
	if err != nil {
		return nil
	}
	return &servingPair{ca: ca, leaf: leaf}
}

// serves reports whether the pair's certificate is one to serve at now: signed by its CA, valid,
// and for exactly the configured names (a changed --serving-cert-service needs a new one).
func (c ServingConfig) serves(p *servingPair, now time.Time) bool {
	want := c.DNSNames()
	have := slices.Clone(p.leaf.cert.DNSNames)
	slices.Sort(want)
	slices.Sort(have)
	return slices.Equal(want, have) && verifies(p.leaf.cert, p.ca.cert, want, x509.ExtKeyUsageServerAuth, now) == nil
}

// renewAt is when a certificate has lived 2/3 of its lifetime, counted from its issue, or 2/3
// of the configured validity if that is shorter: a shortened --serving-cert-validity applies to
// the certificate already served too, not only to the next one.
func (c ServingConfig) renewAt(cert *x509.Certificate) time.Time {
	issued := cert.NotBefore.Add(backdate)
	return issued.Add(min(cert.NotAfter.Sub(issued), c.Validity) * 2 / 3)
}

// bundleOf lists the current CA, the next one, and those of old that are still valid at now: a
// replica may still serve a certificate they signed.
func bundleOf(current, next *servingPair, old []byte, now time.Time) []byte {
	cas := []*x509.Certificate{current.ca.cert}
	if next != nil {
		cas = append(cas, next.ca.cert)
	}
	// A bundle that does not parse is only lost history: the current and next CAs are kept.
	previous, _ := parseCertificates(old)
	for _, ca := range previous {
		if now.Before(ca.NotAfter) && !slices.ContainsFunc(cas, ca.Equal) {
			cas = append(cas, ca)
		}
	}
	return encodeCertificates(cas)
}

func bundleHash(bundle []byte) string {
	sum := sha256.Sum256(bundle)
	return hex.EncodeToString(sum[:])
}

// planServing is the rotation's decision: from the Secret's data and annotations, the caBundle the
// APIService holds (nil when unknown) and the time, the data and annotations the Secret should
// have, and what changed, for the log (never key material). Every replica runs it on what it
// read; as it depends on nothing else, replicas that read the same Secret agree, and the one
// whose update lands first wins.
func planServing(c ServingConfig, data map[string][]byte, annotations map[string]string, observed []byte, now time.Time) (map[string][]byte, map[string]string, []string, error) {
	var notes []string
	current := parseServingPair(data, KeyCACert, KeyCAKey, KeyTLSCert, KeyTLSKey)
	next := parseServingPair(data, KeyNextCACert, KeyNextCAKey, KeyNextTLSCert, KeyNextTLSKey)
	if next != nil && !c.serves(next, now) {
		next = nil
		notes = append(notes, "dropped a next certificate that is no longer valid for the Service")
	}
	var err error
	switch {
	case current != nil && c.serves(current, now):
	case current != nil && now.Before(current.ca.cert.NotAfter):
		// The CA is fine but the certificate is not (expired, or for other names): a new one under
		// the same CA is trusted wherever the old one was, at once.
		if current, err = c.reissue(current.ca, now); err != nil {
			return nil, nil, nil, err
		}
		notes = append(notes, "reissued the serving certificate under the current CA")
	case next != nil:
		// What is served now is unusable anyway: nothing is lost by serving the next one at once.
		current, next = next, nil
		notes = append(notes, "promoted the next CA at once: the current certificate is unusable")
	default:
		if current, err = c.newServingPair(now); err != nil {
			return nil, nil, nil, err
		}
		notes = append(notes, "issued a new CA and serving certificate")
	}

	if next == nil && !now.Before(c.renewAt(current.leaf.cert)) {
		if next, err = c.newServingPair(now); err != nil {
			return nil, nil, nil, err
		}
		notes = append(notes, "started a rotation: made the next CA and certificate, added the CA to the bundle")
	}

	bundle := bundleOf(current, next, data[KeyCABundle], now)
	outAnnotations := maps.Clone(annotations)
	if outAnnotations == nil {
		outAnnotations = map[string]string{}
	}
	if next != nil {
		hash := bundleHash(bundle)
		seen := !c.ManageAPIService || bytes.Equal(observed, bundle)
		seenAt, parseErr := time.Parse(time.RFC3339Nano, annotations[AnnotationBundleSeenAt])
		switch {
		case !seen:
			// The wait starts again once the APIService holds the bundle.
			delete(outAnnotations, AnnotationBundleSeenAt)
			delete(outAnnotations, AnnotationBundleSeenSHA256)
		case annotations[AnnotationBundleSeenSHA256] != hash || parseErr != nil:
			outAnnotations[AnnotationBundleSeenAt] = now.UTC().Format(time.RFC3339Nano)
			outAnnotations[AnnotationBundleSeenSHA256] = hash
		case now.Sub(seenAt) >= c.Settle:
			// The aggregator trusts the next CA: serve its certificate. The old CA stays in the
			// bundle until it expires, for replicas that still serve the old certificate.
			current, next = next, nil
			bundle = bundleOf(current, nil, bundle, now)
			notes = append(notes, "promoted the next CA and certificate: the APIService has trusted the new CA for "+c.Settle.String())
		}
	}
	if next == nil {
		delete(outAnnotations, AnnotationBundleSeenAt)
		delete(outAnnotations, AnnotationBundleSeenSHA256)
	}

	out := maps.Clone(data)
	if out == nil {
		out = map[string][]byte{}
	}
	out[KeyCACert], out[KeyCAKey] = current.ca.certPEM, current.ca.keyPEM
	out[KeyTLSCert], out[KeyTLSKey] = current.leaf.certPEM, current.leaf.keyPEM
	out[KeyCABundle] = bundle
	if next != nil {
		out[KeyNextCACert], out[KeyNextCAKey] = next.ca.certPEM, next.ca.keyPEM
		out[KeyNextTLSCert], out[KeyNextTLSKey] = next.leaf.certPEM, next.leaf.keyPEM
	} else {
		for _, key := range []string{KeyNextCACert, KeyNextCAKey, KeyNextTLSCert, KeyNextTLSKey} {
			delete(out, key)
		}
	}
	if old, _ := parseCertificates(data[KeyCABundle]); len(old) > 0 {
		if kept, _ := parseCertificates(bundle); droppedExpired(old, kept, now) {
			notes = append(notes, "dropped expired CAs from the bundle")
		}
	}
	return out, outAnnotations, notes, nil
}

// droppedExpired reports whether a CA of old that has expired at now is not in kept.
func droppedExpired(old, kept []*x509.Certificate, now time.Time) bool {
	return slices.ContainsFunc(old, func(ca *x509.Certificate) bool {
		return !now.Before(ca.NotAfter) && !slices.ContainsFunc(kept, ca.Equal)
	})
}

// CABundleTarget is where the aggregator reads the CAs it trusts for this server: the APIService.
type CABundleTarget interface {
	// CABundle is the PEM bundle it holds, empty when none.
	CABundle(ctx context.Context) ([]byte, error)
	SetCABundle(ctx context.Context, bundle []byte) error
}

// Serving keeps the serving certificate: in the Secret, where every replica renews it, in the
// APIService's caBundle, and in the files the server serves.
type Serving struct {
	config  ServingConfig
	secrets corev1client.SecretInterface
	// client made secrets; it may say that it cannot stream an informer's initial list.
	client corev1client.SecretsGetter
	// apiService is nil unless config.ManageAPIService.
	apiService CABundleTarget
	clock      clock.WithTicker
	files      fileWriter
}

// NewServing returns the keeper of the serving certificate of config; apiService is used only
// when config.ManageAPIService.
func NewServing(config ServingConfig, secrets corev1client.SecretsGetter, apiService CABundleTarget, clk clock.WithTicker) *Serving {
	if !config.ManageAPIService {
		apiService = nil
	}
	return &Serving{
		config:     config,
		secrets:    secrets.Secrets(config.Namespace),
		client:     secrets,
		apiService: apiService,
		clock:      clk,
		files:      newFileWriter(config.CertDir),
	}
}

// CertFile and KeyFile are the files that hold the certificate to serve.
func (s *Serving) CertFile() string { return s.files.path(KeyTLSCert) }
func (s *Serving) KeyFile() string  { return s.files.path(KeyTLSKey) }

// Sync runs one round of the rotation: it makes the Secret what planServing says, the APIService's
// caBundle the Secret's bundle, and the files the Secret's current certificate.
func (s *Serving) Sync(ctx context.Context) error {
	var secret *corev1.Secret
	var observed []byte
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		read, err := s.getOrCreate(ctx)
		if err != nil {
			return err
		}
		if s.apiService != nil {
			if observed, err = s.apiService.CABundle(ctx); err != nil {
				// Without the APIService nothing is promoted, but the files are still written.
				klog.ErrorS(err, "Cannot read the APIService's caBundle")
				observed = nil
			}
		}
		data, annotations, notes, err := planServing(s.config, read.Data, read.Annotations, observed, s.clock.Now())
		if err != nil {
			return err
		}
		if maps.EqualFunc(data, read.Data, bytes.Equal) && maps.Equal(annotations, read.Annotations) {
			secret = read
			return nil
		}
		update := read.DeepCopy()
		update.Data, update.Annotations = data, annotations
		updated, err := s.secrets.Update(ctx, update, metav1.UpdateOptions{})
		if err != nil {
			return err
		}
		for _, note := range notes {
			klog.InfoS("Serving certificate: "+note, "secret", klog.KObj(updated), "ca", subject(data[KeyCACert]), "nextCA", subject(data[KeyNextCACert]))
		}
		secret = updated
		return nil
	})
	if err != nil {
		return fmt.Errorf("serving certificate Secret %s/%s: %w", s.config.Namespace, s.config.SecretName, err)
	}
	// The files first: an APIService that is not there yet (it is applied last) must not keep the
	// server from serving.
	if err := s.writeFiles(secret); err != nil {
		return err
	}
	if bundle := secret.Data[KeyCABundle]; s.apiService != nil && !bytes.Equal(observed, bundle) {
		// Not an error of Sync: the next one retries, and until the APIService holds the bundle
		// nothing is promoted.
		if err := s.apiService.SetCABundle(ctx, bundle); err != nil {
			klog.ErrorS(err, "Cannot set the APIService's caBundle")
			return nil
		}
		certs, _ := parseCertificates(bundle)
		klog.InfoS("Set the APIService's caBundle from the Secret", "secret", klog.KObj(secret), "cas", len(certs))
	}
	return nil
}

// getOrCreate reads the Secret, creating it with a new CA and certificate when there is none.
func (s *Serving) getOrCreate(ctx context.Context) (*corev1.Secret, error) {
	secret, err := s.secrets.Get(ctx, s.config.SecretName, metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		return secret, err
	}
	data, _, notes, err := planServing(s.config, nil, nil, nil, s.clock.Now())
	if err != nil {
		return nil, err
	}
	secret, err = s.secrets.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: s.config.SecretName, Namespace: s.config.Namespace, Labels: managedLabels},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		// Another replica was first: use its CA.
		return s.secrets.Get(ctx, s.config.SecretName, metav1.GetOptions{})
	}
	if err != nil {
		return nil, err
	}
	for _, note := range notes {
		klog.InfoS("Serving certificate: "+note, "secret", klog.KObj(secret), "ca", subject(data[KeyCACert]))
	}
	return secret, nil
}

// writeFiles writes the Secret's current certificate and key where the server reads them.
func (s *Serving) writeFiles(secret *corev1.Secret) error {
	changed, err := s.files.write(map[string][]byte{KeyTLSKey: secret.Data[KeyTLSKey], KeyTLSCert: secret.Data[KeyTLSCert]})
	if err != nil {
		return err
	}
	if changed {
		klog.InfoS("Wrote the serving certificate", "file", s.CertFile(), "ca", issuer(secret.Data[KeyTLSCert]), "notAfter", notAfter(secret.Data[KeyTLSCert]))
	}
	return nil
}

// Run keeps the certificate until ctx is done: on every change of the Secret it writes the files,
// and every ResyncInterval it runs Sync, so that a rotation happens on time without any event.
func (s *Serving) Run(ctx context.Context) error {
	selector := fields.OneTermEqualSelector("metadata.name", s.config.SecretName).String()
	// The client says whether it can stream the initial list (a fake cannot), as generated
	// informers do.
	informer := cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, options metav1.ListOptions) (runtime.Object, error) {
			options.FieldSelector = selector
			return s.secrets.List(ctx, options)
		},
		WatchFuncWithContext: func(ctx context.Context, options metav1.ListOptions) (watch.Interface, error) {
			options.FieldSelector = selector
			return s.secrets.Watch(ctx, options)
		},
	}, s.client), &corev1.Secret{}, 0, cache.Indexers{})
	onChange := func(obj any) {
		// The field selector already does this on a real server; a fake client ignores it.
		if secret, ok := obj.(*corev1.Secret); ok && secret.Name == s.config.SecretName {
			if err := s.writeFiles(secret); err != nil {
				klog.ErrorS(err, "Cannot write the serving certificate", "secret", klog.KObj(secret))
			}
		}
	}
	if _, err := informer.AddEventHandlerWithOptions(cache.ResourceEventHandlerFuncs{
		AddFunc:    onChange,
		UpdateFunc: func(_, obj any) { onChange(obj) },
	}, cache.HandlerOptions{}); err != nil {
		return err
	}
	go informer.RunWithContext(ctx)

	ticker := s.clock.NewTicker(ResyncInterval(s.config.Validity))
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C():
			if err := s.Sync(ctx); err != nil {
				klog.ErrorS(err, "Serving certificate sync failed; retrying at the next resync")
			}
		}
	}
}

// managedLabels mark the Secrets the server makes.
var managedLabels = map[string]string{"app.kubernetes.io/managed-by": "vitess-apiserver"}

// subject, issuer and notAfter describe a certificate for the log; "" when there is none.
func subject(certPEM []byte) string {
	if cert, err := parseCertificate(certPEM); err == nil {
		return cert.Subject.CommonName
	}
	return ""
}

func issuer(certPEM []byte) string {
	if cert, err := parseCertificate(certPEM); err == nil {
		return cert.Issuer.CommonName
	}
	return ""
}

func notAfter(certPEM []byte) string {
	if cert, err := parseCertificate(certPEM); err == nil {
		return cert.NotAfter.UTC().Format(time.RFC3339)
	}
	return ""
}
