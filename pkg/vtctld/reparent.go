package vtctld

import (
	"context"
	"fmt"
	"strconv"
	"strings"

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

// ElectPrimary makes the tablet with the given alias the primary of a shard that has none yet,
// with a planned reparent, and returns the primary's alias. Vitess refuses when the tablet is
// not a replica of the shard in the topology.
func (c *Client) ElectPrimary(ctx context.Context, keyspace, shard, alias string) (string, error) {
	primary, err := parseAlias(alias)
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
