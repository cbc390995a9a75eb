// Package vtctld is a narrow client of vtctld's gRPC API (the VtctldServer service that
// vtctldclient uses), holding only the calls the reconciler makes.
//
// It depends on Vitess' generated protobuf packages alone. Vitess' own client
// (go/vt/vtctl/grpcvtctldclient) pulls in most of Vitess and registers glog flags on the global
// flag set, which an API server that owns its command line cannot have.
package vtctld

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"
)

// DefaultTimeout bounds every call, retries included. Topology reads and writes answer in
// milliseconds; a vtctld that has not answered in this time is treated as unreachable rather than
// holding up a reconcile pass or an API request.
const DefaultTimeout = 10 * time.Second

const (
	// maxAttempts is how often one call is tried: enough to ride over a vtctld restart or a
	// connection being re-established, few enough that a vtctld that is really down is reported
	// quickly.
	maxAttempts = 4
	// firstBackoff doubles after every failed attempt, up to maxBackoff.
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 1 * time.Second
	// reconnectMaxDelay caps gRPC's own reconnection backoff. Its default (120 s) would make a
	// client that saw vtctld down for a while fail fast for minutes after vtctld is back.
	reconnectMaxDelay = 5 * time.Second
)

// Client calls one vtctld. It is safe for concurrent use.
type Client struct {
	address string
	timeout time.Duration
	conn    *grpc.ClientConn
	rpc     vtctlservicepb.VtctldClient
	// sleep waits between attempts; tests replace it to run without real delays.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option changes how a Client behaves.
type Option func(*Client)

// WithTimeout replaces DefaultTimeout as the bound of each call, retries included.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// Dial prepares a client of the vtctld whose gRPC port is at address (host:port). It does not
// connect: the connection is made by the first call and re-made after vtctld restarts, so Dial
// succeeds even while vtctld is down.
//
// The connection is plain-text because vtctld serves gRPC without TLS unless it is given
// certificates, which the clusters this server creates do not do.
func Dial(address string, opts ...Option) (*Client, error) {
	c := &Client{address: address, timeout: DefaultTimeout, sleep: sleepContext}
	for _, opt := range opts {
		opt(c)
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("vtctld client for %s: timeout must be positive, got %v", address, c.timeout)
	}
	reconnect := backoff.DefaultConfig
	reconnect.MaxDelay = reconnectMaxDelay
	conn, err := grpc.NewClient("passthrough:///"+address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: reconnect, MinConnectTimeout: c.timeout}),
		grpc.WithStatsHandler(sendTracker{}),
	)
	if err != nil {
		return nil, fmt.Errorf("vtctld client for %s: %w", address, err)
	}
	c.conn = conn
	c.rpc = vtctlservicepb.NewVtctldClient(conn)
	return c, nil
}

// WithTimeout is a client of the same vtctld, over the same connection, whose calls are bounded
// by d instead: for the few calls that wait on Vitess (a reparent, a traffic switch). Closing
// either closes both.
func (c *Client) WithTimeout(d time.Duration) *Client {
	copied := *c
	copied.timeout = d
	return &copied
}

// Address is the vtctld this client calls.
func (c *Client) Address() string { return c.address }

// Close releases the connection. Calls made afterwards fail.
func (c *Client) Close() error { return c.conn.Close() }

// Error is a failed vtctld call. It keeps the address and the RPC so that an error shown to a user
// says which vtctld did not answer; the gRPC status stays reachable with status.FromError.
type Error struct {
	Address string
	Method  string
	Err     error
	// OutcomeUnknown is set on a write that reached vtctld and got no answer (the connection
	// dropped, or the deadline passed): it may have been carried out, or may still be running.
	OutcomeUnknown bool
}

// IsOutcomeUnknown tells whether err is a write that may have been carried out (see
// Error.OutcomeUnknown).
func IsOutcomeUnknown(err error) bool {
	var callErr *Error
	return errors.As(err, &callErr) && callErr.OutcomeUnknown
}

func (e *Error) Error() string {
	return fmt.Sprintf("vtctld %s: %s: %s", e.Address, e.Method, describe(e.Err))
}

func (e *Error) Unwrap() error { return e.Err }

// Message is what vtctld said of a failed call, without the address, method and gRPC wrapping.
func Message(err error) string {
	var callErr *Error
	if errors.As(err, &callErr) {
		return describe(callErr.Err)
	}
	return describe(err)
}

// describe is the message of a gRPC status without the "rpc error: code = ... desc =" wrapping.
func describe(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// idempotence tells call whether an attempt that timed out may be repeated: a read may, a write may
// not, since it may have been applied without us hearing back.
type idempotence bool

const (
	read  idempotence = true
	write idempotence = false
)

// call runs one RPC with the client's deadline, retrying with backoff: a read while vtctld is
// unavailable or after an attempt that timed out; a write only while its request provably never
// left (no connection), since gRPC also says Unavailable when a connection drops after vtctld got
// the request, and a write must not run twice.
func (c *Client) call(ctx context.Context, method string, kind idempotence, rpc func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	wait := firstBackoff
	var err error
	var sent atomic.Bool
	for attempt := 1; ; attempt++ {
		attemptCtx, attemptCancel := ctx, context.CancelFunc(func() {})
		if kind == read && attempt < maxAttempts {
			// Leave time for another attempt after one that hangs (a vtctld whose topology
			// server stopped answering, a connection that silently broke).
			attemptCtx, attemptCancel = context.WithTimeout(ctx, c.timeout/2)
		}
		err = rpc(context.WithValue(attemptCtx, sentKey{}, &sent))
		attemptCancel()
		countRequest(method, err)
		if err == nil {
			return nil
		}
		if attempt == maxAttempts || !retryable(err, kind, sent.Load()) {
			break
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			break // the next attempt could not finish in time: report this failure instead
		}
		if c.sleep(ctx, wait) != nil {
			break
		}
		// After a failed connection gRPC waits out a backoff of its own before dialling again,
		// failing every call meanwhile: make the next attempt really try, or a vtctld that has
		// just come back would look down for seconds more.
		c.conn.ResetConnectBackoff()
		wait = min(2*wait, maxBackoff)
	}
	return &Error{Address: c.address, Method: method, Err: err, OutcomeUnknown: kind == write && sent.Load() && IsUnavailable(err)}
}

// sentKey holds, in a call's context, whether its request was handed to a connection.
type sentKey struct{}

// sendTracker is a gRPC stats handler that records, in the flag under sentKey, that a request's
// headers were queued on a live connection: from then on vtctld may have it.
type sendTracker struct{}

func (sendTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context { return ctx }

func (sendTracker) HandleRPC(ctx context.Context, s stats.RPCStats) {
	if _, ok := s.(*stats.OutHeader); !ok {
		return
	}
	if sent, ok := ctx.Value(sentKey{}).(*atomic.Bool); ok {
		sent.Store(true)
	}
}

func (sendTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }

func (sendTracker) HandleConn(context.Context, stats.ConnStats) {}

// invoke is call for one generated RPC method: it sends req and returns the response.
func invoke[Req, Resp any](ctx context.Context, c *Client, method string, kind idempotence,
	rpc func(context.Context, Req, ...grpc.CallOption) (Resp, error), req Req,
) (Resp, error) {
	var resp Resp
	err := c.call(ctx, method, kind, func(ctx context.Context) (err error) {
		resp, err = rpc(ctx, req)
		return err
	})
	return resp, err
}

func retryable(err error, kind idempotence, sent bool) bool {
	switch status.Code(err) {
	case codes.Unavailable:
		return kind == read || !sent
	case codes.DeadlineExceeded:
		return kind == read
	}
	return false
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// IsUnavailable tells whether err means vtctld could not be reached or did not answer in time, as
// opposed to vtctld refusing the request: the caller should retry later rather than report the
// request as wrong.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) || isConnectionRefused(err) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
}
