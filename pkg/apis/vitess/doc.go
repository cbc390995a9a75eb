// Package vitess holds the internal (hub) types of the vitess.planetscale.com API group. Every
// served version converts to and from these; storage, validation and the reconciler use them.
//
// +k8s:deepcopy-gen=package
// +groupName=vitess.planetscale.com
package vitess
