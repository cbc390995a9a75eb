// Package frontproxy spares a request that kube-apiserver's aggregator proxied a second
// authorization of the same thing.
//
// kube-apiserver authenticates and authorizes every request before its aggregator proxies it to
// this server, with the front-proxy client certificate and the user in X-Remote-* headers. An
// aggregated server's delegated authorizer then asks kube-apiserver again, with a
// SubjectAccessReview, whether that user may do that same thing: the same answer, at the price
// of a round trip for every name it has not cached. The holder of the front-proxy certificate may
// already assert any user and any group (system:masters included), so trusting its earlier
// decision gives it nothing it does not have.
//
// Only the request itself is spared, and only when it carries the front-proxy certificate
// (verified against the request-header CA and allowed names) and no impersonation headers of its
// own. Every other authorization, of a request that came any other way or of anything else the
// server checks on a request's behalf, goes to the delegate in full.
//
// The aggregator's certificate is verified by one Verifier for authentication and for the mark,
// which remembers it rather than verifying its chain again on every request.
package frontproxy

import (
	"bytes"
	"context"
	"crypto/x509"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/authentication/group"
	"k8s.io/apiserver/pkg/authentication/request/headerrequest"
	"k8s.io/apiserver/pkg/authentication/request/union"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
	genericapiserver "k8s.io/apiserver/pkg/server"
)

type proxiedKey struct{}

// Verifier tells whether a request presents the front proxy's client certificate: one that
// verifies against the request-header CA and names one of the allowed clients. It remembers the
// certificates it verified, while the CA bundle stays the same and until they expire, because a
// chain verification costs a tenth of a millisecond and the aggregator presents one certificate
// on every request.
type Verifier struct {
	config *authenticatorfactory.RequestHeaderConfig
	now    func() time.Time

	mu       sync.Mutex
	bundle   []byte               // the CA bundle the remembered certificates verified against
	verified map[string]time.Time // certificate (DER) → when its verified chain expires
}

// maxRemembered bounds the remembered certificates: the aggregator's, and those of its
// replicas and rotations.
const maxRemembered = 64

// NewVerifier verifies against the request-header configuration, which must not be nil.
func NewVerifier(requestHeader *authenticatorfactory.RequestHeaderConfig) *Verifier {
	return &Verifier{config: requestHeader, now: time.Now, verified: map[string]time.Time{}}
}

// FromFrontProxy tells whether the request presents the front proxy's client certificate.
func (v *Verifier) FromFrontProxy(req *http.Request) bool {
	if req.TLS == nil || len(req.TLS.PeerCertificates) == 0 {
		return false
	}
	leaf := req.TLS.PeerCertificates[0]
	if allowed := v.config.AllowedClientNames.Value(); len(allowed) > 0 && !slices.Contains(allowed, leaf.Subject.CommonName) {
		return false
	}
	bundle := v.config.CAContentProvider.CurrentCABundleContent()
	now := v.now()
	// A certificate presented with intermediates is verified every time: the chain is not the
	// certificate alone.
	remember := len(req.TLS.PeerCertificates) == 1
	if remember {
		v.mu.Lock()
		if !bytes.Equal(bundle, v.bundle) {
			v.bundle = bundle
			clear(v.verified)
		}
		expires, ok := v.verified[string(leaf.Raw)]
		v.mu.Unlock()
		if ok && now.Before(expires) {
			return true
		}
	}
	options, ok := v.config.CAContentProvider.VerifyOptions()
	if !ok {
		return false
	}
	if len(req.TLS.PeerCertificates) > 1 {
		options.Intermediates = x509.NewCertPool()
		for _, intermediate := range req.TLS.PeerCertificates[1:] {
			options.Intermediates.AddCert(intermediate)
		}
	}
	options.CurrentTime = now
	chains, err := leaf.Verify(options)
	if err != nil || len(chains) == 0 {
		return false
	}
	if remember {
		expires := leaf.NotAfter
		for _, cert := range chains[0] {
			if cert.NotAfter.Before(expires) {
				expires = cert.NotAfter
			}
		}
		v.mu.Lock()
		if bytes.Equal(bundle, v.bundle) {
			if len(v.verified) >= maxRemembered {
				clear(v.verified)
			}
			v.verified[string(leaf.Raw)] = expires
		}
		v.mu.Unlock()
	}
	return true
}

// Authenticator authenticates the user the front proxy names in its headers, as the
// request-header authenticator of k8s.io/apiserver does, but verifies the certificate through v.
// Put before that authenticator, it spares it the same verification on every proxied request;
// a request it does not authenticate goes on to it.
func Authenticator(v *Verifier) authenticator.Request {
	headers := headerrequest.NewDynamic(v.config.UsernameHeaders, v.config.UIDHeaders, v.config.GroupHeaders, v.config.ExtraHeaderPrefixes)
	return authenticator.RequestFunc(func(req *http.Request) (*authenticator.Response, bool, error) {
		if !v.FromFrontProxy(req) {
			return nil, false, nil
		}
		return headers.AuthenticateRequest(req)
	})
}

// WithProxiedMark marks the context of every request that presents the front proxy's client
// certificate and asks for no impersonation of its own. It goes outside the authentication
// filter, and v (nil when no front proxy is configured) is the one authentication uses.
func WithProxiedMark(handler http.Handler, v *Verifier) http.Handler {
	if v == nil {
		return handler
	}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if v.FromFrontProxy(req) && !impersonates(req) {
			req = req.WithContext(context.WithValue(req.Context(), proxiedKey{}, true))
		}
		handler.ServeHTTP(w, req)
	})
}

// impersonates tells whether the request asks this server to act as another user: kube-apiserver
// resolves and removes its clients' impersonation headers before proxying, so here they would
// name a user it did not authorize.
func impersonates(req *http.Request) bool {
	for name := range req.Header {
		if strings.HasPrefix(strings.ToLower(name), "impersonate-") {
			return true
		}
	}
	return false
}

// Authorizer allows a request that WithProxiedMark marked, as kube-apiserver already allowed
// it, and asks Delegate about everything else.
type Authorizer struct {
	Delegate authorizer.Authorizer
}

var _ authorizer.Authorizer = Authorizer{}

const allowedReason = "kube-apiserver authorized the request before its aggregator proxied it"

func (a Authorizer) Authorize(ctx context.Context, attributes authorizer.Attributes) (authorizer.Decision, string, error) {
	if authorizedUpstream(ctx, attributes) {
		return authorizer.DecisionAllow, allowedReason, nil
	}
	return a.Delegate.Authorize(ctx, attributes)
}

func (a Authorizer) ConditionsAwareAuthorize(ctx context.Context, attributes authorizer.Attributes) authorizer.ConditionsAwareDecision {
	if authorizedUpstream(ctx, attributes) {
		return authorizer.ConditionsAwareDecisionFromParts(authorizer.DecisionAllow, allowedReason, nil)
	}
	return a.Delegate.ConditionsAwareAuthorize(ctx, attributes)
}

func (a Authorizer) EvaluateConditions(ctx context.Context, decision authorizer.ConditionsAwareDecision, data authorizer.ConditionsData) (authorizer.Decision, string, error) {
	return a.Delegate.EvaluateConditions(ctx, decision, data)
}

// authorizedUpstream tells whether the attributes are those of the proxied request itself, the
// very thing kube-apiserver authorized, rather than of another check made while serving it.
func authorizedUpstream(ctx context.Context, attributes authorizer.Attributes) bool {
	if proxied, _ := ctx.Value(proxiedKey{}).(bool); !proxied {
		return false
	}
	own, err := filters.GetAuthorizerAttributes(ctx)
	if err != nil || own.GetUser() == nil || attributes.GetUser() == nil {
		return false
	}
	return own.GetUser().GetName() == attributes.GetUser().GetName() &&
		own.GetVerb() == attributes.GetVerb() &&
		own.IsResourceRequest() == attributes.IsResourceRequest() &&
		own.GetPath() == attributes.GetPath() &&
		own.GetAPIGroup() == attributes.GetAPIGroup() &&
		own.GetAPIVersion() == attributes.GetAPIVersion() &&
		own.GetNamespace() == attributes.GetNamespace() &&
		own.GetResource() == attributes.GetResource() &&
		own.GetSubresource() == attributes.GetSubresource() &&
		own.GetName() == attributes.GetName()
}

// Install puts the front proxy's shortcuts into a server's configuration, after its
// authentication and authorization are set: authentication verifies the aggregator's certificate
// through one remembering Verifier, and authorization spares the requests the aggregator proxied.
func Install(config *genericapiserver.Config) {
	var verifier *Verifier
	if requestHeader := config.Authentication.RequestHeaderConfig; requestHeader != nil && config.Authentication.Authenticator != nil {
		verifier = NewVerifier(requestHeader)
		frontProxy := group.NewAuthenticatedGroupAdder(Authenticator(verifier))
		config.Authentication.Authenticator = union.New(frontProxy, config.Authentication.Authenticator)
	}
	config.Authorization.Authorizer = Authorizer{Delegate: config.Authorization.Authorizer}
	config.BuildHandlerChainFunc = func(handler http.Handler, c *genericapiserver.Config) http.Handler {
		return WithProxiedMark(genericapiserver.DefaultBuildHandlerChain(handler, c), verifier)
	}
}
