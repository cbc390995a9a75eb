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
package frontproxy

import (
	"context"
	"net/http"
	"strings"

	"k8s.io/apiserver/pkg/authentication/authenticator"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	x509request "k8s.io/apiserver/pkg/authentication/request/x509"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/endpoints/filters"
)

type proxiedKey struct{}

// WithProxiedMark marks the context of every request that presents the front proxy's client
// certificate. It goes outside the authentication filter, which is where the certificate is
// checked for the user headers, and sees the same certificate and configuration.
func WithProxiedMark(handler http.Handler, requestHeader *authenticatorfactory.RequestHeaderConfig) http.Handler {
	if requestHeader == nil {
		// No front proxy is configured, so no request can have come through one.
		return handler
	}
	// The verifier runs this only after the certificate passed.
	verified := authenticator.RequestFunc(func(*http.Request) (*authenticator.Response, bool, error) {
		return &authenticator.Response{}, true, nil
	})
	verifier := x509request.NewDynamicCAVerifier(requestHeader.CAContentProvider.VerifyOptions, verified, requestHeader.AllowedClientNames)
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if _, ok, _ := verifier.AuthenticateRequest(req); ok && !impersonates(req) {
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
