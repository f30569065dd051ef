package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
)

// pgCluster is a throwaway PostgreSQL cluster of this test alone, made
// with Debian's cluster tools (initdb refuses to run as root; they run it
// as the postgres user), so that the test can stop and start the server.
type pgCluster struct {
	t             *testing.T
	version, name string
	port          string
}

func (c pgCluster) ctl(args ...string) {
	c.t.Helper()
	cmd := exec.Command("pg_ctlcluster", append([]string{"--skip-systemctl-redirect", c.version, c.name}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("pg_ctlcluster %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c pgCluster) url() string {
	return "postgres://postgres@127.0.0.1:" + c.port + "/postgres?sslmode=disable"
}

// newPGCluster creates and starts the cluster and drops it after the
// test. TRESOR_TEST_PG_CLUSTER_PORT overrides the port (5499).
func newPGCluster(t *testing.T) pgCluster {
	t.Helper()
	versions, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(versions) == 0 {
		t.Fatal("TRESOR_TEST_PG_CLUSTER is set, but no PostgreSQL server is installed (/usr/lib/postgresql/*/bin/initdb)")
	}
	sort.Strings(versions)
	c := pgCluster{t: t, version: filepath.Base(filepath.Dir(filepath.Dir(versions[len(versions)-1]))), name: "tresoroutage", port: "5499"}
	if p := os.Getenv("TRESOR_TEST_PG_CLUSTER_PORT"); p != "" {
		c.port = p
	}
	drop := func() error {
		if _, err := os.Stat(filepath.Join("/etc/postgresql", c.version, c.name)); err != nil {
			return nil // nothing to drop
		}
		if out, err := exec.Command("pg_dropcluster", "--stop", c.version, c.name).CombinedOutput(); err != nil {
			return fmt.Errorf("pg_dropcluster: %v\n%s", err, out)
		}
		return nil
	}
	if err := drop(); err != nil { // left by a run that was killed
		t.Fatal(err)
	}
	out, err := exec.Command("pg_createcluster", c.version, c.name, "-p", c.port, "--start", "--",
		"--auth-host=trust", "--auth-local=trust").CombinedOutput()
	if err != nil {
		t.Fatalf("pg_createcluster (run as root, or as a user allowed to): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// outageCounts are the answers one kind of call got in one phase.
type outageCounts struct{ ok, unavailable int }

func (c *outageCounts) String() string {
	return fmt.Sprintf("%d ok, %d unavailable", c.ok, c.unavailable)
}

// outageCall is one request of the client loop and what came back.
type outageCall struct {
	kind       string
	api        bool
	code       int
	retryAfter string
	ctype      string
	body       string
	acked      string // the incident a 2xx or 303 acknowledged
	err        error
	during     bool // sent while the server was stopped
}

// TestPostgresOutage stops a real PostgreSQL for 10 s under a running
// server while clients keep calling: API reads and writes with a token,
// pages and form posts with a session cookie, and uploads. No answer is
// a 401 or a 500: while the database is away every one is 503 with
// Retry-After (JSON under /api, the HTML page elsewhere); once it is
// back every kind of call succeeds again; every write that was
// acknowledged (201, or 303 to the new incident) is in the database.
// It needs its own cluster: set TRESOR_TEST_PG_CLUSTER=1 (as root on a
// machine with Debian's postgresql-common).
func TestPostgresOutage(t *testing.T) {
	if os.Getenv("TRESOR_TEST_PG_CLUSTER") != "1" {
		t.Skip("set TRESOR_TEST_PG_CLUSTER=1 to stop and start a throwaway PostgreSQL cluster")
	}
	cluster := newPGCluster(t)
	store := sqltest.OpenURL(t, cluster.url())
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	pol.UploadMaxBytes = testUploadMax
	e := &env{t: t, ctx: context.Background(), store: store, clock: testclock.New(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)),
		log: &bytes.Buffer{}, users: map[string]incident.User{}, keys: map[string][]byte{}, wa: newFakeWhatsApp()}
	e.svc = incident.NewService(store, pol, fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}))
	e.serve(false)
	u, err := e.svc.AddUser(e.ctx, incident.System, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "correct horse wanda"})
	if err != nil {
		t.Fatal(err)
	}
	e.users["wanda"] = u
	token := e.apiToken("wanda")
	session := e.as("wanda")
	cookie := &http.Cookie{Name: e.srv.cookieName("tresor"), Value: session.cookies[e.srv.cookieName("tresor")]}

	ts := httptest.NewServer(e.h)
	defer ts.Close()
	hc := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var mu sync.Mutex
	var down bool
	var seq int
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		seq++
		return seq, down
	}
	type kind struct {
		name string
		api  bool
		req  func(n int) (*http.Request, error)
	}
	withToken := func(r *http.Request, err error) (*http.Request, error) {
		if err == nil {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r, err
	}
	withCookie := func(r *http.Request, err error) (*http.Request, error) {
		if err == nil {
			r.AddCookie(cookie)
		}
		return r, err
	}
	fileHash := strings.Repeat("ab", 32)
	png := pngWith(bytes.Repeat([]byte{1}, 2048))
	kinds := []kind{
		{"API read with token", true, func(int) (*http.Request, error) {
			return withToken(http.NewRequest(http.MethodGet, ts.URL+"/api/v1/incidents", nil))
		}},
		{"API write with token", true, func(n int) (*http.Request, error) {
			r, err := withToken(http.NewRequest(http.MethodPost, ts.URL+"/api/v1/incidents",
				strings.NewReader(fmt.Sprintf(`{"category":"threat","description":"x","platform":"android","message_id":"wamidapi%d","media_type":"image/jpeg","file_sha256":"%s"}`, n, fileHash))))
			if err == nil {
				r.Header.Set("Content-Type", "application/json")
			}
			return r, err
		}},
		{"API read with session cookie", true, func(int) (*http.Request, error) {
			return withCookie(http.NewRequest(http.MethodGet, ts.URL+"/api/v1/incidents", nil))
		}},
		{"page with session cookie", false, func(int) (*http.Request, error) {
			return withCookie(http.NewRequest(http.MethodGet, ts.URL+"/incidents", nil))
		}},
		{"form with session cookie", false, func(n int) (*http.Request, error) {
			form := url.Values{csrfField: {session.csrf}, "category": {"threat"}, "description": {"x"}, "platform": {"android"},
				"message_id": {fmt.Sprintf("wamidform%d", n)}, "media_type": {"image/jpeg"}, "file_sha256": {fileHash}}
			r, err := withCookie(http.NewRequest(http.MethodPost, ts.URL+"/incidents", strings.NewReader(form.Encode())))
			if err == nil {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return r, err
		}},
		{"upload with session cookie", false, func(int) (*http.Request, error) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, f := range [][2]string{{csrfField, session.csrf}, {"category", "threat"}, {"description", "Drohung"}, {"platform", "android"}} {
				if err := mw.WriteField(f[0], f[1]); err != nil {
					return nil, err
				}
			}
			fw, err := mw.CreateFormFile("file", "drohung.png")
			if err == nil {
				_, err = fw.Write(png)
			}
			if err == nil {
				err = mw.Close()
			}
			if err != nil {
				return nil, err
			}
			r, err := withCookie(http.NewRequest(http.MethodPost, ts.URL+"/incidents/upload", &buf))
			if err == nil {
				r.Header.Set("Content-Type", mw.FormDataContentType())
			}
			return r, err
		}},
	}

	calls := make(chan outageCall, 1024)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, k := range kinds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A paced loop, not a flood: two shared cores serve it.
			tick := time.NewTicker(60 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				n, during := next()
				c := outageCall{kind: k.name, api: k.api, during: during}
				req, err := k.req(n)
				if err != nil {
					c.err = err
					calls <- c
					continue
				}
				resp, err := hc.Do(req)
				if err != nil {
					c.err = err
					calls <- c
					continue
				}
				body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
				resp.Body.Close()
				c.code, c.retryAfter, c.ctype, c.body, c.err = resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), string(body), err
				switch {
				case resp.StatusCode == http.StatusCreated:
					var inc apiIncident
					if json.Unmarshal(body, &inc) == nil {
						c.acked = inc.ID
					}
				case resp.StatusCode == http.StatusSeeOther:
					loc := resp.Header.Get("Location")
					if id, ok := strings.CutPrefix(loc, "/incidents/"); ok {
						c.acked, _, _ = strings.Cut(id, "?")
					}
				}
				calls <- c
			}
		}()
	}

	// The collector: what each kind got before, during and after.
	var all []outageCall
	before, during, after := map[string]*outageCounts{}, map[string]*outageCounts{}, map[string]*outageCounts{}
	for _, k := range kinds {
		before[k.name], during[k.name], after[k.name] = &outageCounts{}, &outageCounts{}, &outageCounts{}
	}
	var restarted bool
	collect := func(c outageCall) {
		all = append(all, c)
		m := before
		switch {
		case c.during:
			m = during
		case restarted:
			m = after
		}
		switch {
		case c.err == nil && c.code < 400:
			m[c.kind].ok++
		case c.err == nil && c.code == http.StatusServiceUnavailable:
			m[c.kind].unavailable++
		}
	}
	await := func(what string, timeout time.Duration, done func() bool) {
		t.Helper()
		deadline := time.After(timeout)
		for !done() {
			select {
			case c := <-calls:
				collect(c)
			case <-deadline:
				last := map[string]string{}
				for _, c := range all {
					last[c.kind] = fmt.Sprintf("%d %v %.200s", c.code, c.err, c.body)
				}
				t.Logf("last answers: %v", last)
				t.Fatalf("%s: not within %s (before %v, during %v, after %v)", what, timeout, before, during, after)
			}
		}
	}
	every := func(m map[string]*outageCounts, f func(*outageCounts) bool) func() bool {
		return func() bool {
			for _, c := range m {
				if !f(c) {
					return false
				}
			}
			return true
		}
	}
	defer func() {
		close(stop)
		go func() { wg.Wait(); close(calls) }()
		for range calls {
		}
	}()

	await("every kind of call succeeds before the outage", 30*time.Second, every(before, func(c *outageCounts) bool { return c.ok > 0 }))
	mu.Lock()
	down = true // from before the stop until the server is back: "during"
	mu.Unlock()
	cluster.ctl("stop", "-m", "fast")
	outage := time.After(10 * time.Second) // the outage's length, the scenario itself
	await("every kind of call answered 503 during the outage", 20*time.Second, every(during, func(c *outageCounts) bool { return c.unavailable > 0 }))
	await("the outage lasted 10 s", 20*time.Second, func() bool {
		select {
		case <-outage:
			return true
		default:
			return false
		}
	})
	cluster.ctl("start")
	mu.Lock()
	down = false
	mu.Unlock()
	restarted = true
	await("every kind of call succeeds after the outage", 60*time.Second, every(after, func(c *outageCounts) bool { return c.ok > 0 }))

	acked := map[string]bool{}
	for _, c := range all {
		switch {
		case c.err != nil:
			t.Errorf("%s: %v", c.kind, c.err)
		case c.code == http.StatusUnauthorized || c.code >= 500 && c.code != http.StatusServiceUnavailable:
			t.Errorf("%s answered %d (during the outage: %v):\n%.300s", c.kind, c.code, c.during, c.body)
		case c.code == http.StatusServiceUnavailable:
			if c.retryAfter == "" {
				t.Errorf("%s: 503 without Retry-After", c.kind)
			}
			var ae apiError
			if c.api && (!strings.HasPrefix(c.ctype, "application/json") || json.Unmarshal([]byte(c.body), &ae) != nil || ae.Error.Code != "unavailable") {
				t.Errorf("%s: 503 as %s: %.300s", c.kind, c.ctype, c.body)
			}
			if !c.api && (!strings.HasPrefix(c.ctype, "text/html") || !strings.Contains(c.body, "Vorübergehend nicht verfügbar")) {
				t.Errorf("%s: 503 as %s: %.300s", c.kind, c.ctype, c.body)
			}
		case c.code >= 400:
			t.Errorf("%s answered %d:\n%.300s", c.kind, c.code, c.body)
		case strings.HasPrefix(c.kind, "API write") || strings.HasPrefix(c.kind, "form") || strings.HasPrefix(c.kind, "upload"):
			if c.acked == "" {
				t.Errorf("%s: %d without the new incident", c.kind, c.code)
				continue
			}
			if acked[c.acked] {
				t.Errorf("%s: incident %s acknowledged twice", c.kind, c.acked)
			}
			acked[c.acked] = true
		}
	}
	for id := range acked {
		if _, err := e.svc.Incident(e.ctx, incident.System, id); err != nil {
			t.Errorf("acknowledged incident %s lost: %v", id, err)
		}
	}
	t.Logf("%d calls, %d acknowledged writes; before %v, during %v, after %v", len(all), len(acked), before, during, after)
}
