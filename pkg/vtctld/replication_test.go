package vtctld

import (
	"context"
	"slices"
	"testing"

	replicationdatapb "vitess.io/vitess/go/vt/proto/replicationdata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// replicationVtctld is a fake vtctld whose tablets replicate with the given thread states, and
// that records where replication is started.
type replicationVtctld struct {
	*fakeVtctld
	// states are each tablet's IO and SQL thread states.
	states  map[string][2]int32
	started []string
}

func (f *replicationVtctld) GetFullStatus(ctx context.Context, req *vtctldatapb.GetFullStatusRequest) (*vtctldatapb.GetFullStatusResponse, error) {
	return answer(ctx, f.fakeVtctld, "GetFullStatus", func() (*vtctldatapb.GetFullStatusResponse, error) {
		state := f.states[aliasString(req.GetTabletAlias())]
		return &vtctldatapb.GetFullStatusResponse{Status: &replicationdatapb.FullStatus{
			ReplicationStatus: &replicationdatapb.Status{IoState: state[0], SqlState: state[1]},
		}}, nil
	})
}

func (f *replicationVtctld) StartReplication(ctx context.Context, req *vtctldatapb.StartReplicationRequest) (*vtctldatapb.StartReplicationResponse, error) {
	return answer(ctx, f.fakeVtctld, "StartReplication", func() (*vtctldatapb.StartReplicationResponse, error) {
		f.started = append(f.started, aliasString(req.GetTabletAlias()))
		return &vtctldatapb.StartReplicationResponse{}, nil
	})
}

// TestReplicationStopped: replication is stopped only when both threads are (Vitess' states:
// 1 stopped, 2 connecting, 3 running); StartReplication names the tablet.
func TestReplicationStopped(t *testing.T) {
	fake := &replicationVtctld{fakeVtctld: newFakeVtctld(), states: map[string][2]int32{
		"zone1-0000000101": {1, 1}, "zone1-0000000102": {2, 3}, "zone1-0000000103": {1, 3},
	}}
	c := startFake(t, fake)
	ctx := context.Background()
	for alias, want := range map[string]bool{"zone1-0000000101": true, "zone1-0000000102": false, "zone1-0000000103": false} {
		if stopped, err := c.ReplicationStopped(ctx, alias); err != nil || stopped != want {
			t.Errorf("ReplicationStopped(%s) = %v, %v; want %v", alias, stopped, err, want)
		}
	}
	if err := c.StartReplication(ctx, "zone1-0000000101"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fake.started, []string{"zone1-0000000101"}) {
		t.Errorf("started replication on %v", fake.started)
	}
}
