package vtctld

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"vitess.io/vitess/go/protoutil"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// Keyspace is a keyspace as the topology records it.
type Keyspace struct {
	Name string
	// DurabilityPolicy decides which tablets acknowledge a write ("none", "semi_sync", ...); empty
	// when the keyspace was created without one.
	DurabilityPolicy string
	// SnapshotOf is the base keyspace of a SNAPSHOT keyspace, empty for a normal one.
	SnapshotOf string
}

// Shard is a shard's record in the global topology.
type Shard struct {
	Keyspace string
	Name     string
	// PrimaryAlias is the tablet the topology names as primary, as "<cell>-<uid>" with the uid
	// zero-padded to ten digits (zone1-0000000101); empty while the shard has no primary.
	PrimaryAlias string
	// IsPrimaryServing is false while a resharding or MoveTables cut-over has taken writes away
	// from the shard.
	IsPrimaryServing bool
}

// Tablet is a tablet's record in its cell's topology.
type Tablet struct {
	Alias    string // "<cell>-<uid>", as in Shard.PrimaryAlias
	Hostname string
	Type     string // PRIMARY, REPLICA, RDONLY, SPARE, ...
	Keyspace string
	Shard    string
}

// CellNames lists the cells registered in the global topology, sorted.
func (c *Client) CellNames(ctx context.Context) ([]string, error) {
	resp, err := invoke(ctx, c, "GetCellInfoNames", read, c.rpc.GetCellInfoNames, &vtctldatapb.GetCellInfoNamesRequest{})
	if err != nil {
		return nil, err
	}
	names := slices.Clone(resp.GetNames())
	slices.Sort(names)
	return names, nil
}

// AddCell registers a cell whose local topology is at serverAddress under root, so that a
// reconciler can call it on every pass: a cell that is already registered with the same location
// is left alone, and one registered with another location is updated to this one.
func (c *Client) AddCell(ctx context.Context, name, serverAddress, root string) error {
	// One deadline for the whole exchange, as for a single call.
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	want := &topodatapb.CellInfo{ServerAddress: serverAddress, Root: root}
	_, addErr := invoke(ctx, c, "AddCellInfo", write, c.rpc.AddCellInfo, &vtctldatapb.AddCellInfoRequest{Name: name, CellInfo: want})
	// vtctld reports an existing cell as a plain topology error, which reaches us with gRPC code
	// Unknown and can be told apart from other failures only by its text: look at the cell
	// instead. (AlreadyExists too, should a later vtctld give the error its proper code.)
	if code := status.Code(addErr); code != codes.Unknown && code != codes.AlreadyExists {
		return addErr
	}
	got, err := invoke(ctx, c, "GetCellInfo", read, c.rpc.GetCellInfo, &vtctldatapb.GetCellInfoRequest{Cell: name})
	if err != nil {
		return addErr // the cell is not there either: the add failed for another reason
	}
	if got.GetCellInfo().GetServerAddress() == serverAddress && got.GetCellInfo().GetRoot() == root {
		return nil
	}
	_, err = invoke(ctx, c, "UpdateCellInfo", write, c.rpc.UpdateCellInfo, &vtctldatapb.UpdateCellInfoRequest{Name: name, CellInfo: want})
	return err
}

// Keyspaces lists the keyspaces of the global topology, sorted by name.
func (c *Client) Keyspaces(ctx context.Context) ([]Keyspace, error) {
	resp, err := invoke(ctx, c, "GetKeyspaces", read, c.rpc.GetKeyspaces, &vtctldatapb.GetKeyspacesRequest{})
	if err != nil {
		return nil, err
	}
	keyspaces := make([]Keyspace, 0, len(resp.GetKeyspaces()))
	for _, ks := range resp.GetKeyspaces() {
		keyspace := Keyspace{Name: ks.GetName(), DurabilityPolicy: ks.GetKeyspace().GetDurabilityPolicy()}
		if ks.GetKeyspace().GetKeyspaceType() == topodatapb.KeyspaceType_SNAPSHOT {
			keyspace.SnapshotOf = ks.GetKeyspace().GetBaseKeyspace()
		}
		keyspaces = append(keyspaces, keyspace)
	}
	slices.SortFunc(keyspaces, func(a, b Keyspace) int { return strings.Compare(a.Name, b.Name) })
	return keyspaces, nil
}

// CreateKeyspace creates a normal (not snapshot) keyspace with an empty VSchema. A keyspace that
// already exists counts as created and keeps the durability policy it has: changing it is a
// separate decision. The request sets Force, which makes vtctld accept an existing keyspace and
// still finish the steps after creating it (the VSchema, the serving VSchema), so a call that was
// interrupted half-way is completed by the next one.
func (c *Client) CreateKeyspace(ctx context.Context, name, durabilityPolicy string) error {
	_, err := invoke(ctx, c, "CreateKeyspace", write, c.rpc.CreateKeyspace, &vtctldatapb.CreateKeyspaceRequest{
		Name:             name,
		Force:            true,
		Type:             topodatapb.KeyspaceType_NORMAL,
		DurabilityPolicy: durabilityPolicy,
	})
	return err
}

// CreateSnapshotKeyspace creates a SNAPSHOT keyspace: its tablets restore base's newest backup
// taken at or before at, and vtctld gives it base's VSchema with explicit routing required.
func (c *Client) CreateSnapshotKeyspace(ctx context.Context, name, base string, at time.Time) error {
	_, err := invoke(ctx, c, "CreateKeyspace", write, c.rpc.CreateKeyspace, &vtctldatapb.CreateKeyspaceRequest{
		Name:         name,
		Force:        true,
		Type:         topodatapb.KeyspaceType_SNAPSHOT,
		BaseKeyspace: base,
		SnapshotTime: protoutil.TimeToProto(at),
	})
	return err
}

// SetDurabilityPolicy sets which tablets of a keyspace acknowledge a write: for a keyspace its
// tablets created before it was registered (which leaves the policy empty, and VTOrc ignoring the
// keyspace), or whose policy the spec changed.
func (c *Client) SetDurabilityPolicy(ctx context.Context, keyspace, durabilityPolicy string) error {
	_, err := invoke(ctx, c, "SetKeyspaceDurabilityPolicy", write, c.rpc.SetKeyspaceDurabilityPolicy, &vtctldatapb.SetKeyspaceDurabilityPolicyRequest{
		Keyspace:         keyspace,
		DurabilityPolicy: durabilityPolicy,
	})
	return err
}

// Shards lists the shards of a keyspace, sorted by name; a keyspace without shards has none, and a
// keyspace that does not exist is an error.
func (c *Client) Shards(ctx context.Context, keyspace string) ([]Shard, error) {
	resp, err := invoke(ctx, c, "FindAllShardsInKeyspace", read, c.rpc.FindAllShardsInKeyspace,
		&vtctldatapb.FindAllShardsInKeyspaceRequest{Keyspace: keyspace})
	if err != nil {
		return nil, err
	}
	shards := make([]Shard, 0, len(resp.GetShards()))
	for name, s := range resp.GetShards() {
		shards = append(shards, Shard{
			Keyspace:         keyspace,
			Name:             name,
			PrimaryAlias:     aliasString(s.GetShard().GetPrimaryAlias()),
			IsPrimaryServing: s.GetShard().GetIsPrimaryServing(),
		})
	}
	slices.SortFunc(shards, func(a, b Shard) int { return strings.Compare(a.Name, b.Name) })
	return shards, nil
}

// ServingShards is the set of shards that serve a keyspace's writes, read from the serving graph
// (SrvKeyspace) of the given cells, or of every cell when cells is empty: the names in the PRIMARY
// partition, joined over the cells and sorted. A shard that has left this set no longer takes
// traffic even if its record still exists, e.g. the source shards after a reshard.
//
// A cell that has no SrvKeyspace for the keyspace contributes nothing, so a keyspace that was
// never rebuilt into the serving graph (or does not exist) yields an empty result and no error:
// "nothing serves" is the answer, and vtctld itself treats a missing SrvKeyspace that way.
func (c *Client) ServingShards(ctx context.Context, keyspace string, cells []string) ([]string, error) {
	resp, err := invoke(ctx, c, "GetSrvKeyspaces", read, c.rpc.GetSrvKeyspaces,
		&vtctldatapb.GetSrvKeyspacesRequest{Keyspace: keyspace, Cells: cells})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, srv := range resp.GetSrvKeyspaces() {
		for _, partition := range srv.GetPartitions() {
			if partition.GetServedType() != topodatapb.TabletType_PRIMARY {
				continue
			}
			for _, ref := range partition.GetShardReferences() {
				names = append(names, ref.GetName())
			}
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Tablets lists the tablets of one shard in every cell, sorted by alias.
func (c *Client) Tablets(ctx context.Context, keyspace, shard string) ([]Tablet, error) {
	// Not Strict: a cell whose topology is down hides its tablets rather than failing the whole
	// list, as vtctldclient GetTablets does by default.
	resp, err := invoke(ctx, c, "GetTablets", read, c.rpc.GetTablets,
		&vtctldatapb.GetTabletsRequest{Keyspace: keyspace, Shard: shard})
	if err != nil {
		return nil, err
	}
	tablets := make([]Tablet, 0, len(resp.GetTablets()))
	for _, t := range resp.GetTablets() {
		tablets = append(tablets, Tablet{
			Alias:    aliasString(t.GetAlias()),
			Hostname: t.GetHostname(),
			Type:     t.GetType().String(),
			Keyspace: t.GetKeyspace(),
			Shard:    t.GetShard(),
		})
	}
	slices.SortFunc(tablets, func(a, b Tablet) int { return strings.Compare(a.Alias, b.Alias) })
	return tablets, nil
}

// aliasString formats a tablet alias the way Vitess prints it everywhere (flags, logs, vtctldclient
// output), so that it can be compared with what users and the operator's names use.
func aliasString(alias *topodatapb.TabletAlias) string {
	if alias == nil {
		return ""
	}
	return fmt.Sprintf("%s-%010d", alias.GetCell(), alias.GetUid())
}
