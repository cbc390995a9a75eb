package topologycache

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Resource versions. Nothing is stored, so there is no revision to number states by; a state is
// named by what it holds instead. The version of a set of objects is the sum of its objects'
// hashes, so the same objects have the same version on every request and every replica of the
// server, and a watch tells at once whether the version a client starts from is the state it
// sees now (if not it answers 410 Gone, and the client lists again). An event changes the sum by
// one object's hash: each event carries the version of the state just after it, from which a
// watch can be resumed. A version names what a request's selectors let through: the same
// topology seen through another selector has another version.

// emptyVersion is the version of no objects: the FNV-64 offset basis, so that it is not "0",
// which a watch reads as "any version".
const emptyVersion uint64 = 14695981039346656037

// objectSet is a set of objects, by namespace and name, with its version.
type objectSet[P Object[T], T any] struct {
	objects map[string]hashed[P, T]
	sum     uint64
}

// hashed is an object with its hash. The cache hashes the objects of a reading once, for every
// request and watch to use: a watch of many clusters compares all their objects with what it has
// sent at each reading of any one of them.
type hashed[P Object[T], T any] struct {
	object P
	hash   uint64
}

func newObjectSet[P Object[T], T any](objects []hashed[P, T]) *objectSet[P, T] {
	set := &objectSet[P, T]{objects: map[string]hashed[P, T]{}, sum: emptyVersion}
	for _, o := range objects {
		set.put(o)
	}
	return set
}

func (s *objectSet[P, T]) version() string { return strconv.FormatUint(s.sum, 10) }

// put adds the object or replaces the one of the same name, and tells whether the set changed.
func (s *objectSet[P, T]) put(o hashed[P, T]) bool {
	k := key(o.object)
	old, found := s.objects[k]
	if found && old.hash == o.hash {
		return false
	}
	s.sum += o.hash - old.hash // old.hash is 0 when not found
	s.objects[k] = o
	return true
}

func (s *objectSet[P, T]) remove(key string) {
	s.sum -= s.objects[key].hash
	delete(s.objects, key)
}

// expired is the 410 Gone of a request for a version that is no longer the current one.
func (s *Store[P, T]) expired(resourceVersion string, current *objectSet[P, T]) error {
	return apierrors.NewResourceExpired(fmt.Sprintf(
		"resourceVersion %s is not the current state of the %s (%s), and earlier states are not kept: list again",
		resourceVersion, s.resource.Resource, current.version()))
}

func key[P Object[T], T any](o P) string { return o.GetNamespace() + "/" + o.GetName() }

// hash hashes everything an object shows. Objects in a reading have no resourceVersion, which
// derives from the hash.
func hash[P Object[T], T any](o P) hashed[P, T] {
	content, err := json.Marshal(o)
	if err != nil {
		// The objects are of API types, which encode.
		panic(err)
	}
	h := fnv.New64a()
	h.Write(content)
	return hashed[P, T]{object: o, hash: h.Sum64()}
}
