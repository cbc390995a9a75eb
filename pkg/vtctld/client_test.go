package vtctld

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"
)

// fakeVtctld answers the RPCs the client makes from in-memory state, the way vtctld v24 does
// (including its habit of reporting an existing cell as code Unknown), and can be told to fail the
// next calls of a method.
type fakeVtctld struct {
	vtctlservicepb.UnimplementedVtctldServer

	mu        sync.Mutex
	cells     map[string]*topodatapb.CellInfo
	keyspaces map[string]*topodatapb.Keyspace
	shards    map[string]*vtctldatapb.Shard
	srv       map[string]*topodatapb.SrvKeyspace // by cell; a nil value is a cell without one
	tablets   []*topodatapb.Tablet
	workflows map[string]*vtctldatapb.Workflow // by keyspace/name
	failures  map[string][]error               // method -> errors for its next calls, in order
	calls     map[string]int
	block     map[string]bool // method -> wait for the caller's deadline instead of answering
}

func newFakeVtctld() *fakeVtctld {
	return &fakeVtctld{
		cells:     map[string]*topodatapb.CellInfo{},
		keyspaces: map[string]*topodatapb.Keyspace{},
		failures:  map[string][]error{},
		calls:     map[string]int{},
		block:     map[string]bool{},
	}
}

// enter counts a call and returns the failure planned for it, if any.
func (f *fakeVtctld) enter(ctx context.Context, method string) error {
	f.mu.Lock()
	f.calls[method]++
	block := f.block[method]
	var err error
	if q := f.failures[method]; len(q) > 0 {
		err, f.failures[method] = q[0], q[1:]
	}
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return status.FromContextError(ctx.Err()).Err()
	}
	return err
}

// answer runs one call: counted, failed as planned, or else answered by respond with the fake's
// state locked.
func answer[Resp any](ctx context.Context, f *fakeVtctld, method string, respond func() (Resp, error)) (Resp, error) {
	if err := f.enter(ctx, method); err != nil {
		var none Resp
		return none, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return respond()
}

func (f *fakeVtctld) failNext(method string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failures[method] = append(f.failures[method], errs...)
}

func (f *fakeVtctld) callCount(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeVtctld) GetCellInfoNames(ctx context.Context, _ *vtctldatapb.GetCellInfoNamesRequest) (*vtctldatapb.GetCellInfoNamesResponse, error) {
	return answer(ctx, f, "GetCellInfoNames", func() (*vtctldatapb.GetCellInfoNamesResponse, error) {
		resp := &vtctldatapb.GetCellInfoNamesResponse{}
		for name := range f.cells {
			resp.Names = append(resp.Names, name)
		}
		return resp, nil
	})
}

func (f *fakeVtctld) AddCellInfo(ctx context.Context, req *vtctldatapb.AddCellInfoRequest) (*vtctldatapb.AddCellInfoResponse, error) {
	return answer(ctx, f, "AddCellInfo", func() (*vtctldatapb.AddCellInfoResponse, error) {
		if req.GetCellInfo().GetRoot() == "" {
			return nil, status.Error(codes.FailedPrecondition, "CellInfo.Root must be non-empty")
		}
		if _, ok := f.cells[req.GetName()]; ok {
			return nil, status.Error(codes.Unknown, "node already exists: cells/"+req.GetName()+"/CellInfo")
		}
		f.cells[req.GetName()] = req.GetCellInfo()
		return &vtctldatapb.AddCellInfoResponse{}, nil
	})
}

func (f *fakeVtctld) GetCellInfo(ctx context.Context, req *vtctldatapb.GetCellInfoRequest) (*vtctldatapb.GetCellInfoResponse, error) {
	return answer(ctx, f, "GetCellInfo", func() (*vtctldatapb.GetCellInfoResponse, error) {
		ci, ok := f.cells[req.GetCell()]
		if !ok {
			return nil, status.Error(codes.Unknown, "node doesn't exist: cells/"+req.GetCell()+"/CellInfo")
		}
		return &vtctldatapb.GetCellInfoResponse{CellInfo: ci}, nil
	})
}

func (f *fakeVtctld) UpdateCellInfo(ctx context.Context, req *vtctldatapb.UpdateCellInfoRequest) (*vtctldatapb.UpdateCellInfoResponse, error) {
	return answer(ctx, f, "UpdateCellInfo", func() (*vtctldatapb.UpdateCellInfoResponse, error) {
		f.cells[req.GetName()] = req.GetCellInfo()
		return &vtctldatapb.UpdateCellInfoResponse{Name: req.GetName(), CellInfo: req.GetCellInfo()}, nil
	})
}

func (f *fakeVtctld) GetKeyspaces(ctx context.Context, _ *vtctldatapb.GetKeyspacesRequest) (*vtctldatapb.GetKeyspacesResponse, error) {
	return answer(ctx, f, "GetKeyspaces", func() (*vtctldatapb.GetKeyspacesResponse, error) {
		resp := &vtctldatapb.GetKeyspacesResponse{}
		for name, ks := range f.keyspaces {
			resp.Keyspaces = append(resp.Keyspaces, &vtctldatapb.Keyspace{Name: name, Keyspace: ks})
		}
		return resp, nil
	})
}

func (f *fakeVtctld) CreateKeyspace(ctx context.Context, req *vtctldatapb.CreateKeyspaceRequest) (*vtctldatapb.CreateKeyspaceResponse, error) {
	return answer(ctx, f, "CreateKeyspace", func() (*vtctldatapb.CreateKeyspaceResponse, error) {
		if _, ok := f.keyspaces[req.GetName()]; ok && !req.GetForce() {
			return nil, status.Error(codes.Unknown, "node already exists: keyspaces/"+req.GetName()+"/Keyspace")
		} else if !ok {
			f.keyspaces[req.GetName()] = &topodatapb.Keyspace{DurabilityPolicy: req.GetDurabilityPolicy()}
		}
		return &vtctldatapb.CreateKeyspaceResponse{}, nil
	})
}

func (f *fakeVtctld) FindAllShardsInKeyspace(ctx context.Context, req *vtctldatapb.FindAllShardsInKeyspaceRequest) (*vtctldatapb.FindAllShardsInKeyspaceResponse, error) {
	return answer(ctx, f, "FindAllShardsInKeyspace", func() (*vtctldatapb.FindAllShardsInKeyspaceResponse, error) {
		return &vtctldatapb.FindAllShardsInKeyspaceResponse{Shards: f.shards}, nil
	})
}

func (f *fakeVtctld) GetSrvKeyspaces(ctx context.Context, req *vtctldatapb.GetSrvKeyspacesRequest) (*vtctldatapb.GetSrvKeyspacesResponse, error) {
	return answer(ctx, f, "GetSrvKeyspaces", func() (*vtctldatapb.GetSrvKeyspacesResponse, error) {
		resp := &vtctldatapb.GetSrvKeyspacesResponse{SrvKeyspaces: map[string]*topodatapb.SrvKeyspace{}}
		for cell, srv := range f.srv {
			if len(req.GetCells()) == 0 || slices.Contains(req.GetCells(), cell) {
				resp.SrvKeyspaces[cell] = srv
			}
		}
		return resp, nil
	})
}

func (f *fakeVtctld) GetTablets(ctx context.Context, req *vtctldatapb.GetTabletsRequest) (*vtctldatapb.GetTabletsResponse, error) {
	return answer(ctx, f, "GetTablets", func() (*vtctldatapb.GetTabletsResponse, error) {
		resp := &vtctldatapb.GetTabletsResponse{}
		for _, t := range f.tablets {
			if t.GetKeyspace() == req.GetKeyspace() && t.GetShard() == req.GetShard() {
				resp.Tablets = append(resp.Tablets, t)
			}
		}
		return resp, nil
	})
}

func (f *fakeVtctld) GetWorkflows(ctx context.Context, req *vtctldatapb.GetWorkflowsRequest) (*vtctldatapb.GetWorkflowsResponse, error) {
	return answer(ctx, f, "GetWorkflows", func() (*vtctldatapb.GetWorkflowsResponse, error) {
		resp := &vtctldatapb.GetWorkflowsResponse{}
		if w, ok := f.workflows[req.GetKeyspace()+"/"+req.GetWorkflow()]; ok {
			resp.Workflows = append(resp.Workflows, w)
		}
		return resp, nil
	})
}

func (f *fakeVtctld) WorkflowStatus(ctx context.Context, req *vtctldatapb.WorkflowStatusRequest) (*vtctldatapb.WorkflowStatusResponse, error) {
	return answer(ctx, f, "WorkflowStatus", func() (*vtctldatapb.WorkflowStatusResponse, error) {
		return &vtctldatapb.WorkflowStatusResponse{TrafficState: "Reads Not Switched. Writes Not Switched"}, nil
	})
}

// startFake serves fake on a loopback port and returns a client of it whose retries do not sleep.
func startFake(t *testing.T, fake vtctlservicepb.VtctldServer, opts ...Option) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	vtctlservicepb.RegisterVtctldServer(srv, fake)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return dialForTest(t, lis.Addr().String(), opts...)
}

func dialForTest(t *testing.T, address string, opts ...Option) *Client {
	t.Helper()
	c, err := Dial(address, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() }
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestCellsAndKeyspaces(t *testing.T) {
	fake := newFakeVtctld()
	c := startFake(t, fake)
	ctx := context.Background()

	for range 2 {
		if err := c.AddCell(ctx, "zone1", "127.0.0.1:2379", "/vitess/zone1"); err != nil {
			t.Fatalf("AddCell: %v", err)
		}
	}
	if n := fake.callCount("UpdateCellInfo"); n != 0 {
		t.Errorf("adding an identical cell again updated it %d times, want 0", n)
	}
	if err := c.AddCell(ctx, "zone1", "127.0.0.1:2380", "/vitess/zone1"); err != nil {
		t.Fatalf("AddCell with a new address: %v", err)
	}
	if got := fake.cells["zone1"].GetServerAddress(); got != "127.0.0.1:2380" {
		t.Errorf("cell address after AddCell with a new one = %q, want it updated", got)
	}
	if err := c.AddCell(ctx, "zone2", "127.0.0.1:2379", "/vitess/zone2"); err != nil {
		t.Fatal(err)
	}
	err := c.AddCell(ctx, "zone3", "127.0.0.1:2379", "")
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("AddCell without root = %v, want vtctld's FailedPrecondition", err)
	}
	cells, err := c.CellNames(ctx)
	if err != nil || !slices.Equal(cells, []string{"zone1", "zone2"}) {
		t.Errorf("CellNames = %v, %v; want [zone1 zone2]", cells, err)
	}

	for range 2 {
		if err := c.CreateKeyspace(ctx, "commerce", "semi_sync"); err != nil {
			t.Fatalf("CreateKeyspace: %v", err)
		}
	}
	if err := c.CreateKeyspace(ctx, "customer", ""); err != nil {
		t.Fatal(err)
	}
	keyspaces, err := c.Keyspaces(ctx)
	want := []Keyspace{{Name: "commerce", DurabilityPolicy: "semi_sync"}, {Name: "customer"}}
	if err != nil || !slices.Equal(keyspaces, want) {
		t.Errorf("Keyspaces = %v, %v; want %v", keyspaces, err, want)
	}
}

func TestShardsServingShardsTablets(t *testing.T) {
	fake := newFakeVtctld()
	fake.shards = map[string]*vtctldatapb.Shard{
		"-80": {Keyspace: "customer", Name: "-80", Shard: &topodatapb.Shard{
			PrimaryAlias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}, IsPrimaryServing: true,
		}},
		"80-": {Keyspace: "customer", Name: "80-", Shard: &topodatapb.Shard{}},
	}
	partition := func(tabletType topodatapb.TabletType, shards ...string) *topodatapb.SrvKeyspace_KeyspacePartition {
		p := &topodatapb.SrvKeyspace_KeyspacePartition{ServedType: tabletType}
		for _, s := range shards {
			p.ShardReferences = append(p.ShardReferences, &topodatapb.ShardReference{Name: s})
		}
		return p
	}
	fake.srv = map[string]*topodatapb.SrvKeyspace{
		"zone1": {Partitions: []*topodatapb.SrvKeyspace_KeyspacePartition{
			partition(topodatapb.TabletType_PRIMARY, "-80"),
			partition(topodatapb.TabletType_REPLICA, "-80", "80-", "0"),
		}},
		"zone2": {Partitions: []*topodatapb.SrvKeyspace_KeyspacePartition{
			partition(topodatapb.TabletType_PRIMARY, "-80", "80-"),
		}},
		"zone3": nil, // vtctld's answer for a cell without a SrvKeyspace
	}
	fake.tablets = []*topodatapb.Tablet{
		{Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 102}, Hostname: "h2", Keyspace: "customer", Shard: "-80", Type: topodatapb.TabletType_REPLICA},
		{Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 101}, Hostname: "h1", Keyspace: "customer", Shard: "-80", Type: topodatapb.TabletType_PRIMARY},
		{Alias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 201}, Hostname: "h3", Keyspace: "customer", Shard: "80-", Type: topodatapb.TabletType_PRIMARY},
	}
	c := startFake(t, fake)
	ctx := context.Background()

	shards, err := c.Shards(ctx, "customer")
	wantShards := []Shard{
		{Keyspace: "customer", Name: "-80", PrimaryAlias: "zone1-0000000101", IsPrimaryServing: true},
		{Keyspace: "customer", Name: "80-"},
	}
	if err != nil || !slices.Equal(shards, wantShards) {
		t.Errorf("Shards = %v, %v; want %v", shards, err, wantShards)
	}

	for _, tc := range []struct {
		cells []string
		want  []string
	}{
		{nil, []string{"-80", "80-"}},
		{[]string{"zone1"}, []string{"-80"}},
		{[]string{"zone3"}, nil},
	} {
		got, err := c.ServingShards(ctx, "customer", tc.cells)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ServingShards(cells %v) = %v, %v; want %v", tc.cells, got, err, tc.want)
		}
	}

	tablets, err := c.Tablets(ctx, "customer", "-80")
	wantTablets := []Tablet{
		{Alias: "zone1-0000000101", Hostname: "h1", Type: "PRIMARY", Keyspace: "customer", Shard: "-80"},
		{Alias: "zone1-0000000102", Hostname: "h2", Type: "REPLICA", Keyspace: "customer", Shard: "-80"},
	}
	if err != nil || !slices.Equal(tablets, wantTablets) {
		t.Errorf("Tablets = %v, %v; want %v", tablets, err, wantTablets)
	}
}

func TestRetries(t *testing.T) {
	unavailable := status.Error(codes.Unavailable, "connection reset")
	timedOut := status.Error(codes.DeadlineExceeded, "topo timed out")
	for _, tc := range []struct {
		name      string
		method    string
		call      func(*Client) error
		failures  []error
		wantCalls int
		wantCode  codes.Code // of the call's error; OK for success
	}{
		{"read retried while unavailable", "GetKeyspaces", keyspaces, []error{unavailable, unavailable}, 3, codes.OK},
		{"read gives up after maxAttempts", "GetKeyspaces", keyspaces, slices.Repeat([]error{unavailable}, maxAttempts), maxAttempts, codes.Unavailable},
		{"read retried after a timeout", "GetKeyspaces", keyspaces, []error{timedOut}, 2, codes.OK},
		{"write not repeated once vtctld had it, even on Unavailable", "CreateKeyspace", createKeyspace, []error{unavailable}, 1, codes.Unavailable},
		{"write not repeated after a timeout", "CreateKeyspace", createKeyspace, []error{timedOut}, 1, codes.DeadlineExceeded},
		{"refusal not retried", "GetKeyspaces", keyspaces, []error{status.Error(codes.FailedPrecondition, "no")}, 1, codes.FailedPrecondition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeVtctld()
			fake.failNext(tc.method, tc.failures...)
			err := tc.call(startFake(t, fake))
			if got := status.Code(err); got != tc.wantCode {
				t.Errorf("error = %v (code %v), want code %v", err, got, tc.wantCode)
			}
			if got := fake.callCount(tc.method); got != tc.wantCalls {
				t.Errorf("%s called %d times, want %d", tc.method, got, tc.wantCalls)
			}
		})
	}
}

// TestWriteRetriedOnlyWhenNotSent: a write is sent again only while it provably never left (no
// connection to vtctld); once vtctld had it, a lost answer is reported as an unknown outcome (504),
// not as vtctld being unreachable (503), and not sent twice.
func TestWriteRetriedOnlyWhenNotSent(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := lis.Addr().String()
	_ = lis.Close()
	fake := newFakeVtctld()
	c := dialForTest(t, address)
	// vtctld comes up after the first attempt found nothing listening.
	started := false
	c.sleep = func(ctx context.Context, _ time.Duration) error {
		if !started {
			started = true
			lis, err := net.Listen("tcp", address)
			if err != nil {
				return err
			}
			srv := grpc.NewServer()
			vtctlservicepb.RegisterVtctldServer(srv, fake)
			go func() { _ = srv.Serve(lis) }()
			t.Cleanup(srv.Stop)
		}
		return sleepContext(ctx, 50*time.Millisecond)
	}
	if err := createKeyspace(c); err != nil {
		t.Fatalf("a write that could not be sent was not sent again once vtctld listened: %v", err)
	}
	if got := fake.callCount("CreateKeyspace"); got != 1 {
		t.Errorf("CreateKeyspace reached vtctld %d times, want 1", got)
	}

	fake.failNext("CreateKeyspace", status.Error(codes.Unavailable, "connection reset"))
	err = c.CreateKeyspace(context.Background(), "customer", "none")
	if got := fake.callCount("CreateKeyspace"); got != 2 {
		t.Errorf("CreateKeyspace reached vtctld %d times in all, want 2: the answer lost after vtctld had it must not be retried", got)
	}
	if !IsOutcomeUnknown(err) {
		t.Errorf("error %v: want an unknown outcome", err)
	}
	if apiErr := APIError(err, "creating keyspace customer"); apierrors.ReasonForError(apiErr) != metav1.StatusReasonTimeout {
		t.Errorf("APIError = %v, want a 504 timeout", apiErr)
	}
	if IsOutcomeUnknown(keyspaces(c)) {
		t.Error("a read's failure is never an unknown outcome")
	}
}

func keyspaces(c *Client) error {
	_, err := c.Keyspaces(context.Background())
	return err
}

func createKeyspace(c *Client) error {
	return c.CreateKeyspace(context.Background(), "commerce", "none")
}

// TestDeadline checks that a vtctld that never answers costs the caller the client's timeout, not
// more, and is reported as unreachable.
func TestDeadline(t *testing.T) {
	fake := newFakeVtctld()
	fake.block["GetCellInfoNames"] = true
	c := startFake(t, fake, WithTimeout(300*time.Millisecond))
	start := time.Now()
	_, err := c.CellNames(context.Background())
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("CellNames took %v with a 300ms timeout", elapsed)
	}
	if !IsUnavailable(err) {
		t.Errorf("CellNames against a vtctld that does not answer = %v, want it unavailable", err)
	}
	if n := fake.callCount("GetCellInfoNames"); n < 2 {
		t.Errorf("a read that timed out was tried %d times, want a retry within the deadline", n)
	}
}

func TestUnreachable(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := lis.Addr().String()
	lis.Close() // nothing listens there any more: connections are refused
	c := dialForTest(t, address)

	_, err = c.CellNames(context.Background())
	if !IsUnavailable(err) {
		t.Fatalf("CellNames against a closed port = %v, want it unavailable", err)
	}
	apiErr := APIError(err, "listing cells")
	if got := apierrors.ReasonForError(apiErr); got != metav1.StatusReasonServiceUnavailable {
		t.Errorf("reason = %v, want ServiceUnavailable", got)
	}
	if want := "listing cells: vtctld " + address + " unreachable: "; !strings.HasPrefix(apiErr.Error(), want) {
		t.Errorf("message = %q, want it to start with %q", apiErr.Error(), want)
	}
}

// TestReconnectsPromptly checks that a vtctld that comes back is used by the next call, not only
// once gRPC's own reconnection backoff (a second and more) has run out.
func TestReconnectsPromptly(t *testing.T) {
	fake := newFakeVtctld()
	serve := func(address string) (*grpc.Server, string) {
		lis, err := net.Listen("tcp", address)
		if err != nil {
			t.Fatal(err)
		}
		srv := grpc.NewServer()
		vtctlservicepb.RegisterVtctldServer(srv, fake)
		go func() { _ = srv.Serve(lis) }()
		return srv, lis.Addr().String()
	}
	srv, address := serve("127.0.0.1:0")
	c := dialForTest(t, address)
	c.sleep = sleepContext // a reconnection takes a moment: the backoff between attempts gives it one
	ctx := context.Background()
	if _, err := c.CellNames(ctx); err != nil {
		t.Fatal(err)
	}

	// Down long enough for gRPC's backoff to grow past what one call's retries last.
	srv.Stop()
	for down := time.Now(); time.Since(down) < 3*time.Second; {
		if _, err := c.CellNames(ctx); !IsUnavailable(err) {
			t.Fatalf("CellNames with the server stopped = %v, want unavailable", err)
		}
	}
	srv, _ = serve(address)
	t.Cleanup(srv.Stop)
	if _, err := c.CellNames(ctx); err != nil {
		t.Errorf("CellNames right after the server came back: %v", err)
	}
}

func TestAPIError(t *testing.T) {
	wrapped := func(code codes.Code, msg string) error {
		return &Error{Address: "vtctld:15999", Method: "SomeRPC", Err: status.Error(code, msg)}
	}
	for _, tc := range []struct {
		err         error
		wantCode    int32
		wantReason  metav1.StatusReason
		wantMessage string
		unavailable bool
	}{
		{wrapped(codes.Unavailable, "connection refused"), http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"doing it: vtctld vtctld:15999 unreachable: connection refused", true},
		{wrapped(codes.DeadlineExceeded, "context deadline exceeded"), http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"doing it: vtctld vtctld:15999 unreachable: context deadline exceeded", true},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"doing it: vtctld unreachable: dial: context deadline exceeded", true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, http.StatusServiceUnavailable, metav1.StatusReasonServiceUnavailable,
			"doing it: vtctld unreachable: dial tcp: connect: connection refused", true},
		{wrapped(codes.FailedPrecondition, "shard is locked"), http.StatusConflict, metav1.StatusReasonConflict, "doing it: shard is locked", false},
		{wrapped(codes.AlreadyExists, "exists"), http.StatusConflict, metav1.StatusReasonConflict, "doing it: exists", false},
		{wrapped(codes.Aborted, "aborted"), http.StatusConflict, metav1.StatusReasonConflict, "doing it: aborted", false},
		{wrapped(codes.InvalidArgument, "bad shard name"), http.StatusBadRequest, metav1.StatusReasonBadRequest, "doing it: bad shard name", false},
		{wrapped(codes.Unknown, "node doesn't exist: keyspaces/x"), http.StatusInternalServerError, metav1.StatusReasonInternalError,
			"doing it: node doesn't exist: keyspaces/x", false},
		{errors.New("plain"), http.StatusInternalServerError, metav1.StatusReasonInternalError, "doing it: plain", false},
		{apierrors.NewNotFound(metav1.SchemeGroupVersion.WithResource("things").GroupResource(), "x"), http.StatusNotFound, metav1.StatusReasonNotFound,
			`things.meta.k8s.io "x" not found`, false},
	} {
		got := APIError(tc.err, "doing it")
		var status apierrors.APIStatus
		if !errors.As(got, &status) {
			t.Errorf("APIError(%v) = %T, not an API status", tc.err, got)
			continue
		}
		s := status.Status()
		if s.Code != tc.wantCode || s.Reason != tc.wantReason || s.Message != tc.wantMessage {
			t.Errorf("APIError(%v) = %d %s %q, want %d %s %q", tc.err, s.Code, s.Reason, s.Message, tc.wantCode, tc.wantReason, tc.wantMessage)
		}
		if IsUnavailable(tc.err) != tc.unavailable {
			t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, !tc.unavailable, tc.unavailable)
		}
	}
	if APIError(nil, "doing it") != nil {
		t.Error("APIError(nil) is not nil")
	}
}

func TestRefusalError(t *testing.T) {
	wrapped := func(code codes.Code, msg string) error {
		return &Error{Address: "vtctld:15999", Method: "WorkflowSwitchTraffic", Err: status.Error(code, msg)}
	}
	for _, tc := range []struct {
		err         error
		wantCode    int32
		wantMessage string
	}{
		// Vitess raises most refusals as plain errors, which reach us as Unknown.
		{wrapped(codes.Unknown, "cannot complete workflow because you have not yet switched all read and write traffic"), http.StatusConflict,
			"complete: cannot complete workflow because you have not yet switched all read and write traffic"},
		{wrapped(codes.FailedPrecondition, "cannot switch traffic for workflow w at this time: replication lag 40s is higher than allowed lag 30s"), http.StatusConflict,
			"complete: cannot switch traffic for workflow w at this time: replication lag 40s is higher than allowed lag 30s"},
		{wrapped(codes.Unavailable, "connection refused"), http.StatusServiceUnavailable, "complete: vtctld vtctld:15999 unreachable: connection refused"},
		{wrapped(codes.InvalidArgument, "bad tablet type"), http.StatusBadRequest, "complete: bad tablet type"},
	} {
		var got apierrors.APIStatus
		if !errors.As(RefusalError(tc.err, "complete"), &got) || got.Status().Code != tc.wantCode || got.Status().Message != tc.wantMessage {
			t.Errorf("RefusalError(%v) = %v, want %d %q", tc.err, got, tc.wantCode, tc.wantMessage)
		}
	}
}
