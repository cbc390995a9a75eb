package framework

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectStore is SeaweedFS serving the S3 API, with one bucket and credentials of its own: the
// S3-compatible store a user backs Vitess up to.
type ObjectStore struct {
	// Endpoint is http://<ip>:<port>, the form Vitess' --s3-backup-aws-endpoint takes.
	Endpoint string
	// Bucket exists from the start; AccessKey and SecretKey may read and write it, and nobody
	// else may.
	Bucket, AccessKey, SecretKey string
	// Region is any name: SeaweedFS serves one region, and clients must only agree on it.
	Region string
	// start runs weed as configured, and proc is the running one.
	start func() (*Process, error)
	proc  *Process
}

// StartObjectStore runs weed (Tools.Weed) with its data, configuration and log in dir, listening on
// ip (127.0.0.1 for the test process alone, an address of the node for its Pods), and returns once
// the bucket answers a signed request.
func StartObjectStore(ctx context.Context, weed, dir, ip, bucket string) (*ObjectStore, error) {
	store := &ObjectStore{Bucket: bucket, AccessKey: "vitess-" + rand.Text()[:8], SecretKey: rand.Text(), Region: "us-east-1"}
	identities, err := json.Marshal(map[string]any{"identities": []map[string]any{{
		"name":        "vitess",
		"credentials": []map[string]string{{"accessKey": store.AccessKey, "secretKey": store.SecretKey}},
		"actions":     []string{"Admin", "Read", "List", "Tagging", "Write"},
	}}})
	if err != nil {
		return nil, err
	}
	config := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(config, identities, 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	// weed mini runs a master, a volume server, a filer, the S3 gateway and an admin server in one
	// process, each on a default port (and gRPC on port+10000): every one is given a free port, so
	// that stores of parallel tests never meet, and what is not needed is off.
	args := []string{"mini", "-dir=" + data, "-ip=" + ip, "-ip.bind=" + ip, "-s3.config=" + config, "-bucket=" + bucket,
		"-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-admin.port.legacy=0",
		"-s3.port.iceberg=0", "-s3.port.lance=0", "-admin.dataDir=" + filepath.Join(dir, "admin"),
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"), "-s3.localSocket=" + filepath.Join(dir, "s3.sock")}
	var s3Port int
	for _, flag := range []string{"master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port",
		"filer.port.grpc", "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc"} {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		if flag == "s3.port" {
			s3Port = port
		}
		args = append(args, fmt.Sprintf("-%s=%d", flag, port))
	}
	store.Endpoint = "http://" + net.JoinHostPort(ip, strconv.Itoa(s3Port))
	store.start = func() (*Process, error) {
		return StartProcess("seaweedfs", filepath.Join(dir, "weed.log"), ProcessOptions{Dir: dir}, weed, args...)
	}
	if err := store.Start(ctx); err != nil {
		return nil, err
	}
	return store, nil
}

// Start runs the store again after Stop, on the same ports and objects, and returns once the
// bucket answers a signed request.
func (s *ObjectStore) Start(ctx context.Context) error {
	proc, err := s.start()
	if err != nil {
		return err
	}
	s.proc = proc
	client := s.Client()
	err = Poll(ctx, "the object store's bucket "+s.Bucket, proc.ExitError, func(ctx context.Context) (bool, error) {
		_, err := client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.Bucket)})
		return err == nil, nil
	})
	if err != nil {
		proc.Stop()
	}
	return err
}

// Client is an S3 client of the store with its credentials, path-style as Vitess is configured.
func (s *ObjectStore) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		UsePathStyle: true,
	})
}

// Stop stops the store; its objects stay in its directory.
func (s *ObjectStore) Stop() { s.proc.Stop() }
