// Package server holds the vitess-apiserver command: its options and how they become a running
// server, in the Complete → Validate → Config → Run order of Kubernetes' own servers.
package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	serverstorage "k8s.io/apiserver/pkg/server/storage"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apiserver"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apiserver/frontproxy"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/certs"
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
	// ServerRun are kube-apiserver's own serving settings: in-flight limits, timeouts, and the
	// graceful shutdown a rolling update of the replicas relies on.
	ServerRun *genericoptions.ServerRunOptions
	// DataDir holds the embedded etcd's data when no --etcd-servers are given.
	DataDir string
	// Reconcile runs the reconcile loop in this process, when it holds the lease.
	Reconcile bool
	// LeaderElectionNamespace holds the Lease the replicas compete for.
	LeaderElectionNamespace string
	// ReconcileWorkers is how many clusters are reconciled at once.
	ReconcileWorkers int
	// ReconcileQPS and ReconcileBurst limit the reconcile loop's requests, to kube-apiserver and to
	// this server each: client-go's defaults (5 and 10) held 100 example clusters to a create rate
	// a tenth of what kube-apiserver sustains.
	ReconcileQPS   float32
	ReconcileBurst int
	// AllowVtctldAddressAnnotation honours vitess.AnnotationVtctldAddress, for a test bed whose
	// Vitess runs outside Kubernetes.
	AllowVtctldAddressAnnotation bool

	// Namespace holds the Secrets the server keeps its certificates in.
	Namespace string
	// ServingCertSecret, when set, names the Secret the replicas keep their serving CA and
	// certificate in, renewing them and the APIService's caBundle themselves.
	ServingCertSecret string
	// ServingCertService is the Service the certificate is for.
	ServingCertService string
	// ServingCertValidity is the lifetime of the serving CA and certificate.
	ServingCertValidity time.Duration
	// APIService names the APIService whose caBundle follows the Secret's; "" leaves it alone.
	APIService string
	// EtcdTLSSecret, when set, names the Secret of the etcd certificates the server makes once.
	EtcdTLSSecret string
	// EtcdService is the etcd StatefulSet's headless Service.
	EtcdService string
	// EtcdMembers is how many members the etcd certificate names.
	EtcdMembers int

	Stdout io.Writer
	Stderr io.Writer
}

// NewOptions returns the defaults: delegated authentication and authorisation, audit,
// admission and priority-and-fairness as every aggregated server has them.
func NewOptions(out, errOut io.Writer) *Options {
	o := &Options{
		// The storage codec follows --storage-media-type, and is made in Config.
		RecommendedOptions:      genericoptions.NewRecommendedOptions(etcdPathPrefix, nil),
		ServerRun:               genericoptions.NewServerRunOptions(),
		DataDir:                 "/var/lib/vitess-apiserver",
		Reconcile:               true,
		LeaderElectionNamespace: "vitess-system",
		ReconcileWorkers:        2,
		ReconcileQPS:            100,
		ReconcileBurst:          200,
		Namespace:               "vitess-system",
		ServingCertService:      "vitess-apiserver",
		ServingCertValidity:     365 * 24 * time.Hour,
		APIService:              v1alpha1.SchemeGroupVersion.Version + "." + v1alpha1.SchemeGroupVersion.Group,
		EtcdService:             "vitess-apiserver-etcd",
		EtcdMembers:             3,
		Stdout:                  out,
		Stderr:                  errOut,
	}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		o.Namespace = ns
	}
	// The Pod's root file system is read-only; /tmp is an emptyDir.
	o.RecommendedOptions.SecureServing.ServerCert.CertDirectory = filepath.Join(os.TempDir(), "vitess-apiserver", "certificates")
	// Protobuf, as kube-apiserver stores its own kinds: smaller and quicker to decode than JSON.
	o.RecommendedOptions.Etcd.DefaultStorageMediaType = runtime.ContentTypeProtobuf
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
	o.ServerRun.AddUniversalFlags(flags)
	flags.StringVar(&o.DataDir, "data-dir", o.DataDir, "Directory of the embedded etcd, used when --etcd-servers is not set.")
	flags.BoolVar(&o.Reconcile, "reconcile", o.Reconcile, "Run the reconcile loop (leader-elected among the replicas).")
	flags.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", o.LeaderElectionNamespace, "Namespace of the Lease that elects the reconciling replica.")
	flags.IntVar(&o.ReconcileWorkers, "reconcile-workers", o.ReconcileWorkers, "Clusters reconciled at once.")
	flags.Float32Var(&o.ReconcileQPS, "reconcile-api-qps", o.ReconcileQPS, "Requests per second the reconcile loop sends to kube-apiserver, and to this server, each (kube-apiserver's priority and fairness applies on top).")
	flags.IntVar(&o.ReconcileBurst, "reconcile-api-burst", o.ReconcileBurst, "Requests the reconcile loop may send at once above --reconcile-api-qps.")
	flags.BoolVar(&o.AllowVtctldAddressAnnotation, "allow-vtctld-address-annotation", false,
		"Let the annotation "+vitess.AnnotationVtctldAddress+" point a VitessCluster at a vtctld outside Kubernetes. For test beds only: "+
			"whoever may edit a VitessCluster could then act on any vtctld the server can reach. Off, the annotation is refused.")
	flags.StringVar(&o.Namespace, "namespace", o.Namespace, "Namespace of the certificate Secrets (default: $POD_NAMESPACE, else vitess-system).")
	flags.StringVar(&o.ServingCertSecret, "serving-cert-secret", o.ServingCertSecret,
		"Secret (in --namespace) in which the replicas keep and renew their serving CA and certificate, written to --cert-dir for serving. "+
			"Empty: --tls-cert-file, or a self-signed certificate.")
	flags.StringVar(&o.ServingCertService, "serving-cert-service", o.ServingCertService, "Service the serving certificate is valid for (<svc>, <svc>.<ns>, <svc>.<ns>.svc, <svc>.<ns>.svc.cluster.local).")
	flags.DurationVar(&o.ServingCertValidity, "serving-cert-validity", o.ServingCertValidity, "Lifetime of the serving CA and certificate; renewal starts at 2/3 of it.")
	flags.StringVar(&o.APIService, "apiservice", o.APIService, "APIService whose spec.caBundle is kept equal to the serving Secret's CA bundle; empty: none.")
	flags.StringVar(&o.EtcdTLSSecret, "etcd-tls-secret", o.EtcdTLSSecret,
		"Secret (in --namespace) of the etcd CA, members' and client certificates, created when missing; the server connects to etcd with them.")
	flags.StringVar(&o.EtcdService, "etcd-service", o.EtcdService, "Headless Service of the etcd StatefulSet, whose members the etcd certificate names.")
	flags.IntVar(&o.EtcdMembers, "etcd-members", o.EtcdMembers, "Number of etcd members the etcd certificate names (<svc>-0 to <svc>-<n-1>).")
	return cmd
}

// Complete fills in what the flags leave open.
func (o *Options) Complete() error {
	if o.ServingCertSecret != "" {
		// Config writes the certificate from the Secret; a self-signed one would hide a failure.
		return nil
	}
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
	if o.ReconcileWorkers < 1 {
		errs = append(errs, fmt.Errorf("--reconcile-workers %d: want at least 1", o.ReconcileWorkers))
	}
	// client-go reads a QPS of 0 as its default of 5, and a negative one as no limit at all.
	if o.ReconcileQPS <= 0 || o.ReconcileBurst < 1 {
		errs = append(errs, fmt.Errorf("--reconcile-api-qps %v, --reconcile-api-burst %d: want both positive", o.ReconcileQPS, o.ReconcileBurst))
	}
	errs = append(errs, o.validateCerts()...)
	errs = append(errs, o.ServerRun.Validate()...)
	return utilerrors.NewAggregate(append(errs, recommended.Validate()...))
}

// minServingCertValidity leaves a rotation, which starts at 2/3 of the lifetime, room for the
// APIService to settle (certs.DefaultSettle) and every replica to resync before the old
// certificate expires.
const minServingCertValidity = time.Minute

func (o *Options) validateCerts() []error {
	var errs []error
	dnsLabel := func(flag, value string) {
		for _, msg := range validation.IsDNS1123Label(value) {
			errs = append(errs, fmt.Errorf("--%s %q: %s", flag, value, msg))
		}
	}
	dnsSubdomain := func(flag, value string) {
		for _, msg := range validation.IsDNS1123Subdomain(value) {
			errs = append(errs, fmt.Errorf("--%s %q: %s", flag, value, msg))
		}
	}
	if o.ServingCertSecret != "" || o.EtcdTLSSecret != "" {
		dnsLabel("namespace", o.Namespace)
		if o.RecommendedOptions.SecureServing.ServerCert.CertDirectory == "" {
			errs = append(errs, fmt.Errorf("--cert-dir is required with --serving-cert-secret or --etcd-tls-secret: the certificates are written there"))
		}
		if o.RecommendedOptions.CoreAPI == nil {
			errs = append(errs, fmt.Errorf("--serving-cert-secret and --etcd-tls-secret need the core API (--kubeconfig, or in-cluster)"))
		}
	}
	if o.ServingCertSecret != "" {
		dnsSubdomain("serving-cert-secret", o.ServingCertSecret)
		dnsLabel("serving-cert-service", o.ServingCertService)
		if o.ServingCertValidity < minServingCertValidity {
			errs = append(errs, fmt.Errorf("--serving-cert-validity %s: must be at least %s", o.ServingCertValidity, minServingCertValidity))
		}
		if o.APIService != "" {
			dnsSubdomain("apiservice", o.APIService)
		}
		if cert := o.RecommendedOptions.SecureServing.ServerCert.CertKey; cert.CertFile != "" || cert.KeyFile != "" {
			errs = append(errs, fmt.Errorf("--serving-cert-secret cannot be combined with --tls-cert-file or --tls-private-key-file: the certificate comes from the Secret"))
		}
	}
	if o.EtcdTLSSecret != "" {
		dnsSubdomain("etcd-tls-secret", o.EtcdTLSSecret)
		dnsLabel("etcd-service", o.EtcdService)
		if o.EtcdMembers < 1 {
			errs = append(errs, fmt.Errorf("--etcd-members %d: must be at least 1", o.EtcdMembers))
		}
		if o.usesEmbeddedEtcd() {
			errs = append(errs, fmt.Errorf("--etcd-tls-secret needs --etcd-servers: the embedded etcd does not use TLS"))
		}
		if t := o.RecommendedOptions.Etcd.StorageConfig.Transport; t.TrustedCAFile != "" || t.CertFile != "" || t.KeyFile != "" {
			errs = append(errs, fmt.Errorf("--etcd-tls-secret cannot be combined with --etcd-cafile, --etcd-certfile or --etcd-keyfile: the etcd client files come from the Secret"))
		}
	}
	return errs
}

// storageCodec writes the v1alpha1 form of objects to etcd in mediaType, and reads every media
// type the group serves, so that what an earlier version stored (JSON) is still read after the
// media type changes.
func storageCodec(mediaType string) (runtime.Codec, error) {
	codec, _, err := serverstorage.NewStorageCodec(serverstorage.StorageCodecConfig{
		StorageMediaType:  mediaType,
		StorageSerializer: apiserver.Codecs,
		StorageVersion:    v1alpha1.SchemeGroupVersion,
		MemoryVersion:     vitess.SchemeGroupVersion,
	})
	return codec, err
}

func (o *Options) usesEmbeddedEtcd() bool {
	return len(o.RecommendedOptions.Etcd.StorageConfig.Transport.ServerList) == 0
}

// Config builds the server configuration. With no --etcd-servers it starts the embedded etcd,
// whose Stop the caller must run once the server is done.
func (o *Options) Config(ctx context.Context) (*apiserver.Config, func(), error) {
	// The certificates must be in their files before anything connects to etcd and before the
	// serving options read them.
	serving, err := o.ensureCertificates(ctx)
	if err != nil {
		return nil, nil, err
	}
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

	codec, err := storageCodec(o.RecommendedOptions.Etcd.DefaultStorageMediaType)
	if err != nil {
		stop()
		return nil, nil, err
	}
	o.RecommendedOptions.Etcd.StorageConfig.Codec = codec

	config := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	namer := openapinamer.NewDefinitionNamer(apiserver.Scheme)
	config.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIConfig.Info.Title = "vitess-apiserver"
	config.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(openapi.GetOpenAPIDefinitions, namer)
	config.OpenAPIV3Config.Info.Title = "vitess-apiserver"

	if err := o.ServerRun.ApplyTo(&config.Config); err != nil {
		stop()
		return nil, nil, err
	}
	if err := o.RecommendedOptions.ApplyTo(config); err != nil {
		stop()
		return nil, nil, err
	}
	// A request the aggregator proxied was authorized by kube-apiserver already: skip asking it
	// the same question again with a SubjectAccessReview, and verify the aggregator's certificate
	// once, not on every request.
	frontproxy.Install(&config.Config)
	if serving != nil {
		// Every replica renews, not only the leader: each serves its own copy of the certificate.
		err := config.AddPostStartHook("vitess-serving-cert-rotation", func(hook genericapiserver.PostStartHookContext) error {
			go func() {
				if err := serving.Run(hook); err != nil {
					klog.ErrorS(err, "Serving certificate rotation stopped")
				}
			}()
			return nil
		})
		if err != nil {
			stop()
			return nil, nil, err
		}
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
	config, stop, err := o.Config(ctx)
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

// startupTimeout bounds the certificate round trips to the core API at start: a server that
// cannot reach it fails, and is restarted, rather than hanging unready.
const startupTimeout = time.Minute

// ensureCertificates makes and writes the etcd client certificate (--etcd-tls-secret) and the
// serving certificate (--serving-cert-secret) and points the options at their files. It returns
// the keeper of the serving certificate, nil without --serving-cert-secret.
func (o *Options) ensureCertificates(ctx context.Context) (*certs.Serving, error) {
	if o.ServingCertSecret == "" && o.EtcdTLSSecret == "" {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	// config.ClientConfig only exists after RecommendedOptions.ApplyTo, which needs the files:
	// build the same client CoreAPIOptions.ApplyTo builds.
	restConfig, err := o.coreAPIConfig()
	if err != nil {
		return nil, err
	}
	client, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, err
	}
	certDir := o.RecommendedOptions.SecureServing.ServerCert.CertDirectory
	if o.EtcdTLSSecret != "" {
		files, err := certs.EnsureEtcd(ctx, certs.EtcdConfig{
			Namespace:  o.Namespace,
			SecretName: o.EtcdTLSSecret,
			Service:    o.EtcdService,
			Members:    o.EtcdMembers,
			CertDir:    filepath.Join(certDir, "etcd"),
		}, client.CoreV1(), time.Now())
		if err != nil {
			return nil, err
		}
		transport := &o.RecommendedOptions.Etcd.StorageConfig.Transport
		transport.TrustedCAFile, transport.CertFile, transport.KeyFile = files.CAFile, files.CertFile, files.KeyFile
	}
	if o.ServingCertSecret == "" {
		return nil, nil
	}
	var apiService certs.CABundleTarget
	if o.APIService != "" {
		dynamicClient, err := dynamic.NewForConfig(restConfig)
		if err != nil {
			return nil, err
		}
		apiService = certs.APIService{Client: dynamicClient, Name: o.APIService}
	}
	serving := certs.NewServing(certs.ServingConfig{
		Namespace:        o.Namespace,
		SecretName:       o.ServingCertSecret,
		Service:          o.ServingCertService,
		Validity:         o.ServingCertValidity,
		ManageAPIService: o.APIService != "",
		Settle:           certs.DefaultSettle,
		CertDir:          certDir,
	}, client.CoreV1(), apiService, clock.RealClock{})
	if err := serving.Sync(ctx); err != nil {
		return nil, err
	}
	// k8s.io/apiserver serves these files and reloads them when Sync replaces them.
	certKey := &o.RecommendedOptions.SecureServing.ServerCert.CertKey
	certKey.CertFile, certKey.KeyFile = serving.CertFile(), serving.KeyFile()
	return serving, nil
}

// coreAPIConfig is the connection to the core API: --kubeconfig, else in-cluster.
func (o *Options) coreAPIConfig() (*rest.Config, error) {
	if path := o.RecommendedOptions.CoreAPI.CoreAPIKubeconfigPath; path != "" {
		loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&clientcmd.ClientConfigLoadingRules{ExplicitPath: path}, &clientcmd.ConfigOverrides{})
		config, err := loader.ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("failed to load kubeconfig at %q: %w", path, err)
		}
		return config, nil
	}
	return rest.InClusterConfig()
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
	coreConfig := rest.CopyConfig(config.ClientConfig)
	coreConfig.QPS, coreConfig.Burst = o.ReconcileQPS, o.ReconcileBurst
	core, err := kubernetes.NewForConfig(coreConfig)
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
		loopback.QPS, loopback.Burst = o.ReconcileQPS, o.ReconcileBurst
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
