// Package versitytest runs versitygw, a real S3 gateway with Object Lock,
// for tests that need an S3 server: the backend's own tests and the
// command tests that run serve against it. Tests that need it skip when
// the binary is missing, except in CI (CI=true), where they fail.
package versitytest

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Server is a running versitygw with one bucket that has Object Lock
// (and so versioning) enabled.
type Server struct {
	Endpoint  string // host:port, plain HTTP
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
}

// Client returns a minio client for looking at what the server stores.
func (s Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: s.Region, BucketLookup: minio.BucketLookupPath})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Binary finds the versitygw binary (TRESOR_TEST_VERSITYGW, else PATH;
// `go install github.com/versity/versitygw/cmd/versitygw@v1.8.0`).
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TRESOR_TEST_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("versitygw not found; .ci/run installs it")
	}
	t.Skip("versitygw not installed: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
	return ""
}

// Start runs versitygw on a free loopback port until the test ends and
// creates the bucket "evidence" with Object Lock enabled.
func Start(t testing.TB) Server {
	t.Helper()
	bin := Binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	root, versions := filepath.Join(t.TempDir(), "root"), filepath.Join(t.TempDir(), "versions")
	for _, d := range []string{root, versions} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	s := Server{Endpoint: addr, Bucket: "evidence", Region: "us-east-1", AccessKey: "tresor-test", SecretKey: "tresor-test-secret"}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--access", s.AccessKey, "--secret", s.SecretKey, "--port", addr,
		"posix", "--versioning-dir", versions, root)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed by the cancel
	})
	c := s.Client(t)
	// Polling for readiness: versitygw says nothing when it listens, and
	// the port is free until it does.
	deadline := time.Now().Add(20 * time.Second)
	for {
		err = c.MakeBucket(context.Background(), s.Bucket, minio.MakeBucketOptions{Region: s.Region, ObjectLocking: true})
		if err == nil {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not come up: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
