package vitess

// The images a cluster runs where its spec names none: the operator's defaults.
const (
	DefaultVitessImage         = "vitess/lite:v24.0.0"
	DefaultMysqldExporterImage = "prom/mysqld-exporter:v0.14.0"
	DefaultEtcdImage           = "quay.io/coreos/etcd:v3.5.17"
)
