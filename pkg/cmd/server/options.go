// Package server holds the vitess-apiserver command: its options and how they become a running
// server, in the Complete → Validate → Config → Run order of Kubernetes' own servers.
package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apiserver"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/embeddedetcd"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/clientset/versioned"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/generated/openapi"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
)

// etcdPathPrefix is where the server keeps its objects in etcd.
const etcdPathPrefix = "/registry/vitess.planetscale.com"

// Options are the command-line options of vitess-apiserver.
type Options struct {
	RecommendedOptions *genericoptions.RecommendedOptions
	// DataDir holds the embedded etcd's data when no --etcd-servers are given.
	DataDir string
	// Reconcile runs the reconcile loop in this process, when it holds the lease.
	Reconcile bool
	// LeaderElectionNamespace holds the Lease the replicas compete for.
	LeaderElectionNamespace string
	// ReconcileWorkers is how many clusters are reconciled at once.
	ReconcileWorkers int
	// AllowVtctldAddressAnnotation honours vitess.AnnotationVtctldAddress, for a test bed whose
	// Vitess runs outside Kubernetes.
	AllowVtctldAddressAnnotation bool

	Stdout io.Writer
	Stderr io.Writer
}

// NewOptions returns the defaults: delegated authentication and authorisation, audit,
// admission and priority-and-fairness as every aggregated server has them.
func NewOptions(out, errOut io.Writer) *Options {
	o := &Options{
		RecommendedOptions:      genericoptions.NewRecommendedOptions(etcdPathPrefix, apiserver.Codecs.LegacyCodec(v1alpha1.SchemeGroupVersion)),
		DataDir:                 "/var/lib/vitess-apiserver",
		Reconcile:               true,
		LeaderElectionNamespace: "vitess-system",
		ReconcileWorkers:        2,
		Stdout:                  out,
		Stderr:                  errOut,
	}
	// The types have no protobuf marshalling: store JSON.
	o.RecommendedOptions.Etcd.DefaultStorageMediaType = "application/json"
	// Embedded etcd is the default, so --etcd-servers is optional.
	o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList = nil
	return o
}

// NewCommand returns the cobra command that runs the server until ctx is done.
func NewCommand(ctx context.Context, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vitess-apiserver",
		Short: "Serves vitess.planetscale.com as a Kubernetes aggregated API",
		RunE: func(c *cobra.Command, args []string) error {
			if err := o.Complete(); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)
	flags := cmd.Flags()
	o.RecommendedOptions.AddFlags(flags)
	flags.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory of the embedded etcd, used when --etcd-servers is not set.")
	flags.BoolVar(&o.Reconcile, "reconcile", o.Reconcile, "Run the reconcile loop (leader-elected among the replicas).")
	flags.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the Lease that elects the reconciling replica.")
	flags.IntVar(&o.ReconcileWorkers, "reconcile-workers", o.ReconcileWorkers, "Clusters reconciled at once.")
	flags.BoolVar(&o.AllowVtctldAddressAnnotation, "allow-vtctld-address-annotation", false,
		"Let the annotation "+vitess.AnnotationVtctldAddress+" point a VitessCluster at a vtctld outside Kubernetes. For test beds only: "+
			"whoever may edit a VitessCluster could then act on any vtctld the server can reach. Off, the annotation is refused.")
	return cmd
}

// Complete fills in what the flags leave open.
func (o *Options) Complete() error {
	// The serving certificate is generated on the fly only when none is given, e.g. for a quick
	// local run; a real deployment passes one valid for the Service DNS name.
	return o.RecommendedOptions.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", nil, []net.IP{net.ParseIP("127.0.0.1")})
}

// Validate reports every invalid option at once.
func (o *Options) Validate() error {
	recommended := *o.RecommendedOptions
	var errs []error
	if o.usesEmbeddedEtcd() {
		if o.DataDir == "" {
			errs = append(errs, fmt.Errorf("--data-dir is required when --etcd-servers is not set"))
		}
		// The embedded etcd's address is known only once it runs: check the other etcd options
		// against a stand-in for it.
		etcd := *recommended.Etcd
		etcd.StorageConfig.Transport.ServerList = []string{"http://embedded-etcd"}
		recommended.Etcd = &etcd
	}
	return utilerrors.NewAggregate(append(errs, recommended.Validate()...))
}

func (o *Options) usesEmbeddedEtcd() bool {
	return len(o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList) == 0
}

// Config builds the server configuration. With no --etcd-servers it starts the embedded etcd,
// whose Stop the caller must run once the server is done.
func (o *Options) Config() (*apiserver.Config, func(), error) {
	stop := func() {}
	if o.usesEmbeddedEtcd() {
		etcd, err := embeddedetcd.Start(o.DataDir)
		if err != nil {
			return nil, nil, err
		}
		klog.InfoS("Started embedded etcd", "dataDir", o.DataDir, "url", etcd.ClientURL)
		o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList = []string{etcd.ClientURL}
		stop = etcd.Stop
	}

	config := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	config.Serializer = apiserver.NegotiatedSerializer
	config.EffectiveVersion = compatibility.DefaultBuildEffectiveVersion()
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title = "vitess-apiserver"
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title = "vitess-apiserver"

	if err := o.RecommendedOptions.ApplyTo(config); err != nil {
		stop()
		return nil, nil, err
	}
	recorder, err := eventRecorder(config)
	if err != nil {
		stop()
		return nil, nil, err
	}
	vtctldAddresses := topology.VtctldAddresses{AllowAnnotation: o.AllowVtctldAddressAnnotation}
	if o.Reconcile {
		if err := o.addReconciler(config, recorder, vtctldAddresses); err != nil {
			stop()
			return nil, nil, err
		}
	}
	return &apiserver.Config{GenericConfig: config, ExtraConfig: apiserver.ExtraConfig{Events: recorder, VtctldAddresses: vtctldAddresses}}, stop, nil
}

// Run serves until ctx is done.
func (o *Options) Run(ctx context.Context) error {
	config, stop, err := o.Config()
	if err != nil {
		return err
	}
	defer stop()
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}

// eventRecorder writes Events through the core API (--kubeconfig), from the moment the server
// starts until it stops.
func eventRecorder(config *genericapiserver.RecommendedConfig) (events.EventRecorder, error) {
	if config.ClientConfig == nil {
		return nil, fmt.Errorf("a core API connection (--kubeconfig, or in-cluster) is needed to record events")
	}
	client, err := kubernetes.NewForConfig(config.ClientConfig)
	if err != nil {
		return nil, err
	}
	broadcaster := events.NewBroadcaster(&events.EventSinkImpl{Interface: client.EventsV1()})
	err = config.AddPostStartHook("start-event-broadcaster", func(hook genericapiserver.PostStartHookContext) error {
		broadcaster.StartRecordingToSink(hook.Done())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return broadcaster.NewRecorder(apiserver.Scheme, "vitess-apiserver"), nil
}

// addReconciler starts the reconcile loop once the server serves: it reads and writes the
// group's objects through the loopback client, and competes for its Lease through the core API.
func (o *Options) addReconciler(config *genericapiserver.RecommendedConfig, recorder events.EventRecorder, vtctldAddresses topology.VtctldAddresses) error {
	core, err := kubernetes.NewForConfig(config.ClientConfig)
	if err != nil {
		return err
	}
	hostname, err := os.Hostname()
	if err != nil {
		return err
	}
	identity := hostname + "_" + string(uuid.NewUUID())
	return config.AddPostStartHook("start-vitess-reconciler", func(hook genericapiserver.PostStartHookContext) error {
		loopback := rest.CopyConfig(hook.LoopbackClientConfig)
		// The group's types have no protobuf form.
		loopback.ContentType, loopback.AcceptContentTypes = runtime.ContentTypeJSON, runtime.ContentTypeJSON
		loopback.QPS, loopback.Burst = 50, 100
		client, err := versioned.NewForConfig(loopback)
		if err != nil {
			return err
		}
		go reconcile.RunLeaderElected(hook, core, o.LeaderElectionNamespace, identity, func(ctx context.Context) {
			// A Manager per term: the last one's queues and informers ended with its term.
			if err := reconcile.New(client, core, recorder, vtctldAddresses).Run(ctx, o.ReconcileWorkers); err != nil {
				klog.ErrorS(err, "Reconcile loop stopped")
			}
		})
		return nil
	})
}
