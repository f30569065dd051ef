package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
)

// fakeVault seals by hashing; it keeps no content.
type fakeVault struct{}

func (fakeVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	h := sha256.New()
	for _, p := range parts {
		if _, err := io.Copy(h, p.Content); err != nil {
			return incident.Receipt{}, err
		}
	}
	return incident.Receipt{BundleID: id, CiphertextSHA256: hex.EncodeToString(h.Sum(nil)), CiphertextSize: 4096,
		ManifestSHA256: strings.Repeat("m", 64), Recipients: []string{"age1test"}, MetadataOnly: m.MetadataOnly, SealedAt: m.CapturedAt}, nil
}

func (fakeVault) Destroy(ctx context.Context, id string) (incident.Destruction, error) {
	return incident.Destruction{BundleID: id}, nil
}

// fakeMessenger stands in for WhatsApp.
type fakeMessenger struct{}

func (fakeMessenger) FetchContent(ctx context.Context, inc incident.Incident) ([]incident.Part, error) {
	return []incident.Part{{Name: "media.jpg", MediaType: "image/jpeg", Size: 5, Content: strings.NewReader("bytes")}}, nil
}

func (fakeMessenger) Revoke(ctx context.Context, inc incident.Incident) (incident.Revocation, error) {
	return incident.Revocation{Outcome: incident.DeletedForMe, Detail: "ack"}, nil
}

// env is a web server over a real store.
type env struct {
	t     *testing.T
	ctx   context.Context
	store *sqlstore.Store
	svc   *incident.Service
	srv   *Server
	h     http.Handler
	clock *testclock.Clock
	log   *bytes.Buffer
	users map[string]incident.User // by user name
	keys  map[string][]byte        // TOTP keys by user name
	// usedSteps is the last time step stepUpCode handed out per user.
	usedSteps map[string]int64
	wa        *fakeWhatsApp // the WhatsApp port behind the pages
}

var testKey = bytes.Repeat([]byte{7}, 32)

func newEnv(t *testing.T) *env { return newEnvTLS(t, false) }

func newEnvTLS(t *testing.T, tls bool) *env { return newEnvOn(t, tls, sqltest.Dialects()[0]) }

// newEnvOn builds the environment on the given database.
func newEnvOn(t *testing.T, tls bool, d sqlstore.Dialect) *env {
	t.Helper()
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	return newEnvPolicyOn(t, tls, pol, d)
}

// newEnvPolicy is newEnv under the policy pol.
func newEnvPolicy(t *testing.T, tls bool, pol *policies.Policy) *env {
	return newEnvPolicyOn(t, tls, pol, sqltest.Dialects()[0])
}

// newEnvPolicyOn is newEnv under the policy pol on the given database.
func newEnvPolicyOn(t *testing.T, tls bool, pol *policies.Policy, d sqlstore.Dialect) *env {
	t.Helper()
	e := &env{t: t, ctx: context.Background(), store: sqltest.Open(t, d),
		clock: testclock.New(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)), log: &bytes.Buffer{},
		users: map[string]incident.User{}, keys: map[string][]byte{}, wa: newFakeWhatsApp()}
	e.svc = incident.NewService(e.store, pol, fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(e.factors()),
		incident.WithTokenSealer(e.tokenSealer()))
	e.serve(tls)
	for name, role := range map[string]incident.Role{"wanda": incident.RoleWorker, "otto": incident.RoleWorker,
		"susi": incident.RoleSupervisor, "sven": incident.RoleSupervisor, "anna": incident.RoleAuditor, "adam": incident.RoleAdmin} {
		u, err := e.svc.AddUser(e.ctx, incident.System, incident.NewUser{Username: name, Role: role, Password: "correct horse " + name})
		if err != nil {
			t.Fatal(err)
		}
		e.users[name] = u
	}
	return e
}

// serve (re)builds the web server over e.svc.
func (e *env) serve(tls bool) {
	e.t.Helper()
	var err error
	e.srv, err = New(Config{Service: e.svc, Accounts: e.store.Accounts(), SecretKey: testKey, Clock: e.clock.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.log}, nil)), TLS: tls, WhatsApp: e.wa, Bundles: memBundles{}})
	if err != nil {
		e.t.Fatal(err)
	}
	e.h = e.srv.Handler()
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// enroll gives a user a TOTP second factor directly through the store.
func (e *env) enroll(name string) {
	e.t.Helper()
	u := e.users[name]
	key := bytes.Repeat([]byte(name[:1]), account.TOTPKeySize)
	sealed, err := e.srv.factors.Seal(key, account.PurposeTOTP, u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.EnableSecondFactor(e.ctx, account.SecondFactor{UserID: u.ID, SecretSealed: sealed, EnabledAt: e.clock.Now()}, nil); err != nil {
		e.t.Fatal(err)
	}
	e.keys[name] = key
}

// factors checks codes as the server does: with testKey, at e's clock.
func (e *env) factors() *account.Factors {
	e.t.Helper()
	f, err := account.NewFactors(testKey, rand.Reader, e.clock.Now)
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// tokenSealer seals the identity provider's tokens, under a key derived
// from testKey as serve derives it from the secret key.
func (e *env) tokenSealer() *account.Sealer {
	e.t.Helper()
	k, err := account.DeriveKey(testKey, incident.TokenKeyLabel)
	if err != nil {
		e.t.Fatal(err)
	}
	sl, err := account.NewSealer(k, rand.Reader)
	if err != nil {
		e.t.Fatal(err)
	}
	return sl
}

// stepUpCode returns a code of the user for a decision made directly
// through the service: enrolled if need be, for a time step not handed
// out by stepUpCode before and not the current one (which e.code hands
// out), the clock moved on when those are used up.
func (e *env) stepUpCode(name string) string {
	e.t.Helper()
	if _, ok := e.keys[name]; !ok {
		e.enroll(name)
	}
	if e.usedSteps == nil {
		e.usedSteps = map[string]int64{}
	}
	for {
		cur := account.TOTPStep(e.clock.Now())
		next := max(e.usedSteps[name]+1, cur-account.TOTPSkew)
		if next == cur {
			next++
		}
		if next <= cur+account.TOTPSkew {
			e.usedSteps[name] = next
			return account.TOTPCode(e.keys[name], next)
		}
		e.clock.Advance(account.TOTPPeriod * time.Second)
	}
}

// code returns the user's current TOTP code.
func (e *env) code(name string) string {
	return account.HOTP(e.keys[name], uint64(account.TOTPStep(e.clock.Now())), account.TOTPDigits)
}

// client is a browser: it keeps cookies and the last CSRF token.
type client struct {
	e       *env
	cookies map[string]string
	csrf    string
	header  http.Header
}

func (e *env) anon() *client {
	return &client{e: e, cookies: map[string]string{}, header: http.Header{}}
}

// as returns a client with a fresh, fully signed-in session of the user
// (made directly in the store, for tests that are not about sign-in).
func (e *env) as(name string) *client {
	e.t.Helper()
	c := e.anon()
	tok, err := e.srv.token(32)
	if err != nil {
		e.t.Fatal(err)
	}
	now := e.clock.Now()
	sess := account.Session{TokenHash: account.HashToken(tok), UserID: e.users[name].ID, Stage: account.StageActive, CSRF: "csrf-" + tok, CreatedAt: now, LastSeenAt: now}
	if err := e.store.CreateSession(e.ctx, sess); err != nil {
		e.t.Fatal(err)
	}
	c.cookies[e.srv.cookieName("tresor")], c.csrf = tok, sess.CSRF
	return c
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (c *client) do(method, target string, form url.Values) *httptest.ResponseRecorder {
	c.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for n, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: n, Value: v})
	}
	w := httptest.NewRecorder()
	c.e.h.ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	if m := csrfInput.FindStringSubmatch(w.Body.String()); m != nil {
		c.csrf = m[1]
	}
	return w
}

func (c *client) get(target string) *httptest.ResponseRecorder {
	return c.do(http.MethodGet, target, nil)
}

// post sends a form with the client's CSRF token.
func (c *client) post(target string, kv ...string) *httptest.ResponseRecorder {
	c.e.t.Helper()
	form := url.Values{csrfField: {c.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return c.do(http.MethodPost, target, form)
}

func wantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; location %q; body:\n%s", w.Code, status, w.Header().Get("Location"), w.Body.String())
	}
}

func wantRedirect(t *testing.T, w *httptest.ResponseRecorder, prefix string) string {
	t.Helper()
	wantStatus(t, w, http.StatusSeeOther)
	loc := w.Header().Get("Location")
	if !strings.HasPrefix(loc, prefix) {
		t.Fatalf("redirect to %q, want prefix %q", loc, prefix)
	}
	return loc
}

// flag reports an incident as the worker through the web form and returns its id.
func (e *env) flag(c *client, msgID, category string) string {
	e.t.Helper()
	w := c.post("/incidents", "category", category, "description", "Bild einer Prügelei", "platform", "android",
		"message_id", msgID, "media_type", "image/jpeg", "file_sha256", strings.Repeat("ab", 32))
	loc := wantRedirect(e.t, w, "/incidents/")
	id, _, _ := strings.Cut(strings.TrimPrefix(loc, "/incidents/"), "?")
	return id
}

// pending returns the incident's pending request.
func (e *env) pending(incID string) incident.Request {
	e.t.Helper()
	rs, err := e.svc.Requests(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.RequestFilter{IncidentID: incID, State: incident.RequestPending})
	if err != nil || len(rs) != 1 {
		e.t.Fatalf("pending requests of %s: %v, %v", incID, rs, err)
	}
	return rs[0]
}

func (e *env) incident(id string) incident.Incident {
	e.t.Helper()
	inc, err := e.svc.Incident(e.ctx, incident.System, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc
}

func (e *env) runJobs() {
	e.t.Helper()
	for {
		ran, err := e.svc.RunDue(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}
