package vtctld

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	replicationdatapb "vitess.io/vitess/go/vt/proto/replicationdata"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// reparentWaitReplicas is how long a planned reparent lets replicas catch up, before and after
// the switch: vtctldclient's default.
const reparentWaitReplicas = 15

// ReparentAwayFrom moves a shard's primary role off the tablet with the given alias with a
// planned reparent: Vitess promotes the most up-to-date other replica in the same cell, after it
// has caught up, so no write is lost. It returns the new primary's alias; when the tablet is
// not the primary (any more) nothing changes.
func (c *Client) ReparentAwayFrom(ctx context.Context, keyspace, shard, alias string) (string, error) {
	avoid, err := parseAlias(alias)
	if err != nil {
		return "", err
	}
	resp, err := invoke(ctx, c, "PlannedReparentShard", write, c.rpc.PlannedReparentShard, &vtctldatapb.PlannedReparentShardRequest{
		Keyspace:            keyspace,
		Shard:               shard,
		AvoidPrimary:        avoid,
		WaitReplicasTimeout: &vttimepb.Duration{Seconds: reparentWaitReplicas},
	})
	if err != nil {
		return "", err
	}
	return aliasString(resp.GetPromotedPrimary()), nil
}

// parseAlias reads "<cell>-<uid>", the form aliasString writes.
func parseAlias(alias string) (*topodatapb.TabletAlias, error) {
	i := strings.LastIndex(alias, "-")
	if i <= 0 {
		return nil, fmt.Errorf("tablet alias %q is not <cell>-<uid>", alias)
	}
	uid, err := strconv.ParseUint(alias[i+1:], 10, 32)
	if err != nil {
		return nil, fmt.Errorf("tablet alias %q is not <cell>-<uid>: %w", alias, err)
	}
	return &topodatapb.TabletAlias{Cell: alias[:i], Uid: uint32(uid)}, nil
}

// errDivergedReplicas: no candidate has every transaction the others have.
var errDivergedReplicas = errors.New("no replica has every transaction the others have (errant GTIDs): promoting any of them would lose transactions; choose the primary by hand")

// ElectPrimary gives a shard that has no primary yet its first one, chosen among the candidate
// tablets (the shard's replicas, aliases in order of preference) by what they have executed: the
// one whose GTID set contains all the others', so no transaction one of them has is lost to
// another's promotion, and the first such one when they are equal (a new shard). Vitess' own
// choice cannot be used here: a tablet that never replicated reports an empty position to it. It
// promotes the chosen one with a planned reparent and returns its alias. Every candidate's
// position must be read, or nothing is done.
func (c *Client) ElectPrimary(ctx context.Context, keyspace, shard string, candidates []string) (string, error) {
	sets := make([]gtidSet, len(candidates))
	for i, alias := range candidates {
		executed, err := c.executedGTIDs(ctx, alias)
		if err != nil {
			return "", err
		}
		sets[i] = executed
	}
	chosen, err := mostAdvanced(sets)
	if err != nil {
		return "", fmt.Errorf("electing a primary among %s: %w", strings.Join(candidates, ", "), err)
	}
	primary, err := parseAlias(candidates[chosen])
	if err != nil {
		return "", err
	}
	resp, err := invoke(ctx, c, "PlannedReparentShard", write, c.rpc.PlannedReparentShard, &vtctldatapb.PlannedReparentShardRequest{
		Keyspace:            keyspace,
		Shard:               shard,
		NewPrimary:          primary,
		WaitReplicasTimeout: &vttimepb.Duration{Seconds: reparentWaitReplicas},
	})
	if err != nil {
		return "", err
	}
	return aliasString(resp.GetPromotedPrimary()), nil
}

// executedGTIDs reads the set of transactions a tablet's mysqld has executed.
func (c *Client) executedGTIDs(ctx context.Context, alias string) (gtidSet, error) {
	status, err := c.fullStatus(ctx, alias)
	if err != nil {
		return nil, err
	}
	executed, err := parseGTIDSet(status.GetPrimaryStatus().GetPosition())
	if err != nil {
		return nil, fmt.Errorf("tablet %s: %w", alias, err)
	}
	return executed, nil
}

// ReplicationStopped tells whether the tablet's mysqld replicates from no primary: both its
// replication threads are stopped.
func (c *Client) ReplicationStopped(ctx context.Context, alias string) (bool, error) {
	status, err := c.fullStatus(ctx, alias)
	if err != nil {
		return false, err
	}
	replication := status.GetReplicationStatus()
	return replication.GetIoState() == replicationStateStopped && replication.GetSqlState() == replicationStateStopped, nil
}

// fullStatus reads what the tablet's mysqld says of itself and its replication.
func (c *Client) fullStatus(ctx context.Context, alias string) (*replicationdatapb.FullStatus, error) {
	tablet, err := parseAlias(alias)
	if err != nil {
		return nil, err
	}
	resp, err := invoke(ctx, c, "GetFullStatus", read, c.rpc.GetFullStatus, &vtctldatapb.GetFullStatusRequest{TabletAlias: tablet})
	if err != nil {
		return nil, err
	}
	return resp.GetStatus(), nil
}

// replicationStateStopped is a stopped replication thread in ReplicationStatus' io_state and
// sql_state: Vitess' replication.ReplicationStateStopped, whose package pulls in Vitess' logging.
const replicationStateStopped = 1

// StartReplication starts the tablet's replication from the shard's primary.
func (c *Client) StartReplication(ctx context.Context, alias string) error {
	tablet, err := parseAlias(alias)
	if err != nil {
		return err
	}
	_, err = invoke(ctx, c, "StartReplication", write, c.rpc.StartReplication, &vtctldatapb.StartReplicationRequest{TabletAlias: tablet})
	return err
}
