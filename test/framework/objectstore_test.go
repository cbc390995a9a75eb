package framework_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// TestObjectStore proves the S3 store backups are tested against is a real one: its bucket takes
// and gives back an object under the store's credentials, lists it by prefix as Vitess lists
// backups, refuses anyone without those credentials, and keeps its objects when it is stopped
// and started again.
func TestObjectStore(t *testing.T) {
	integration(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tools, err := framework.EnsureRepoTools()
	if err != nil {
		t.Fatal(err)
	}
	store, err := framework.StartObjectStore(ctx, tools.Weed, t.TempDir(), "127.0.0.1", "backups")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Stop)

	client := store.Client()
	const key, body = "example/commerce/-/2026-12-07.120000.zone1-0000000100/MANIFEST", `{"BackupMethod":"builtin"}`
	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(store.Bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatalf("put: %v", err)
	}
	got, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(store.Bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	read, err := io.ReadAll(got.Body)
	_ = got.Body.Close()
	if err != nil || string(read) != body {
		t.Fatalf("get = %q, %v; want %q", read, err, body)
	}
	listed, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(store.Bucket), Prefix: aws.String("example/commerce/-/"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(listed.CommonPrefixes) != 1 || aws.ToString(listed.CommonPrefixes[0].Prefix) != "example/commerce/-/2026-12-07.120000.zone1-0000000100/" {
		t.Errorf("backups listed under example/commerce/-/ = %v, want the one written", listed.CommonPrefixes)
	}

	// Neither an unsigned request nor one signed with another secret reaches the bucket.
	resp, err := http.Get(store.Endpoint + "/" + store.Bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET: %s, want 403 Forbidden", resp.Status)
	}
	stranger := *store
	stranger.SecretKey = "not-" + store.SecretKey
	_, err = stranger.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(store.Bucket), Key: aws.String(key)})
	var refused *smithyhttp.ResponseError
	if !errors.As(err, &refused) || refused.HTTPStatusCode() != http.StatusForbidden {
		t.Errorf("GET signed with a wrong secret: %v, want 403 Forbidden", err)
	}

	// Stopped, the store answers nothing; started again, it has the object.
	store.Stop()
	if _, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(store.Bucket), Key: aws.String(key)}); err == nil {
		t.Errorf("GET from the stopped store succeeded")
	}
	if err := store.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(store.Bucket), Key: aws.String(key)}); err != nil {
		t.Errorf("GET after the store started again: %v", err)
	}
}
