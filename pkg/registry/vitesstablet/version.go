package vitesstablet

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// Resource versions. Nothing is stored, so there is no revision to number states by; a state is
// named by what it holds instead. The version of a set of tablets is the sum of its tablets'
// hashes, so the same tablets have the same version on every request and every replica of the
// server, and a watch tells at once whether the version a client starts from is the state it
// sees now (if not it answers 410 Gone, and the client lists again). An event changes the sum by
// one tablet's hash: each event carries the version of the state just after it, from which a
// watch can be resumed. A version names what a request's selectors let through: the same
// topology seen through another selector has another version.

// emptyVersion is the version of no tablets: the FNV-64 offset basis, so that it is not "0", which
// a watch reads as "any version".
const emptyVersion uint64 = 14695981039346656037

// tabletSet is a set of tablets, by namespace and name, with its version.
type tabletSet struct {
	tablets map[string]hashedTablet
	sum     uint64
}

// hashedTablet is a tablet with its hash. The cache hashes the tablets of a reading once, for
// every request and watch to use: a watch of many clusters compares all their tablets with what
// it has sent at each reading of any one of them.
type hashedTablet struct {
	tablet *vitess.VitessTablet
	hash   uint64
}

func hashed(t *vitess.VitessTablet) hashedTablet { return hashedTablet{tablet: t, hash: tabletHash(t)} }

func newTabletSet(tablets []hashedTablet) *tabletSet {
	set := &tabletSet{tablets: map[string]hashedTablet{}, sum: emptyVersion}
	for _, t := range tablets {
		set.put(t)
	}
	return set
}

func (s *tabletSet) version() string { return strconv.FormatUint(s.sum, 10) }

// put adds the tablet or replaces the one of the same name, and tells whether the set changed.
func (s *tabletSet) put(t hashedTablet) bool {
	k := key(t.tablet)
	old, found := s.tablets[k]
	if found && old.hash == t.hash {
		return false
	}
	s.sum += t.hash - old.hash // old.hash is 0 when not found
	s.tablets[k] = t
	return true
}

func (s *tabletSet) remove(key string) {
	s.sum -= s.tablets[key].hash
	delete(s.tablets, key)
}

// expired is the 410 Gone of a request for a version that is no longer the current one.
func expired(resourceVersion string, current *tabletSet) error {
	return apierrors.NewResourceExpired(fmt.Sprintf(
		"resourceVersion %s is not the current state of the tablets (%s), and earlier states are not kept: list again", resourceVersion, current.version()))
}

func key(t *vitess.VitessTablet) string { return t.Namespace + "/" + t.Name }

// tabletHash covers everything a tablet shows but its resourceVersion, which derives from it.
func tabletHash(t *vitess.VitessTablet) uint64 {
	content, err := json.Marshal(struct {
		Namespace, Name string
		Labels          map[string]string
		Status          vitess.VitessTabletStatus
	}{t.Namespace, t.Name, t.Labels, t.Status})
	if err != nil {
		// Strings, a map of strings and a time cannot fail to encode.
		panic(err)
	}
	h := fnv.New64a()
	h.Write(content)
	return h.Sum64()
}
