package vitess

import "strings"

// ReservedLabelDomain is the domain of the labels the server sets on what it makes
// (planetscale.com/cluster, etcd.planetscale.com/lockserver, ...), by which users find those
// objects. A user's labels may not use it or its subdomains: they would make one object look like
// another's.
const ReservedLabelDomain = "planetscale.com"

// IsReservedLabelKey tells whether a label key is in ReservedLabelDomain.
func IsReservedLabelKey(key string) bool {
	prefix, _, found := strings.Cut(key, "/")
	return found && (prefix == ReservedLabelDomain || strings.HasSuffix(prefix, "."+ReservedLabelDomain))
}
