package vitesskeyspace

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
)

// FuzzVSchemaRoundTrip: what GET renders of any VSchema a PUT accepts decodes to the same VSchema,
// so that it can be PUT back.
func FuzzVSchemaRoundTrip(f *testing.F) {
	for _, seed := range []string{
		`{"tables": {"product": {}, "customer": {}}}`,
		`{"sharded": true, "vindexes": {"hash": {"type": "hash"}}, "tables": {"customer": {"column_vindexes": [{"column": "customer_id", "name": "hash"}]}}}`,
		`{"sharded": true, "vindexes": {"lookup": {"type": "consistent_lookup_unique", "params": {"table": "t", "from": "a", "to": "b"}, "owner": "c"}}}`,
		`{"tables": {"seq": {"type": "sequence"}, "t": {"auto_increment": {"column": "id", "sequence": "seq"}}}}`,
		`{"requireExplicitRouting": true, "foreignKeyMode": "managed"}`,
	} {
		f.Add([]byte(seed))
	}
	keyspace := &vitess.VitessKeyspace{}
	keyspace.Name, keyspace.Namespace = "demo-commerce", "demo"
	f.Fuzz(func(t *testing.T, raw []byte) {
		decoded, err := decodeVSchema(raw)
		if err != nil {
			return
		}
		rendered, err := vschemaObject(keyspace, decoded)
		if err != nil {
			t.Fatalf("rendering %s: %v", raw, err)
		}
		again, err := decodeVSchema(rendered.VSchema.Raw)
		if err != nil {
			t.Fatalf("decoding the rendering %s of %s: %v", rendered.VSchema.Raw, raw, err)
		}
		if !proto.Equal(decoded, again) {
			t.Fatalf("%s rendered as %s, which decodes to another VSchema", raw, rendered.VSchema.Raw)
		}
	})
}
