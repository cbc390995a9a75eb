package vtctld

import (
	"context"
	"slices"
	"strings"
	"time"

	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// TabletRecord is a tablet's record with what Tablet leaves out: its alias in parts and the start
// of its primary term.
type TabletRecord struct {
	Tablet
	Cell string
	UID  uint32
	// PrimaryTermStartTime is when the tablet became primary; zero for a tablet that is not one.
	PrimaryTermStartTime time.Time
}

// AllTablets lists the tablets of every keyspace in every cell, sorted by alias.
func (c *Client) AllTablets(ctx context.Context) ([]TabletRecord, error) {
	// Not Strict, as in Tablets: a cell whose topology is down hides its tablets.
	resp, err := invoke(ctx, c, "GetTablets", read, c.rpc.GetTablets, &vtctldatapb.GetTabletsRequest{})
	if err != nil {
		return nil, err
	}
	tablets := make([]TabletRecord, 0, len(resp.GetTablets()))
	for _, t := range resp.GetTablets() {
		record := TabletRecord{
			Tablet: Tablet{
				Alias:    aliasString(t.GetAlias()),
				Hostname: t.GetHostname(),
				Type:     t.GetType().String(),
				Keyspace: t.GetKeyspace(),
				Shard:    t.GetShard(),
			},
			Cell: t.GetAlias().GetCell(),
			UID:  t.GetAlias().GetUid(),
		}
		// Vitess leaves the term start unset, or at the epoch, on tablets that are not primary.
		if start := t.GetPrimaryTermStartTime(); start.GetSeconds() > 0 {
			record.PrimaryTermStartTime = time.Unix(start.GetSeconds(), int64(start.GetNanoseconds())).UTC()
		}
		tablets = append(tablets, record)
	}
	slices.SortFunc(tablets, func(a, b TabletRecord) int { return strings.Compare(a.Alias, b.Alias) })
	return tablets, nil
}

// ShardRoute is one entry of a keyspace's serving graph: vtgates of Cell send the traffic of
// TabletType (PRIMARY, REPLICA, RDONLY) to the tablets of that type in Shard.
type ShardRoute struct {
	Cell       string
	TabletType string
	Shard      string
}

// ShardRoutes reads a keyspace's serving graph (its SrvKeyspace) in the given cells, or in every
// cell when cells is empty. As with ServingShards, a cell without a SrvKeyspace for the keyspace
// routes nothing and is no error.
func (c *Client) ShardRoutes(ctx context.Context, keyspace string, cells []string) ([]ShardRoute, error) {
	resp, err := invoke(ctx, c, "GetSrvKeyspaces", read, c.rpc.GetSrvKeyspaces,
		&vtctldatapb.GetSrvKeyspacesRequest{Keyspace: keyspace, Cells: cells})
	if err != nil {
		return nil, err
	}
	var routes []ShardRoute
	for cell, srv := range resp.GetSrvKeyspaces() {
		for _, partition := range srv.GetPartitions() {
			for _, ref := range partition.GetShardReferences() {
				routes = append(routes, ShardRoute{Cell: cell, TabletType: partition.GetServedType().String(), Shard: ref.GetName()})
			}
		}
	}
	return routes, nil
}
