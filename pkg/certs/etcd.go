package certs

import (
	"context"
	"crypto/x509"
	"fmt"
	"net"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/klog/v2"
)

// The keys of the etcd Secret. The etcd members mount ca.crt, tls.crt and tls.key.
const (
	KeyEtcdCACert     = "ca.crt"
	KeyEtcdCAKey      = "ca.key" // kept so that a later version can issue more certificates
	KeyEtcdTLSCert    = "tls.crt"
	KeyEtcdTLSKey     = "tls.key"
	KeyEtcdClientCert = "client.crt"
	KeyEtcdClientKey  = "client.key"
)

// etcdValidity is the lifetime of the etcd CA and certificates. Nothing renews them yet, so they
// outlive any installation a renewal could not wait for.
const etcdValidity = 10 * 365 * 24 * time.Hour

// EtcdConfig says which Secret holds the etcd certificates and for which members.
type EtcdConfig struct {
	Namespace  string
	SecretName string
	// Service is the etcd StatefulSet's headless Service, which names its members.
	Service string
	Members int
	// CertDir receives the server's client files.
	CertDir string
}

// EtcdClientFiles are the files the server connects to etcd with.
type EtcdClientFiles struct {
	CAFile, CertFile, KeyFile string
}

// DNSNames are the names the members' certificate is valid for: each member's stable name, any
// member (a member added later), and the Service.
func (c EtcdConfig) DNSNames() []string {
	domain := c.Service + "." + c.Namespace + ".svc"
	var names []string
	for i := range c.Members {
		member := c.Service + "-" + strconv.Itoa(i) + "." + domain
		names = append(names, member, member+".cluster.local")
	}
	return append(names, "*."+domain, "*."+domain+".cluster.local", domain, c.Service, "localhost")
}

// planEtcd makes the etcd Secret's data: a CA, the members' certificate (etcd serves it to
// clients and peers and presents it to its peers, hence both usages) and the server's client
// certificate.
func planEtcd(c EtcdConfig, now time.Time) (map[string][]byte, error) {
	ca, err := newCA("vitess-apiserver-etcd-ca@"+strconv.FormatInt(now.Unix(), 10), now, etcdValidity)
	if err != nil {
		return nil, err
	}
	members, err := newLeaf(ca, leafSpec{
		commonName: c.Service,
		dnsNames:   c.DNSNames(),
		ips:        []net.IP{net.IPv4(127, 0, 0, 1)},
		usages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, now, now.Add(etcdValidity))
	if err != nil {
		return nil, err
	}
	client, err := newLeaf(ca, leafSpec{commonName: "vitess-apiserver", usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, now, now.Add(etcdValidity))
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		KeyEtcdCACert: ca.certPEM, KeyEtcdCAKey: ca.keyPEM,
		KeyEtcdTLSCert: members.certPEM, KeyEtcdTLSKey: members.keyPEM,
		KeyEtcdClientCert: client.certPEM, KeyEtcdClientKey: client.keyPEM,
	}, nil
}

// EnsureEtcd makes sure the etcd Secret exists, creating it when it does not (never changing one
// that does: the members use it), and writes the server's client files from it.
func EnsureEtcd(ctx context.Context, c EtcdConfig, secrets corev1client.SecretsGetter, now time.Time) (EtcdClientFiles, error) {
	client := secrets.Secrets(c.Namespace)
	secret, err := client.Get(ctx, c.SecretName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		var data map[string][]byte
		if data, err = planEtcd(c, now); err != nil {
			return EtcdClientFiles{}, err
		}
		secret, err = client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: c.Namespace, Labels: managedLabels},
			Type:       corev1.SecretTypeOpaque,
			Data:       data,
		}, metav1.CreateOptions{})
		switch {
		case apierrors.IsAlreadyExists(err):
			// Another replica was first: use its certificates.
			secret, err = client.Get(ctx, c.SecretName, metav1.GetOptions{})
		case err == nil:
			klog.InfoS("Created the etcd certificates", "secret", klog.KObj(secret), "ca", subject(data[KeyEtcdCACert]), "members", c.Members)
		}
	}
	if err != nil {
		return EtcdClientFiles{}, fmt.Errorf("etcd certificate Secret %s/%s: %w", c.Namespace, c.SecretName, err)
	}
	if _, err := parseKeyPair(secret.Data[KeyEtcdClientCert], secret.Data[KeyEtcdClientKey]); err != nil {
		return EtcdClientFiles{}, fmt.Errorf("etcd certificate Secret %s/%s: %s/%s: %w", c.Namespace, c.SecretName, KeyEtcdClientCert, KeyEtcdClientKey, err)
	}
	if _, err := parseCertificates(secret.Data[KeyEtcdCACert]); err != nil || len(secret.Data[KeyEtcdCACert]) == 0 {
		return EtcdClientFiles{}, fmt.Errorf("etcd certificate Secret %s/%s: %s holds no CA: %v", c.Namespace, c.SecretName, KeyEtcdCACert, err)
	}
	files := newFileWriter(c.CertDir)
	if _, err := files.write(map[string][]byte{
		KeyEtcdCACert:     secret.Data[KeyEtcdCACert],
		KeyEtcdClientCert: secret.Data[KeyEtcdClientCert],
		KeyEtcdClientKey:  secret.Data[KeyEtcdClientKey],
	}); err != nil {
		return EtcdClientFiles{}, err
	}
	return EtcdClientFiles{CAFile: files.path(KeyEtcdCACert), CertFile: files.path(KeyEtcdClientCert), KeyFile: files.path(KeyEtcdClientKey)}, nil
}
