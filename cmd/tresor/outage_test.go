package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/internal/pgcluster"
)

// lineWatch is a goroutine-safe writer that sends the first submatch of
// re in what was written on found (when found is set).
type lineWatch struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	re    *regexp.Regexp
	found chan string
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.found != nil {
		if m := w.re.FindSubmatch(w.buf.Bytes()); m != nil {
			w.found <- string(m[1])
			w.found = nil
		}
	}
	return n, err
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// outageCall is one request of the client loop and what came back.
type outageCall struct {
	kind       string
	api, write bool
	code       int
	retryAfter string
	ctype      string
	body       string
	acked      string // the incident a 201, or a 303 to it, acknowledged
	err        error
	during     bool // under way between stopping the database and its start
}

// outageCounts are the answers one kind of call got in one phase.
type outageCounts struct{ ok, unavailable int }

func (c *outageCounts) String() string {
	return fmt.Sprintf("%d ok, %d unavailable", c.ok, c.unavailable)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestServePostgresOutage runs 'tresor serve' on a throwaway PostgreSQL
// cluster and stops the database for 10 s while a worker's clients keep
// calling: API reads and writes with a token made on the token page,
// pages and form posts with the session cookie of a real sign-in, and
// uploads sealed into the real vault. No answer is a 401 or a 500: while
// the database is away each is 503 with Retry-After (JSON under /api, the
// HTML page elsewhere); once it is back every kind of call succeeds again,
// and every write acknowledged (201, or 303 to the new incident) is there.
// It needs TRESOR_TEST_PG_CLUSTER=1 (as root, with postgresql-common).
func TestServePostgresOutage(t *testing.T) {
	cluster := pgcluster.New(t, "tresoroutage")
	root := t.TempDir()
	env := drillEnv{"TRESOR_DATA_DIR": filepath.Join(root, "data"), "TRESOR_DATABASE_URL": cluster.URL(),
		"TRESOR_VAULT_IDENTITY_OUT": filepath.Join(root, "identity.txt"), "TRESOR_LISTEN": "127.0.0.1:0"}
	env.run(t, "admin password 1\n", "init")
	env.run(t, "worker password 1\n", "user", "add", "--role", "worker", "wanda")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	found := make(chan string, 1)
	stdout := &lineWatch{re: regexp.MustCompile(`listening on (http://\S+)\n`), found: found}
	stderr := &lineWatch{}
	srv := &cli{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return env[k] }, now: time.Now}
	served := make(chan int, 1)
	go func() { served <- srv.dispatch(ctx, []string{"serve"}) }()
	var base string
	select {
	case base = <-found:
	case code := <-served:
		t.Fatalf("serve exited %d:\n%s%s", code, stdout, stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not listen:\n%s%s", stdout, stderr)
	}
	defer func() {
		cancel()
		select {
		case code := <-served:
			if code != 0 {
				t.Errorf("serve exited %d:\n%.3000s", code, stderr)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("serve did not stop")
		}
	}()

	// A worker signs in and makes an API token, as a person would.
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := func(method, path string, form url.Values) (int, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, base+path, body)
		if err != nil {
			t.Fatal(err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	csrf := func(body string) string {
		t.Helper()
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no CSRF token in %.500s", body)
		}
		return m[1]
	}
	_, body := page(http.MethodGet, "/login", nil)
	if code, body := page(http.MethodPost, "/login", url.Values{"csrf": {csrf(body)}, "username": {"wanda"}, "password": {"worker password 1"}}); code != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %.500s", code, body)
	}
	_, body = page(http.MethodGet, "/account/tokens", nil)
	sessionCSRF := csrf(body)
	code, body := page(http.MethodPost, "/account/tokens", url.Values{"csrf": {sessionCSRF}, "name": {"outage"}, "days": {"30"}})
	token := regexp.MustCompile(`tresor_pat_[A-Za-z0-9_-]+`).FindString(body)
	if token == "" {
		t.Fatalf("token page: %d %.1000s", code, body)
	}

	kinds := outageKinds(base, token, sessionCSRF)
	var mu sync.Mutex
	var down bool
	var seq int
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		seq++
		return seq, down
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
				c := k.call(hc, n, during)
				if !c.during {
					// Under way when the database stopped: part of the outage.
					mu.Lock()
					c.during = down
					mu.Unlock()
				}
				calls <- c
			}
		}()
	}
	var all []outageCall
	before, during, after := map[string]*outageCounts{}, map[string]*outageCounts{}, map[string]*outageCounts{}
	for _, k := range kinds {
		before[k.name], during[k.name], after[k.name] = &outageCounts{}, &outageCounts{}, &outageCounts{}
	}
	restarted := false
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
			if !c.during {
				t.Logf("%s: 503 outside the outage: %.600s", c.kind, c.body[strings.Index(c.body, "<main")+1:])
			}
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
				t.Fatalf("%s: not within %s (before %v, during %v, after %v); last answers %v", what, timeout, before, during, after, last)
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
	stopLoops := func() {
		close(stop)
		go func() { wg.Wait(); close(calls) }()
		for c := range calls {
			collect(c)
		}
	}

	await("every kind of call succeeds before the outage", 30*time.Second, every(before, func(c *outageCounts) bool { return c.ok > 0 }))
	mu.Lock()
	down = true // from before the stop until the start returned: "during"
	mu.Unlock()
	cluster.Stop()
	outage := time.After(10 * time.Second) // the outage's length: the scenario, not a wait for an event
	await("every kind of call answered 503 during the outage", 20*time.Second, every(during, func(c *outageCounts) bool { return c.unavailable > 0 }))
	await("the outage lasted 10 s", 20*time.Second, func() bool {
		select {
		case <-outage:
			return true
		default:
			return false
		}
	})
	cluster.Start()
	mu.Lock()
	down = false
	mu.Unlock()
	restarted = true
	await("every kind of call succeeds after the outage", 60*time.Second, every(after, func(c *outageCounts) bool { return c.ok > 0 }))
	stopLoops()

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
			var ae struct {
				Error struct{ Code string } `json:"error"`
			}
			if c.api && (!strings.HasPrefix(c.ctype, "application/json") || json.Unmarshal([]byte(c.body), &ae) != nil || ae.Error.Code != "unavailable") {
				t.Errorf("%s: 503 as %s: %.300s", c.kind, c.ctype, c.body)
			}
			if !c.api && (!strings.HasPrefix(c.ctype, "text/html") || !strings.Contains(c.body, "Vorübergehend nicht verfügbar")) {
				t.Errorf("%s: 503 as %s: %.300s", c.kind, c.ctype, c.body)
			}
		case c.code >= 400:
			t.Errorf("%s answered %d:\n%.300s", c.kind, c.code, c.body)
		case c.write:
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
		req, err := http.NewRequest(http.MethodGet, base+"/api/v1/incidents/"+id, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("acknowledged incident %s: %d after the outage", id, resp.StatusCode)
		}
	}
	// A 503 outside the outage is allowed (the database may refuse a
	// client under load), but say why: serve logs every 5xx with its id.
	reqID := regexp.MustCompile(`"request_id":"([0-9a-f]+)"`)
	for _, c := range all {
		if m := reqID.FindStringSubmatch(c.body); c.code == http.StatusServiceUnavailable && !c.during && m != nil {
			for _, line := range strings.Split(stderr.String(), "\n") {
				if strings.Contains(line, m[1]) {
					t.Logf("%s: %s", c.kind, line)
				}
			}
		}
	}
	t.Logf("%d calls, %d acknowledged writes; before %v, during %v, after %v", len(all), len(acked), before, during, after)
}

// outageKind is one kind of call the clients keep making.
type outageKind struct {
	name       string
	api, write bool
	req        func(n int) (*http.Request, error)
}

func outageKinds(base, token, csrf string) []outageKind {
	withToken := func(r *http.Request, err error) (*http.Request, error) {
		if err == nil {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		return r, err
	}
	withType := func(ctype string) func(r *http.Request, err error) (*http.Request, error) {
		return func(r *http.Request, err error) (*http.Request, error) {
			if err == nil {
				r.Header.Set("Content-Type", ctype)
			}
			return r, err
		}
	}
	hash := strings.Repeat("ab", 32)
	png := append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1}, 2048)...)
	return []outageKind{
		{"API read with token", true, false, func(int) (*http.Request, error) {
			return withToken(http.NewRequest(http.MethodGet, base+"/api/v1/incidents?limit=5", nil))
		}},
		{"API write with token", true, true, func(n int) (*http.Request, error) {
			body := fmt.Sprintf(`{"category":"threat","description":"x","platform":"android","message_id":"wamidapi%d","media_type":"image/jpeg","file_sha256":"%s"}`, n, hash)
			return withType("application/json")(withToken(http.NewRequest(http.MethodPost, base+"/api/v1/incidents", strings.NewReader(body))))
		}},
		{"API read with session cookie", true, false, func(int) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, base+"/api/v1/incidents?limit=5", nil)
		}},
		{"page with session cookie", false, false, func(int) (*http.Request, error) {
			return http.NewRequest(http.MethodGet, base+"/incidents", nil)
		}},
		{"form with session cookie", false, true, func(n int) (*http.Request, error) {
			form := url.Values{"csrf": {csrf}, "category": {"threat"}, "description": {"x"}, "platform": {"android"},
				"message_id": {fmt.Sprintf("wamidform%d", n)}, "media_type": {"image/jpeg"}, "file_sha256": {hash}}
			return withType("application/x-www-form-urlencoded")(http.NewRequest(http.MethodPost, base+"/incidents", strings.NewReader(form.Encode())))
		}},
		{"upload with session cookie", false, true, func(int) (*http.Request, error) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			for _, f := range [][2]string{{"csrf", csrf}, {"category", "threat"}, {"description", "Drohung"}, {"platform", "android"}} {
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
			return withType(mw.FormDataContentType())(http.NewRequest(http.MethodPost, base+"/incidents/upload", &buf))
		}},
	}
}

// call makes one call of the kind and reads what came back.
func (k outageKind) call(hc *http.Client, n int, during bool) outageCall {
	c := outageCall{kind: k.name, api: k.api, write: k.write, during: during}
	req, err := k.req(n)
	if err != nil {
		c.err = err
		return c
	}
	resp, err := hc.Do(req)
	if err != nil {
		c.err = err
		return c
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	c.code, c.retryAfter, c.ctype, c.body, c.err = resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), string(body), err
	switch resp.StatusCode {
	case http.StatusCreated:
		var inc struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(body, &inc) == nil {
			c.acked = inc.ID
		}
	case http.StatusSeeOther:
		if id, ok := strings.CutPrefix(resp.Header.Get("Location"), "/incidents/"); ok {
			c.acked, _, _ = strings.Cut(id, "?")
		}
	}
	return c
}
