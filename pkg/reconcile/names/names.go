// Package names reproduces the object names that planetscale/vitess-operator gives to the
// Kubernetes objects it creates for a VitessCluster, so that users who know the operator find the
// same names here ("example-etcd-faf13de3-1", "example-zone1-vtgate-bc6cde92",
// "example-vttablet-zone1-2469782763-bfadd780", ...), and so that clusters moved from the operator
// keep their tablet UIDs.
//
// Everything in this package must stay byte-for-byte compatible with the operator (packages
// pkg/operator/names, pkg/operator/vttablet, pkg/operator/etcd, pkg/operator/lockserver and the
// per-component Name functions). Changing the output of any function renames objects, and changing
// TabletUID changes tablet identities in the Vitess topology, which the operator treats as deleting
// every tablet and creating new ones. The change-detection tests pin the values.
//
// Names depend only on the inputs, never on state, so a reconciler can compute the name of an
// object it has not created yet and use it for idempotent creates. Lookups should still go through
// labels: the hash suffix cannot be reversed, and labels carry the inputs unambiguously.
package names

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

const (
	// hashBytes is how much of the md5 sum ends up in a name. The operator keeps 32 bits: the hash
	// only has to tell apart inputs whose hyphen-joined text is identical, which leaves an attacker
	// almost no freedom, so more bits would only make names longer.
	hashBytes = 4
	// hashLength is the number of hex digits of the suffix.
	hashLength = 2 * hashBytes

	// truncationMark replaces the single "-" before the hash when a name had to be shortened, so
	// that a truncated name can never equal an untruncated one.
	truncationMark = "---"

	// minMaxLength is the shortest name that can hold a truncated result: one character (a name
	// cannot start with "-"), the truncation mark and the hash.
	minMaxLength = 1 + len(truncationMark) + hashLength
)

// The component names (vitess.Component*, as the operator spells them) are part of the hashed
// input, so they must not be changed.

// Constraints are the rules a generated name must satisfy for one kind of object.
type Constraints struct {
	// MaxLength bounds the whole result, hash suffix included. Values below 12 cannot hold even a
	// truncated name and make JoinWithConstraints panic.
	MaxLength int
	// ValidFirstChar reports whether a name may start with r. When the (lowercased) first part does
	// not start with such a character, "x" is put in front of it.
	ValidFirstChar func(r rune) bool
}

var (
	// DefaultConstraints fit almost every Kubernetes kind: a DNS-1123 subdomain (RFC 1123) is at
	// most 253 characters and starts with a lowercase letter or digit. Pods, PVCs, Deployments and
	// the operator's own kinds (VitessCell, VitessKeyspace, VitessShard) use them.
	DefaultConstraints = Constraints{MaxLength: 253, ValidFirstChar: isLowercaseAlphanumeric}

	// ServiceConstraints fit Service names, which are DNS-1035 labels: at most 63 characters,
	// starting with a lowercase letter, because they become DNS names inside the cluster.
	ServiceConstraints = Constraints{MaxLength: 63, ValidFirstChar: isLowercaseLetter}

	// EtcdLockserverConstraints fit EtcdLockserver names. The lockserver's client and peer Services
	// are named after it with "-client" and "-peer" appended, so the lockserver name must leave
	// room for the longer suffix inside a Service name.
	// CronJobConstraints fit CronJob names: the CronJob controller names each Job after its
	// CronJob with an 11-character suffix, and Job names are at most 63 characters.
	CronJobConstraints = Constraints{MaxLength: 52, ValidFirstChar: isLowercaseAlphanumeric}

	EtcdLockserverConstraints = Constraints{
		MaxLength:      ServiceConstraints.MaxLength - len(etcdClientServiceSuffix),
		ValidFirstChar: ServiceConstraints.ValidFirstChar,
	}
)

// Hash is the suffix the operator appends to generated names: the first 4 bytes of the md5 sum of
// every part followed by a NUL byte, as 8 lowercase hex digits. The NUL terminator makes the hash
// differ when text moves between parts ("a-b","c" vs "a","b-c"), which the "-"-joined visible
// part cannot show.
func Hash(parts ...string) string {
	h := md5.New()
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:hashBytes])
}

// Join returns the parts and their Hash joined with "-", without any validation or truncation.
// It is the operator's original names.Join (now DeprecatedJoin). Objects are named with
// JoinWithConstraints, which agrees with Join whenever the parts are already valid and short
// enough; Join is kept as the reference that compatibility is checked against.
func Join(parts ...string) string {
	return strings.Join(append(append([]string(nil), parts...), Hash(parts...)), "-")
}

// JoinWithConstraints returns a name for the parts that is valid under c and still unique and
// deterministic for the original input, as the operator's names.JoinWithConstraints does:
//
//   - the hash is always computed over the original, untransformed parts;
//   - in each part, A-Z are lowercased, a-z, 0-9 and "-" are kept, and every other rune becomes "-";
//   - if the first part (after that) is empty or does not start with a character c allows, "x" is
//     prepended to it;
//   - the parts are joined with "-", and if "<joined>-<hash>" fits in c.MaxLength that is the name;
//   - otherwise the joined text is cut so that "<cut>---<hash>" is exactly c.MaxLength long.
//
// With no parts the result is "". It panics if c.MaxLength is below 12, a programming error that
// should show up even for inputs that would not need truncation.
func JoinWithConstraints(c Constraints, parts ...string) string {
	if c.MaxLength < minMaxLength {
		panic(fmt.Sprintf("names: MaxLength %d is invalid; it must be at least %d", c.MaxLength, minMaxLength))
	}
	if len(parts) == 0 {
		return ""
	}
	hash := Hash(parts...)

	clean := make([]string, len(parts))
	for i, part := range parts {
		clean[i] = strings.Map(nameRune, part)
	}
	// From here on every string is ASCII, so byte offsets are character offsets.
	if first := clean[0]; first == "" || !c.ValidFirstChar(rune(first[0])) {
		clean[0] = "x" + first
	}

	joined := strings.Join(clean, "-")
	length := len(joined) + 1 + len(hash)
	if length <= c.MaxLength {
		return joined + "-" + hash
	}
	// Cut what exceeds MaxLength plus two more characters: the truncation mark is two longer than
	// the usual separator.
	cut := length - c.MaxLength + len(truncationMark) - 1
	return joined[:len(joined)-cut] + truncationMark + hash
}

// nameRune maps one rune of a name part to what may appear in an object name.
func nameRune(r rune) rune {
	switch {
	case isLowercaseAlphanumeric(r) || r == '-':
		return r
	case 'A' <= r && r <= 'Z':
		return r + ('a' - 'A')
	}
	return '-'
}

func isLowercaseLetter(r rune) bool { return 'a' <= r && r <= 'z' }

func isLowercaseAlphanumeric(r rune) bool { return isLowercaseLetter(r) || '0' <= r && r <= '9' }

// Child objects of a VitessCluster.
//
// Key ranges appear in names as their "safe name": the Vitess shard name with an unbounded start or
// end written "x" ("x-80", "80-x", "x-x" for the whole keyspace), because a name cannot start or
// end with "-". The operator uses the bounds exactly as written in the spec (its CRD only admits
// lowercase hex); VitessKeyRange.SafeName in pkg/apis/vitess returns the same string for every
// valid, canonical (lowercase) range.

// GlobalLockserver is the name of the cluster's global EtcdLockserver (operator:
// lockserver.GlobalEtcdName). "etcd" is part of the name so that Services derived from it cannot
// collide with those of other components.
func GlobalLockserver(cluster string) string {
	return JoinWithConstraints(EtcdLockserverConstraints, cluster, vitess.ComponentEtcd)
}

// CellLockserver is the name of a cell's local EtcdLockserver, which the operator creates when a
// cell asks for its own etcd (operator: lockserver.LocalEtcdName).
func CellLockserver(cluster, cell string) string {
	return JoinWithConstraints(EtcdLockserverConstraints, cluster, cell, vitess.ComponentEtcd)
}

// Cell is the name of a VitessCell (operator: vitesscell.Name).
func Cell(cluster, cell string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, cell)
}

// Keyspace is the name of a VitessKeyspace (operator: vitesskeyspace.Name).
func Keyspace(cluster, keyspace string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, keyspace)
}

// Shard is the name of a VitessShard; keyRangeSafeName is the range's safe name, "x-x" for an
// unsharded keyspace (operator: vitessshard.Name).
func Shard(cluster, keyspace, keyRangeSafeName string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, keyspace, keyRangeSafeName)
}

// Backup is the name of a VitessBackup: the VitessShard's name with Vitess' name of the backup
// (<date>.<time>.<tablet alias>, whose dots a name part cannot keep) as one more part. The hash
// keeps it unique whatever the parts lose to the constraints.
func Backup(cluster, keyspace, keyRangeSafeName, backupName string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, keyspace, keyRangeSafeName, backupName)
}

// Tablets.

// TabletUID is the uid of the tablet alias of the index-th tablet (1-based, counted within its
// pool) of the pool of type poolType ("replica", "rdonly", ...) in cell, for the shard of keyspace
// with range keyRange written the Vitess way ("-", "-80", "80-"; not the safe name). It is the
// operator's vttablet.UID: the first 4 bytes, big-endian, of the md5 sum of the line
// "<cell> <keyspace> <keyRange> <poolType> <index>\n" (what fmt.Fprintln writes). A uid that depends
// only on the tablet's place in the spec survives pod restarts and rescheduling, so the tablet
// keeps its topology record and MySQL server id; the 32 bits are all Vitess offers.
func TabletUID(cell, keyspace, keyRange, poolType string, index uint32) uint32 {
	return uidOf(cell, keyspace, keyRange, poolType, strconv.FormatUint(uint64(index), 10))
}

func uidOf(fields ...string) uint32 {
	sum := md5.Sum([]byte(strings.Join(fields, " ") + "\n"))
	return binary.BigEndian.Uint32(sum[:4])
}

// TabletUIDString is a uid as Vitess writes it in aliases, zero-padded to 10 digits, which is also
// the value of the operator's planetscale.com/tablet-uid label (operator: vttablet.UIDString).
func TabletUIDString(uid uint32) string {
	return fmt.Sprintf("%010d", uid)
}

// TabletAlias is the Vitess tablet alias "<cell>-<uid>" with the uid zero-padded to 10 digits
// (Vitess: topoproto.TabletAliasString), e.g. "zone1-0790125915".
func TabletAlias(cell string, uid uint32) string {
	return cell + "-" + TabletUIDString(uid)
}

// TabletPodName is the name of a tablet's Pod (operator: vttablet.PodName). It is built from the
// tablet alias rather than from keyspace and shard so that it stays short and matches what Vitess
// tools print.
func TabletPodName(cluster, cell string, uid uint32) string {
	return JoinWithConstraints(DefaultConstraints, cluster, vitess.ComponentVttablet, TabletAlias(cell, uid))
}

// TabletPVCName is the name of a tablet's data volume claim; the operator gives it the Pod's name
// (vitessshard controller, reconcile_tablets.go) and creates it only when the pool has a
// dataVolumeClaimTemplate.
func TabletPVCName(cluster, cell string, uid uint32) string {
	return TabletPodName(cluster, cell, uid)
}

// TabletServiceName is the name of the cluster's headless vttablet Service, shared by all tablets
// (operator: vttablet.ServiceName).
func TabletServiceName(cluster string) string {
	return JoinWithConstraints(ServiceConstraints, cluster, vitess.ComponentVttablet)
}

// Etcd lockserver members. These names are the lockserver name plus plain suffixes, without a
// hash: the lockserver name is already unique, and EtcdLockserverConstraints leave room for them.

// EtcdMembers is the number of members of every EtcdLockserver, fixed by the operator
// (etcd.NumReplicas): fewer cannot keep quorum through the loss of one member, more only add
// latency. Members are numbered 1..EtcdMembers.
const EtcdMembers = 3

const (
	etcdClientServiceSuffix = "-client"
	etcdPeerServiceSuffix   = "-peer"
)

// EtcdMemberPodName is the name of the Pod of member index (1-based) of a lockserver (operator:
// etcd.PodName), e.g. "example-etcd-faf13de3-1".
func EtcdMemberPodName(lockserver string, index int) string {
	return lockserver + "-" + strconv.Itoa(index)
}

// EtcdMemberPVCName is the name of a member's data volume claim, which the operator gives the
// Pod's name (etcdlockserver controller, reconcile_members.go).
func EtcdMemberPVCName(lockserver string, index int) string {
	return EtcdMemberPodName(lockserver, index)
}

// EtcdClientServiceName is the name of the Service clients (Vitess components) reach the
// lockserver through (operator: etcd.ClientServiceName).
func EtcdClientServiceName(lockserver string) string {
	return lockserver + etcdClientServiceSuffix
}

// EtcdPeerServiceName is the name of the headless Service the members find each other through
// (operator: etcd.PeerServiceName).
func EtcdPeerServiceName(lockserver string) string {
	return lockserver + etcdPeerServiceSuffix
}

// EtcdPDBName is the name of the lockserver's PodDisruptionBudget (operator: etcd.PDBName). Unlike
// the other names it puts a fixed prefix first.
func EtcdPDBName(lockserver string) string {
	return "etcd-lockserver-" + lockserver
}

// Stateless components. Deployments exist per cell; Services that span cells exist per cluster,
// and vtgate has both a per-cell and a cluster-wide Service.

// VtctldDeploymentName is the name of the vtctld Deployment in a cell (operator:
// vtctld.DeploymentName).
func VtctldDeploymentName(cluster, cell string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, cell, vitess.ComponentVtctld)
}

// VtctldServiceName is the name of the cluster's vtctld Service (operator: vtctld.ServiceName).
func VtctldServiceName(cluster string) string {
	return JoinWithConstraints(ServiceConstraints, cluster, vitess.ComponentVtctld)
}

// VtgateDeploymentName is the name of the vtgate Deployment in a cell (operator:
// vtgate.DeploymentName).
func VtgateDeploymentName(cluster, cell string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, cell, vitess.ComponentVtgate)
}

// VtgateServiceName is the name of the Service for the vtgates of one cell (operator:
// vtgate.ServiceName).
func VtgateServiceName(cluster, cell string) string {
	return JoinWithConstraints(ServiceConstraints, cluster, cell, vitess.ComponentVtgate)
}

// VtgateClusterServiceName is the name of the Service over the vtgates of all cells (operator:
// vtgate.ClusterServiceName).
func VtgateClusterServiceName(cluster string) string {
	return JoinWithConstraints(ServiceConstraints, cluster, vitess.ComponentVtgate)
}

// VtorcDeploymentName is the name of the VTOrc Deployment for one shard in one cell (operator:
// vtorc.DeploymentName).
func VtorcDeploymentName(cluster, keyspace, keyRangeSafeName, cell string) string {
	return JoinWithConstraints(DefaultConstraints, cluster, keyspace, keyRangeSafeName, cell, vitess.ComponentVtorc)
}

// BackupCronJob is the name of the CronJob that backs up one shard on one strategy of a backup
// schedule.
func BackupCronJob(cluster, schedule, strategy, keyspace, keyRangeSafeName string) string {
	return JoinWithConstraints(CronJobConstraints, cluster, schedule, strategy, keyspace, keyRangeSafeName)
}
