package vtctld

import (
	"context"

	vschemapb "vitess.io/vitess/go/vt/proto/vschema"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// schemaWaitReplicas is how long ApplySchema lets replicas catch up, vtctldclient's default.
const schemaWaitReplicas = 10

// VSchema is a keyspace's VSchema as the global topology holds it.
func (c *Client) VSchema(ctx context.Context, keyspace string) (*vschemapb.Keyspace, error) {
	resp, err := invoke(ctx, c, "GetVSchema", read, c.rpc.GetVSchema, &vtctldatapb.GetVSchemaRequest{Keyspace: keyspace})
	if err != nil {
		return nil, err
	}
	return resp.GetVSchema(), nil
}

// ApplyVSchema validates a keyspace's VSchema in vtctld and, unless dryRun, stores it and
// rebuilds the serving VSchema. It returns the VSchema as vtctld accepted it. Strict rejects
// vindex parameters Vitess does not know, which are almost always typos.
func (c *Client) ApplyVSchema(ctx context.Context, keyspace string, vschema *vschemapb.Keyspace, dryRun bool) (*vschemapb.Keyspace, error) {
	resp, err := invoke(ctx, c, "ApplyVSchema", write, c.rpc.ApplyVSchema, &vtctldatapb.ApplyVSchemaRequest{
		Keyspace: keyspace,
		VSchema:  vschema,
		DryRun:   dryRun,
		Strict:   true,
	})
	if err != nil {
		return nil, err
	}
	return resp.GetVSchema(), nil
}

// ApplySchema runs one SQL statement on every shard of a keyspace's primaries, directly (not as
// an online DDL migration), and returns the rows it affected per shard.
func (c *Client) ApplySchema(ctx context.Context, keyspace, statement string) (map[string]uint64, error) {
	resp, err := invoke(ctx, c, "ApplySchema", write, c.rpc.ApplySchema, &vtctldatapb.ApplySchemaRequest{
		Keyspace:            keyspace,
		Sql:                 []string{statement},
		DdlStrategy:         "direct",
		WaitReplicasTimeout: &vttimepb.Duration{Seconds: schemaWaitReplicas},
	})
	if err != nil {
		return nil, err
	}
	return resp.GetRowsAffectedByShard(), nil
}
