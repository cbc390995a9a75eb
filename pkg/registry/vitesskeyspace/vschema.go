package vitesskeyspace

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"
	vschemapb "vitess.io/vitess/go/vt/proto/vschema"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// VSchemaREST serves vitesskeyspaces/<name>/vschema: GET reads the keyspace's live VSchema from
// the Vitess topology, PUT (or PATCH) applies one through vtctld, which validates it first.
type VSchemaREST struct {
	keyspace *keyspaceVtctld
}

var (
	_ rest.Getter  = &VSchemaREST{}
	_ rest.Updater = &VSchemaREST{}
)

func (r *VSchemaREST) New() runtime.Object { return &vitess.VitessKeyspaceVSchema{} }
func (r *VSchemaREST) Destroy()            {}

func (r *VSchemaREST) Get(ctx context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	keyspace, client, err := r.keyspace.lookup(ctx, name)
	if err != nil {
		return nil, err
	}
	current, err := client.VSchema(ctx, keyspace.Spec.Name)
	if err != nil {
		return nil, vtctld.APIError(err, "reading the VSchema of keyspace "+keyspace.Spec.Name)
	}
	return vschemaObject(keyspace, current)
}

func (r *VSchemaREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, _ rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions,
) (runtime.Object, bool, error) {
	current, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	obj, err := objInfo.UpdatedObject(ctx, current)
	if err != nil {
		return nil, false, err
	}
	request := obj.(*vitess.VitessKeyspaceVSchema)
	if request.Name != name {
		return nil, false, apierrors.NewBadRequest(fmt.Sprintf("the VSchema names keyspace %q but was sent to %q", request.Name, name))
	}
	wanted, err := decodeVSchema(request.VSchema.Raw)
	if err != nil {
		return nil, false, invalidVSchema(name, string(request.VSchema.Raw), "not a Vitess VSchema: "+err.Error())
	}
	if updateValidation != nil {
		if err := updateValidation(ctx, obj, current); err != nil {
			return nil, false, err
		}
	}
	keyspace, client, err := r.keyspace.lookup(ctx, name)
	if err != nil {
		return nil, false, err
	}
	dryRun := len(options.DryRun) > 0
	applied, err := client.ApplyVSchema(ctx, keyspace.Spec.Name, wanted, dryRun)
	if err != nil && !vtctld.IsUnavailable(err) {
		// Vitess builds the VSchema before storing it: what it refuses is invalid input.
		return nil, false, invalidVSchema(name, string(request.VSchema.Raw), "Vitess refused it: "+vtctld.Message(err))
	}
	if err != nil {
		return nil, false, vtctld.APIError(err, "applying the VSchema of keyspace "+keyspace.Spec.Name)
	}
	if !dryRun {
		r.keyspace.events.Eventf(registry.Reference("VitessKeyspace", keyspace), nil, corev1.EventTypeNormal, "VSchemaApplied", "ApplyVSchema",
			"%s applied a VSchema with %d tables", registry.Requester(ctx), len(applied.GetTables()))
	}
	result, err := vschemaObject(keyspace, applied)
	return result, false, err
}

// decodeVSchema reads a VSchema in the JSON form of Vitess' files and tools (either field naming).
func decodeVSchema(raw []byte) (*vschemapb.Keyspace, error) {
	vschema := &vschemapb.Keyspace{}
	return vschema, protojson.Unmarshal(raw, vschema)
}

func invalidVSchema(name, vschema, message string) error {
	return apierrors.NewInvalid(vitess.Kind("VitessKeyspaceVSchema"), name, field.ErrorList{
		field.Invalid(field.NewPath("vschema"), vschema, message),
	})
}

// vschemaObject renders a VSchema in the JSON form Vitess' own files and tools use (snake_case
// field names, as in vschema.json), so what GET returns can be PUT back.
func vschemaObject(keyspace *vitess.VitessKeyspace, vschema *vschemapb.Keyspace) (*vitess.VitessKeyspaceVSchema, error) {
	raw, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(vschema)
	if err != nil {
		return nil, err
	}
	return &vitess.VitessKeyspaceVSchema{
		ObjectMeta: metav1.ObjectMeta{Name: keyspace.Name, Namespace: keyspace.Namespace, UID: keyspace.UID},
		VSchema:    runtime.RawExtension{Raw: raw},
	}, nil
}
