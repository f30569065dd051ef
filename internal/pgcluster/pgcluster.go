// Package pgcluster gives a test a throwaway PostgreSQL cluster of its own
// that it may stop and start, made with Debian's cluster tools
// (postgresql-common): pg_createcluster runs initdb as the postgres user,
// which initdb requires when the test runs as root. Tests use it only when
// TRESOR_TEST_PG_CLUSTER=1; .ci/run sets it.
package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Env is the variable that enables tests needing their own cluster.
const Env = "TRESOR_TEST_PG_CLUSTER"

// Cluster is one throwaway cluster.
type Cluster struct {
	t             testing.TB
	version, name string
	port          string
}

// New skips the test unless TRESOR_TEST_PG_CLUSTER=1; otherwise it
// creates and starts a cluster named name on port 5499
// (TRESOR_TEST_PG_CLUSTER_PORT overrides it), with trust authentication
// on loopback, and drops it after the test. A cluster of that name left
// by a killed run is dropped first.
func New(t testing.TB, name string) *Cluster {
	t.Helper()
	if os.Getenv(Env) != "1" {
		t.Skip("set " + Env + "=1 to stop and start a throwaway PostgreSQL cluster")
	}
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		t.Fatal(Env + " is set, but no PostgreSQL server is installed (/usr/lib/postgresql/*/bin/initdb)")
	}
	sort.Strings(initdbs)
	c := &Cluster{t: t, version: filepath.Base(filepath.Dir(filepath.Dir(initdbs[len(initdbs)-1]))), name: name, port: "5499"}
	if p := os.Getenv(Env + "_PORT"); p != "" {
		c.port = p
	}
	if err := c.drop(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pg_createcluster", c.version, c.name, "-p", c.port, "--start", "--",
		"--auth-host=trust", "--auth-local=trust").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_createcluster (run as root, or as a user allowed to): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := c.drop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func (c *Cluster) drop() error {
	if _, err := os.Stat(filepath.Join("/etc/postgresql", c.version, c.name)); err != nil {
		return nil // nothing to drop
	}
	if out, err := exec.Command("pg_dropcluster", "--stop", c.version, c.name).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_dropcluster: %v\n%s", err, out)
	}
	return nil
}

// URL is the address of the cluster's postgres database.
func (c *Cluster) URL() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// Stop stops the server at once (fast shutdown: sessions are ended).
func (c *Cluster) Stop() { c.ctl("stop", "-m", "fast") }

// Start starts it again and returns when it accepts connections.
func (c *Cluster) Start() { c.ctl("start") }

func (c *Cluster) ctl(args ...string) {
	c.t.Helper()
	cmd := exec.Command("pg_ctlcluster", append([]string{"--skip-systemctl-redirect", c.version, c.name}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("pg_ctlcluster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
