// Package apiserver assembles the aggregated API server for vitess.planetscale.com: the scheme,
// the generic server configuration and the storage of every resource.
package apiserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/tools/events"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/install"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/etcdlockserver"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitessbackup"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitesscell"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitesscluster"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitesskeyspace"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitessshard"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitesstablet"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/registry/vitessworkflow"
)

var (
	// Scheme knows the internal and versioned types of the group, plus the meta types every
	// API server serves.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes the group's objects.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)

	// Options types (ListOptions, GetOptions, ...) are registered unversioned, as in every
	// Kubernetes API server, so that query parameters decode.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// Config is the generic server configuration plus what this server adds to it.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
	ExtraConfig   ExtraConfig
}

// ExtraConfig is what this server needs beyond a generic API server.
type ExtraConfig struct {
	// Events records what actions do, on the objects they act on.
	Events events.EventRecorder
	// VtctldAddresses is where each cluster's vtctld is reached; it also decides whether
	// VitessClusters may carry vitess.AnnotationVtctldAddress.
	VtctldAddresses topology.VtctldAddresses
}

// CompletedConfig is a Config whose defaults are filled in.
type CompletedConfig struct {
	GenericConfig genericapiserver.CompletedConfig
	ExtraConfig   *ExtraConfig
}

// Complete fills in the defaults the generic server needs.
func (c *Config) Complete() CompletedConfig {
	return CompletedConfig{GenericConfig: c.GenericConfig.Complete(), ExtraConfig: &c.ExtraConfig}
}

// VitessServer is the running aggregated server.
type VitessServer struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the server and installs the vitess.planetscale.com group.
func (c CompletedConfig) New() (*VitessServer, error) {
	generic, err := c.GenericConfig.New("vitess-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}
	storage, err := newStorage(c.GenericConfig.RESTOptionsGetter, c.GenericConfig.AdmissionControl, c.ExtraConfig.Events, c.ExtraConfig.VtctldAddresses)
	if err != nil {
		return nil, err
	}
	group := genericapiserver.NewDefaultAPIGroupInfo(vitess.GroupName, Scheme, metav1.ParameterCodec, Codecs)
	group.VersionedResourcesStorageMap[v1alpha1.SchemeGroupVersion.Version] = storage
	if err := generic.InstallAPIGroup(&group); err != nil {
		return nil, fmt.Errorf("installing %s: %w", vitess.GroupName, err)
	}
	return &VitessServer{GenericAPIServer: generic}, nil
}

// newStorage builds the storage of every resource of v1alpha1, keyed by resource path.
func newStorage(optsGetter generic.RESTOptionsGetter, admit admission.Interface, recorder events.EventRecorder, vtctldAddresses topology.VtctldAddresses) (map[string]rest.Storage, error) {
	storage := map[string]rest.Storage{}
	add := func(resource string, build func(*runtime.Scheme, generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error)) (rest.Storage, error) {
		main, status, err := build(Scheme, optsGetter)
		if err != nil {
			return nil, err
		}
		storage[resource] = main
		storage[resource+"/status"] = status
		return main, nil
	}
	for resource, build := range map[string]func(*runtime.Scheme, generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error){
		"etcdlockservers": etcdlockserver.NewStorage,
		"vitesscells":     vitesscell.NewStorage,
	} {
		if _, err := add(resource, build); err != nil {
			return nil, err
		}
	}
	clusters, err := add("vitessclusters", func(scheme *runtime.Scheme, optsGetter generic.RESTOptionsGetter) (rest.Storage, rest.Storage, error) {
		return vitesscluster.NewStorage(scheme, optsGetter, vtctldAddresses.AllowAnnotation)
	})
	if err != nil {
		return nil, err
	}
	shards, err := add("vitessshards", vitessshard.NewStorage)
	if err != nil {
		return nil, err
	}
	vtctlds := registry.NewClusterVtctlds(clusters.(rest.Getter), vtctldAddresses.Of)
	storage["vitesstablets"] = vitesstablet.NewREST(clusters.(rest.Lister), vitesstablet.VtctldTopologies(vtctlds))
	storage["vitessbackups"] = vitessbackup.NewREST(clusters.(vitessbackup.ClusterStore), storage["vitessshards"].(rest.Getter), vitessbackup.VtctldTopologies(vtctlds), recorder)
	keyspaces, err := add("vitesskeyspaces", vitesskeyspace.NewStorage)
	if err != nil {
		return nil, err
	}
	workflows, err := add("vitessworkflows", vitessworkflow.NewStorage)
	if err != nil {
		return nil, err
	}
	for action, actionStorage := range vitesskeyspace.NewActions(keyspaces.(rest.Getter), workflows.(rest.Creater), registry.WorkflowAdmission{Admission: admit, Scheme: Scheme}, vtctlds, recorder) {
		storage["vitesskeyspaces/"+action] = actionStorage
	}
	shardActions := vitessshard.NewActions(shards.(rest.Getter), storage["vitessshards/status"].(rest.Updater), vtctlds, recorder)
	storage["vitessshards/"+vitess.ActionBackup] = vitessshard.NewBackupREST(shardActions)
	storage["vitessshards/"+vitess.ActionRestore] = vitessshard.NewRestoreREST(shardActions)
	storage["vitesskeyspaces/"+vitess.ActionBackup] = vitesskeyspace.NewBackupREST(keyspaces.(rest.Getter), shards.(rest.Lister), shardActions, recorder)
	for action, actionStorage := range vitessworkflow.NewActions(workflows.(rest.Getter), storage["vitessworkflows/status"].(rest.Updater), vtctlds, recorder) {
		storage["vitessworkflows/"+action] = actionStorage
	}
	return storage, nil
}
