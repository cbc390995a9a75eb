package certs

import (
	"bytes"
	"context"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func etcdConfig(t *testing.T) EtcdConfig {
	return EtcdConfig{Namespace: testNamespace, SecretName: "vitess-apiserver-etcd-tls", Service: "vitess-apiserver-etcd", Members: 3, CertDir: t.TempDir()}
}

func getEtcdSecret(t *testing.T, client *fake.Clientset) *corev1.Secret {
	t.Helper()
	obj, err := client.Tracker().Get(secretsResource, testNamespace, "vitess-apiserver-etcd-tls")
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*corev1.Secret)
}

func TestEnsureEtcdCreatesSecret(t *testing.T) {
	client := newClientset()
	c := etcdConfig(t)
	now := time.Now()
	files, err := EnsureEtcd(context.Background(), c, client.CoreV1(), now)
	if err != nil {
		t.Fatal(err)
	}
	data := getEtcdSecret(t, client).Data
	ca, err := parseKeyPair(data[KeyEtcdCACert], data[KeyEtcdCAKey])
	if err != nil {
		t.Fatalf("ca.crt/ca.key: %v", err)
	}
	if !ca.cert.IsCA || ca.cert.NotAfter.Sub(now) < 10*365*24*time.Hour-time.Minute {
		t.Errorf("etcd CA: IsCA %v, valid until %s", ca.cert.IsCA, ca.cert.NotAfter)
	}
	members, err := parseKeyPair(data[KeyEtcdTLSCert], data[KeyEtcdTLSKey])
	if err != nil {
		t.Fatalf("tls.crt/tls.key: %v", err)
	}
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
		if err := verifies(members.cert, ca.cert, []string{
			"vitess-apiserver-etcd-2.vitess-apiserver-etcd.vitess-system.svc",
			"vitess-apiserver-etcd-0.vitess-apiserver-etcd.vitess-system.svc.cluster.local",
			"vitess-apiserver-etcd-7.vitess-apiserver-etcd.vitess-system.svc", // the wildcard: a member added later
			"vitess-apiserver-etcd.vitess-system.svc",
			"vitess-apiserver-etcd",
			"localhost",
		}, usage, now); err != nil {
			t.Errorf("members' certificate for usage %v: %v", usage, err)
		}
	}
	if !slicesContainIP(members.cert.IPAddresses, net.ParseIP("127.0.0.1")) {
		t.Errorf("members' certificate lacks IP 127.0.0.1: %v", members.cert.IPAddresses)
	}
	client1, err := parseKeyPair(data[KeyEtcdClientCert], data[KeyEtcdClientKey])
	if err != nil {
		t.Fatalf("client.crt/client.key: %v", err)
	}
	if err := verifies(client1.cert, ca.cert, nil, x509.ExtKeyUsageClientAuth, now); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if err := verifies(client1.cert, ca.cert, nil, x509.ExtKeyUsageServerAuth, now); err == nil {
		t.Errorf("client certificate is good for serverAuth too")
	}
	if client1.cert.Subject.CommonName != "vitess-apiserver" {
		t.Errorf("client CN %q", client1.cert.Subject.CommonName)
	}
	for file, key := range map[string]string{files.CAFile: KeyEtcdCACert, files.CertFile: KeyEtcdClientCert, files.KeyFile: KeyEtcdClientKey} {
		if got, err := os.ReadFile(file); err != nil || !bytes.Equal(got, data[key]) {
			t.Errorf("%s does not hold the Secret's %s (%v)", file, key, err)
		}
	}
}

func slicesContainIP(ips []net.IP, ip net.IP) bool {
	for _, have := range ips {
		if have.Equal(ip) {
			return true
		}
	}
	return false
}

func TestEnsureEtcdNeverOverwrites(t *testing.T) {
	c := etcdConfig(t)
	existing, err := planEtcd(c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := newClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: testNamespace, ResourceVersion: "1"},
		Data:       existing,
	})
	files, err := EnsureEtcd(context.Background(), c, client.CoreV1(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range client.Actions() {
		if verb := action.GetVerb(); verb != "get" {
			t.Errorf("%s on an existing etcd Secret", verb)
		}
	}
	if got, _ := os.ReadFile(files.CertFile); !bytes.Equal(got, existing[KeyEtcdClientCert]) {
		t.Errorf("the client file is not the existing Secret's")
	}
}

// Another replica creates the Secret between our read and our create: its certificates are used.
func TestEnsureEtcdLosesCreateRace(t *testing.T) {
	c := etcdConfig(t)
	theirs, err := planEtcd(c, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	client := newClientset()
	client.PrependReactor("create", "secrets", func(action clienttesting.Action) (bool, runtime.Object, error) {
		if err := client.Tracker().Create(secretsResource, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: testNamespace},
			Data:       theirs,
		}, testNamespace); err != nil {
			return true, nil, err
		}
		return true, nil, apierrors.NewAlreadyExists(secretsResource.GroupResource(), c.SecretName)
	})
	files, err := EnsureEtcd(context.Background(), c, client.CoreV1(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(files.KeyFile); !bytes.Equal(got, theirs[KeyEtcdClientKey]) {
		t.Errorf("the client key file is not the other replica's")
	}
}

func TestEnsureEtcdRefusesIncompleteSecret(t *testing.T) {
	c := etcdConfig(t)
	client := newClientset(&corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: c.SecretName, Namespace: testNamespace},
		Data:       map[string][]byte{"tls.crt": []byte("x")},
	})
	if _, err := EnsureEtcd(context.Background(), c, client.CoreV1(), time.Now()); err == nil {
		t.Fatal("no error for a Secret without the client certificate")
	}
}
