package frontproxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	"k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newAuthority(t testing.TB, name string) authority {
	t.Helper()
	key := newKey(t)
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	return authority{cert: sign(t, template, template, &key.PublicKey, key), key: key}
}

func (a authority) clientCert(t testing.TB, commonName string) *x509.Certificate {
	t.Helper()
	template := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return sign(t, template, a.cert, &newKey(t).PublicKey, a.key)
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func sign(t testing.TB, template, parent *x509.Certificate, public *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, template, parent, public, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// recordingAuthorizer stands for the delegated authorizer: it denies, and counts what it was asked.
type recordingAuthorizer struct {
	asked []authorizer.Attributes
}

func (r *recordingAuthorizer) Authorize(_ context.Context, attributes authorizer.Attributes) (authorizer.Decision, string, error) {
	r.asked = append(r.asked, attributes)
	return authorizer.DecisionDeny, "asked the delegate", nil
}

func (r *recordingAuthorizer) ConditionsAwareAuthorize(ctx context.Context, attributes authorizer.Attributes) authorizer.ConditionsAwareDecision {
	return authorizer.ConditionsAwareDecisionFromParts(r.Authorize(ctx, attributes))
}

func (r *recordingAuthorizer) EvaluateConditions(context.Context, authorizer.ConditionsAwareDecision, authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return authorizer.DecisionDeny, "", authorizer.ErrorConditionEvaluationNotSupported
}

func TestOnlyTheProxiedRequestItselfIsSpared(t *testing.T) {
	frontProxyCA := newAuthority(t, "front-proxy-ca")
	otherCA := newAuthority(t, "client-ca")
	requestHeader := &authenticatorfactory.RequestHeaderConfig{
		CAContentProvider: mustCAContent(t, frontProxyCA.cert),
		// The aggregator's certificate names itself front-proxy-client.
		AllowedClientNames: headerrequest.StaticStringSlice{"front-proxy-client"},
	}
	alice := &user.DefaultInfo{Name: "alice", Groups: []string{"tenants"}}
	createCluster := &request.RequestInfo{
		IsResourceRequest: true, Path: "/apis/vitess.planetscale.com/v1alpha1/namespaces/a/vitessclusters",
		Verb: "create", APIGroup: "vitess.planetscale.com", APIVersion: "v1alpha1", Namespace: "a", Resource: "vitessclusters",
	}
	impersonateBob := authorizer.AttributesRecord{User: alice, Verb: "impersonate", Resource: "users", Name: "bob", ResourceRequest: true}
	deleteInOtherNamespace := authorizer.AttributesRecord{
		User: alice, Verb: "delete", APIGroup: "vitess.planetscale.com", APIVersion: "v1alpha1", Namespace: "b",
		Resource: "vitessclusters", Name: "x", ResourceRequest: true,
	}

	for _, tc := range []struct {
		name          string
		requestHeader *authenticatorfactory.RequestHeaderConfig
		peer          *x509.Certificate // nil: no client certificate
		header        http.Header
		ask           func(own authorizer.Attributes) authorizer.Attributes
		wantSpared    bool
	}{
		{name: "the proxied request", requestHeader: requestHeader, peer: frontProxyCA.clientCert(t, "front-proxy-client"), wantSpared: true},
		{name: "another check while serving it", requestHeader: requestHeader, peer: frontProxyCA.clientCert(t, "front-proxy-client"),
			ask: func(authorizer.Attributes) authorizer.Attributes { return impersonateBob }},
		{name: "another object while serving it", requestHeader: requestHeader, peer: frontProxyCA.clientCert(t, "front-proxy-client"),
			ask: func(authorizer.Attributes) authorizer.Attributes { return deleteInOtherNamespace }},
		{name: "the proxied request as another user", requestHeader: requestHeader, peer: frontProxyCA.clientCert(t, "front-proxy-client"),
			header: http.Header{"Impersonate-User": {"bob"}}},
		{name: "a name the front proxy does not have", requestHeader: requestHeader, peer: frontProxyCA.clientCert(t, "alice")},
		{name: "a certificate of another CA", requestHeader: requestHeader, peer: otherCA.clientCert(t, "front-proxy-client")},
		{name: "no client certificate", requestHeader: requestHeader},
		{name: "no front proxy configured", peer: frontProxyCA.clientCert(t, "front-proxy-client")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delegate := &recordingAuthorizer{}
			authz := Authorizer{Delegate: delegate}
			var decision authorizer.Decision
			// Stands for the handler chain inside the mark: authentication puts the user in the
			// context, the request info filter the request info, and authorization asks.
			serve := http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
				ctx := request.WithRequestInfo(request.WithUser(req.Context(), alice), createCluster)
				own, err := filters.GetAuthorizerAttributes(ctx)
				if err != nil {
					t.Fatal(err)
				}
				ask := own
				if tc.ask != nil {
					ask = tc.ask(own)
				}
				decision, _, _ = authz.Authorize(ctx, ask)
				if got := authz.ConditionsAwareAuthorize(ctx, ask); got.IsAllow() != (decision == authorizer.DecisionAllow) {
					t.Errorf("ConditionsAwareAuthorize allowed %v, Authorize decided %v", got.IsAllow(), decision)
				}
			})
			req := httptest.NewRequest(http.MethodPost, createCluster.Path, nil)
			for name, values := range tc.header {
				req.Header[name] = values
			}
			if tc.peer != nil {
				req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.peer}}
			}
			var verifier *Verifier
			if tc.requestHeader != nil {
				verifier = NewVerifier(tc.requestHeader)
			}
			WithProxiedMark(serve, verifier).ServeHTTP(httptest.NewRecorder(), req)

			if spared := len(delegate.asked) == 0; spared != tc.wantSpared {
				t.Errorf("spared the delegated authorization: %v, want %v (delegate asked %d times)", spared, tc.wantSpared, len(delegate.asked))
			}
			if wantDecision := map[bool]authorizer.Decision{true: authorizer.DecisionAllow, false: authorizer.DecisionDeny}[tc.wantSpared]; decision != wantDecision {
				t.Errorf("decision %v, want %v", decision, wantDecision)
			}
		})
	}
}

func mustCAContent(t testing.TB, ca *x509.Certificate) dynamiccertificates.CAContentProvider {
	t.Helper()
	content, err := dynamiccertificates.NewStaticCAContent("front-proxy-ca", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}))
	if err != nil {
		t.Fatal(err)
	}
	return content
}

// BenchmarkProxiedMark is what the mark adds to every request that presents the aggregator's
// certificate, once the verifier remembers it.
func BenchmarkProxiedMark(b *testing.B) {
	frontProxyCA := newAuthority(b, "front-proxy-ca")
	requestHeader := &authenticatorfactory.RequestHeaderConfig{
		CAContentProvider:  mustCAContent(b, frontProxyCA.cert),
		AllowedClientNames: headerrequest.StaticStringSlice{"front-proxy-client"},
	}
	handler := WithProxiedMark(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), NewVerifier(requestHeader))
	req := httptest.NewRequest(http.MethodGet, "/apis/vitess.planetscale.com/v1alpha1/namespaces/a/vitessclusters/x", nil)
	req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{frontProxyCA.clientCert(b, "front-proxy-client")}}
	response := httptest.NewRecorder()
	for b.Loop() {
		handler.ServeHTTP(response, req)
	}
}

// swappableCA is a request-header CA bundle that can be replaced, as kube-apiserver's
// extension-apiserver-authentication ConfigMap can; it counts the verifications asked of it.
type swappableCA struct {
	dynamiccertificates.CAContentProvider
	verifications int
}

func (s *swappableCA) VerifyOptions() (x509.VerifyOptions, bool) {
	s.verifications++
	return s.CAContentProvider.VerifyOptions()
}

func TestVerifierRemembersUntilTheBundleChangesOrTheCertificateExpires(t *testing.T) {
	frontProxyCA, nextCA := newAuthority(t, "front-proxy-ca"), newAuthority(t, "next-front-proxy-ca")
	ca := &swappableCA{CAContentProvider: mustCAContent(t, frontProxyCA.cert)}
	verifier := NewVerifier(&authenticatorfactory.RequestHeaderConfig{
		CAContentProvider:  ca,
		AllowedClientNames: headerrequest.StaticStringSlice{"front-proxy-client"},
	})
	now := time.Now()
	verifier.now = func() time.Time { return now }
	presenting := func(cert *x509.Certificate) *http.Request {
		req := httptest.NewRequest(http.MethodGet, "/apis", nil)
		req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
		return req
	}
	frontProxy := frontProxyCA.clientCert(t, "front-proxy-client")
	step := func(what string, req *http.Request, want bool, wantVerifications int) {
		t.Helper()
		if got := verifier.FromFrontProxy(req); got != want {
			t.Errorf("%s: from the front proxy %v, want %v", what, got, want)
		}
		if ca.verifications != wantVerifications {
			t.Errorf("%s: %d verifications so far, want %d", what, ca.verifications, wantVerifications)
		}
	}

	step("first request", presenting(frontProxy), true, 1)
	step("next request", presenting(frontProxy), true, 1)
	step("a name not allowed, from the same CA", presenting(frontProxyCA.clientCert(t, "alice")), false, 1)
	step("a certificate of another CA", presenting(nextCA.clientCert(t, "front-proxy-client")), false, 2)

	// The bundle now holds only the next CA: what the old one signed is not the front proxy any more.
	ca.CAContentProvider = mustCAContent(t, nextCA.cert)
	step("after the CA changed", presenting(frontProxy), false, 3)
	step("the next CA's certificate", presenting(nextCA.clientCert(t, "front-proxy-client")), true, 4)

	ca.CAContentProvider = mustCAContent(t, frontProxyCA.cert)
	step("the CA back", presenting(frontProxy), true, 5)
	now = frontProxy.NotAfter.Add(time.Second)
	step("once the certificate expired", presenting(frontProxy), false, 6)
}

func TestAuthenticatorReadsTheUserOnlyFromTheFrontProxy(t *testing.T) {
	frontProxyCA := newAuthority(t, "front-proxy-ca")
	authn := Authenticator(NewVerifier(&authenticatorfactory.RequestHeaderConfig{
		CAContentProvider:   mustCAContent(t, frontProxyCA.cert),
		AllowedClientNames:  headerrequest.StaticStringSlice{"front-proxy-client"},
		UsernameHeaders:     headerrequest.StaticStringSlice{"X-Remote-User"},
		UIDHeaders:          headerrequest.StaticStringSlice{"X-Remote-Uid"},
		GroupHeaders:        headerrequest.StaticStringSlice{"X-Remote-Group"},
		ExtraHeaderPrefixes: headerrequest.StaticStringSlice{"X-Remote-Extra-"},
	}))
	for _, tc := range []struct {
		name     string
		peer     *x509.Certificate
		wantUser string // "": not authenticated here
	}{
		{name: "the front proxy", peer: frontProxyCA.clientCert(t, "front-proxy-client"), wantUser: "alice"},
		{name: "another client of the CA", peer: frontProxyCA.clientCert(t, "mallory")},
		{name: "no certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/apis", nil)
			req.Header.Set("X-Remote-User", "alice")
			req.Header.Set("X-Remote-Group", "tenants")
			if tc.peer != nil {
				req.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.peer}}
			}
			response, ok, err := authn.AuthenticateRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantUser == "" {
				if ok {
					t.Errorf("authenticated %q, want no opinion", response.User.GetName())
				}
				return
			}
			if !ok || response.User.GetName() != tc.wantUser || !slices.Contains(response.User.GetGroups(), "tenants") {
				t.Errorf("authenticated %v (%v), want %s in tenants", ok, response, tc.wantUser)
			}
		})
	}
}
