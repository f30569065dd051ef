package web

import (
	"crypto/rand"
	"encoding/json"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
	"github.com/tresor-evidence/tresor/policies"
)

// oidcRedirect is Tresor's redirect URI in these tests; the test browser
// stops when the provider sends it there and hands the answer to the
// in-process handler.
const oidcRedirect = "http://tresor.test/auth/oidc/callback"

// oidcSignedOut is Tresor's post-logout redirect URI in these tests.
const oidcSignedOut = "http://tresor.test/signed-out"

const oidcTestPolicy = `oidc:
  claim: groups
  roles:
    tresor-leitung: supervisor
    tresor-fachkraft: worker
`

// newOIDCEnv is an environment whose login page offers a real OpenID
// provider, started on loopback, with three people: a worker, a
// supervisor and someone without a Tresor group.
func newOIDCEnv(t *testing.T, extraPolicy string) (*env, *oidctest.Provider) {
	t.Helper()
	pol, err := policies.Parse("oidc.yaml", []byte(oidcTestPolicy+extraPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvPolicy(t, false, pol)
	p := oidctest.Start(t, oidcRedirect)
	p.SetUser(oidctest.User{Subject: "s-wiebke", Username: "wiebke@traeger.example.org", Name: "Wiebke Wagner",
		Email: "wiebke@traeger.example.org", Groups: []string{"alle", "tresor-fachkraft"}})
	p.SetUser(oidctest.User{Subject: "s-lars", Username: "lars@traeger.example.org", Name: "Lars Leitung", Groups: []string{"tresor-leitung"}})
	p.SetUser(oidctest.User{Subject: "s-gast", Username: "gast@traeger.example.org", Name: "Gast", Groups: []string{"alle"}})
	p.AllowPostLogoutRedirect(oidcSignedOut)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: oidcRedirect, PostLogoutRedirectURL: oidcSignedOut, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Träger-Login")
	return e, p
}

// useIdentityProvider serves e with sign-in through idp, named name.
func (e *env) useIdentityProvider(idp IdentityProvider, name string) {
	e.t.Helper()
	srv, err := New(Config{Service: e.svc, Accounts: e.store.Accounts(), SecretKey: testKey, Clock: e.clock.Now, Rand: rand.Reader,
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: e.log}, nil)), WhatsApp: e.wa, Bundles: memBundles{},
		IdentityProvider: idp, IdentityProviderName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv, e.h = srv, srv.Handler()
}

// atProvider plays the browser at the provider: it follows the
// provider's redirects from start until it is sent back to Tresor, and
// returns the query Tresor's callback gets.
func atProvider(t *testing.T, start string) url.Values {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), oidcRedirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := hc.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), oidcRedirect) {
		t.Fatalf("provider answered %s, location %v (%v)", resp.Status, loc, err)
	}
	return loc.Query()
}

// oidcSignIn runs the whole sign-in of the provider's user sub in c and
// returns the callback's response.
func oidcSignIn(t *testing.T, c *client, p *oidctest.Provider, sub string) (*http.Response, string) {
	t.Helper()
	p.SignInAs(sub)
	w := c.get("/auth/oidc/start")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("start = %d %s", w.Code, w.Body)
	}
	var flowCookie *http.Cookie
	for _, ck := range w.Result().Cookies() {
		switch ck.Name {
		case oidcFlowCookie:
			flowCookie = ck
		case "tresor":
			t.Errorf("start set the session cookie")
		}
	}
	if flowCookie == nil || flowCookie.SameSite != http.SameSiteLaxMode || !flowCookie.HttpOnly || flowCookie.MaxAge <= 0 || flowCookie.MaxAge > 600 {
		t.Fatalf("flow cookie = %+v, want a short-lived HttpOnly SameSite=Lax cookie", flowCookie)
	}
	q := atProvider(t, w.Header().Get("Location"))
	cb := c.get("/auth/oidc/callback?" + q.Encode())
	return cb.Result(), cb.Body.String()
}

func TestOIDCSignIn(t *testing.T) {
	e, p := newOIDCEnv(t, "")
	c := e.anon()

	// The login page offers the identity provider first, in both languages.
	page := html.UnescapeString(c.get("/login").Body.String())
	i, j := strings.Index(page, "Anmelden mit Träger-Login"), strings.Index(page, `action="/login"`)
	if i < 0 || j < 0 || i > j {
		t.Errorf("login page does not offer „Anmelden mit Träger-Login“ before the password form")
	}
	en := e.anon()
	en.header.Set("Accept-Language", "en")
	if page := html.UnescapeString(en.get("/login").Body.String()); !strings.Contains(page, "Sign in with Träger-Login") {
		t.Errorf("English login page does not offer „Sign in with Träger-Login“")
	}

	// A worker: account created with the mapped role, signed in.
	resp, body := oidcSignIn(t, c, p, "s-wiebke")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `content="0;url=/"`) {
		t.Fatalf("callback = %d %s", resp.StatusCode, body)
	}
	if _, ok := c.cookies[oidcFlowCookie]; ok {
		t.Errorf("flow cookie kept after the callback")
	}
	if w := c.get("/incidents"); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `action="/logout"`) {
		t.Errorf("incidents after sign-in = %d %s, want the signed-in worker's page", w.Code, w.Header().Get("Location"))
	}
	var wiebke incident.User
	err := e.store.View(e.ctx, func(tx incident.Tx) error {
		id, err := tx.ExternalIdentity(e.ctx, p.Issuer, "s-wiebke")
		if err != nil {
			return err
		}
		wiebke, err = tx.User(e.ctx, id.UserID)
		return err
	})
	if err != nil || wiebke.Role != incident.RoleWorker || wiebke.Username != "wiebke" {
		t.Errorf("account = %+v, %v", wiebke, err)
	}

	// A supervisor goes on to set up Tresor's second factor: the policy
	// does not say the provider enforces one.
	sup := e.anon()
	if _, body := oidcSignIn(t, sup, p, "s-lars"); !strings.Contains(body, `content="0;url=/account/second-factor"`) {
		t.Errorf("supervisor's callback does not lead to the second factor: %s", body)
	}

	// Someone without a Tresor group gets no account, and is told why.
	guest := e.anon()
	resp, body = oidcSignIn(t, guest, p, "s-gast")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(html.UnescapeString(body), "keine Berechtigung für Tresor") {
		t.Errorf("unmapped person: %d", resp.StatusCode)
	}
	if _, ok := guest.cookies["tresor"]; ok {
		t.Errorf("unmapped person got a session")
	}
}

func TestOIDCProviderEnforcesMFA(t *testing.T) {
	e, p := newOIDCEnv(t, "  provider_enforces_mfa: true\n")
	c := e.anon()
	if _, body := oidcSignIn(t, c, p, "s-lars"); !strings.Contains(body, `content="0;url=/"`) {
		t.Fatalf("supervisor's callback = %s, want straight in", body)
	}
	if w := c.get("/approvals"); w.Code != http.StatusOK {
		t.Errorf("approvals after provider sign-in = %d", w.Code)
	}
}

func TestOIDCCallbackRefusals(t *testing.T) {
	e, p := newOIDCEnv(t, "")
	c := e.anon()
	p.SignInAs("s-wiebke")

	// No flow cookie: an answer not started in this browser.
	w := c.get("/auth/oidc/callback?state=x&code=y")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "nicht in diesem Browser begonnen") {
		t.Errorf("callback without flow = %d", w.Code)
	}

	// Replayed: the flow cookie ends with its first answer.
	start := c.get("/auth/oidc/start")
	q := atProvider(t, start.Header().Get("Location"))
	if w := c.get("/auth/oidc/callback?" + q.Encode()); w.Code != http.StatusOK {
		t.Fatalf("first callback = %d", w.Code)
	}
	c2 := e.anon()
	if w := c2.get("/auth/oidc/callback?" + q.Encode()); w.Code != http.StatusBadRequest {
		t.Errorf("replayed callback in another browser = %d, want 400", w.Code)
	}

	// The provider's error is explained, its own words are not shown.
	c3 := e.anon()
	start = c3.get("/auth/oidc/start")
	loc, err := url.Parse(start.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	bad := url.Values{"state": {loc.Query().Get("state")}, "error": {"access_denied"}, "error_description": {"<b>User cancelled at IdP-7</b>"}}
	w = c3.get("/auth/oidc/callback?" + bad.Encode())
	body := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusUnauthorized || !strings.Contains(body, "abgebrochen oder abgelehnt") || strings.Contains(body, "IdP-7") {
		t.Errorf("provider error page = %d, want it explained without the provider's text", w.Code)
	}
}

func TestOIDCNotConfigured(t *testing.T) {
	e := newEnv(t)
	c := e.anon()
	if strings.Contains(c.get("/login").Body.String(), "/auth/oidc/start") {
		t.Errorf("login page offers an identity provider without one configured")
	}
	for _, path := range []string{"/auth/oidc/start", "/auth/oidc/callback?state=x&code=y"} {
		if w := c.get(path); w.Code != http.StatusNotFound {
			t.Errorf("%s = %d, want 404", path, w.Code)
		}
	}
}

// TestOIDCHostileIssuer: through the web handlers, an ID token a
// conforming provider would never send is refused with an explanation,
// a code the provider would accept twice is not taken twice, and a person
// outside the mapped values gets no account.
func TestOIDCHostileIssuer(t *testing.T) {
	pol, err := policies.Parse("oidc.yaml", []byte(oidcTestPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvPolicy(t, false, pol)
	h := oidctest.StartHostile(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: oidcRedirect,
		Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Test")
	callback := func(c *client) (url.Values, int, string) {
		start := c.get("/auth/oidc/start")
		q := atProvider(t, start.Header().Get("Location"))
		w := c.get("/auth/oidc/callback?" + q.Encode())
		return q, w.Code, html.UnescapeString(w.Body.String())
	}

	h.Tamper(func(claims, _ map[string]any) { claims["aud"] = "another-client" })
	c := e.anon()
	if _, code, body := callback(c); code != http.StatusUnauthorized || !strings.Contains(body, "konnte nicht bestätigt werden") || strings.Contains(body, "another-client") {
		t.Errorf("wrong audience: %d", code)
	}
	if _, ok := c.cookies["tresor"]; ok {
		t.Errorf("a refused answer started a session")
	}
	h.Tamper(nil)

	// This provider would take the code again; Tresor's flow ends with
	// its first answer, in this browser and in any other.
	q, code, _ := callback(c)
	if code != http.StatusOK {
		t.Fatalf("well-behaved callback = %d", code)
	}
	for _, b := range []*client{c, e.anon()} {
		if w := b.get("/auth/oidc/callback?" + q.Encode()); w.Code != http.StatusBadRequest {
			t.Errorf("replayed code = %d, want 400", w.Code)
		}
	}

	// Outside the mapped values.
	h.SetPerson("h-2", []string{"praktikum"})
	if _, code, body := callback(e.anon()); code != http.StatusForbidden || !strings.Contains(body, "keine Berechtigung für Tresor") {
		t.Errorf("unmapped person: %d", code)
	}
}

// TestOIDCRoleChangeAtProvider: a role changed at the provider applies at
// the next sign-in, and the sessions of the old role end with it.
func TestOIDCRoleChangeAtProvider(t *testing.T) {
	e, p := newOIDCEnv(t, "  provider_enforces_mfa: true\n")
	first := e.anon()
	if resp, _ := oidcSignIn(t, first, p, "s-wiebke"); resp.StatusCode != http.StatusOK {
		t.Fatalf("first sign-in = %d", resp.StatusCode)
	}
	if w := first.get("/incidents"); w.Code != http.StatusOK {
		t.Fatalf("worker's incidents = %d", w.Code)
	}
	p.SetUser(oidctest.User{Subject: "s-wiebke", Username: "wiebke@traeger.example.org", Name: "Wiebke Wagner", Groups: []string{"tresor-leitung"}})
	e.clock.Advance(time.Second)
	second := e.anon()
	if resp, _ := oidcSignIn(t, second, p, "s-wiebke"); resp.StatusCode != http.StatusOK {
		t.Fatalf("second sign-in = %d", resp.StatusCode)
	}
	if w := second.get("/approvals"); w.Code != http.StatusOK {
		t.Errorf("approvals after the role change = %d, want the supervisor's page", w.Code)
	}
	if w := first.get("/incidents"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
		t.Errorf("the worker's old session = %d %s, want it ended", w.Code, w.Header().Get("Location"))
	}
}

// TestOIDCProviderUnreachable: an identity provider that cannot be
// reached is said so on the login page, as a temporary outage (503).
func TestOIDCProviderUnreachable(t *testing.T) {
	e := newEnv(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: "http://127.0.0.1:1", ClientID: "tresor", ClientSecret: "x", RedirectURL: oidcRedirect,
		Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Test")
	w := e.anon().get("/auth/oidc/start")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(html.UnescapeString(w.Body.String()), "nicht erreichbar") {
		t.Errorf("start with the provider away = %d", w.Code)
	}
}

// newHostileEnv is an environment whose identity provider is the test's
// own issuer.
func newHostileEnv(t *testing.T) (*env, *oidctest.Hostile) {
	t.Helper()
	return newHostileEnvWith(t, "", true)
}

// newHostileEnvWith is newHostileEnv with more oidc policy settings; with
// clocked, Tresor, its relying party and the issuer share the test clock.
func newHostileEnvWith(t *testing.T, extraPolicy string, clocked bool) (*env, *oidctest.Hostile) {
	t.Helper()
	pol, err := policies.Parse("oidc.yaml", []byte(oidcTestPolicy+extraPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvPolicy(t, false, pol)
	h := oidctest.StartHostile(t)
	cfg := oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: oidcRedirect,
		PostLogoutRedirectURL: oidcSignedOut, Claim: "groups", Rand: rand.Reader}
	if clocked {
		h.SetClock(e.clock.Now)
		cfg.Now = e.clock.Now
	}
	rp, err := oidcrp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Test")
	return e, h
}

// TestOIDCBackchannelLogout: the provider's signed logout token ends the
// person's sessions and API tokens at once; anything else changes nothing.
func TestOIDCBackchannelLogout(t *testing.T) {
	e, h := newHostileEnv(t)
	c := e.anon()
	start := c.get("/auth/oidc/start")
	if w := c.get("/auth/oidc/callback?" + atProvider(t, start.Header().Get("Location")).Encode()); w.Code != http.StatusOK {
		t.Fatalf("sign-in = %d", w.Code)
	}
	var u incident.User
	err := e.store.View(e.ctx, func(tx incident.Tx) (err error) { u, err = tx.UserByName(e.ctx, "hostile"); return })
	if err != nil {
		t.Fatal(err)
	}
	e.users["hostile"] = u
	api := e.anon()
	api.header.Set("Authorization", "Bearer "+e.apiToken("hostile"))
	if w := api.get("/api/v1/incidents"); w.Code != http.StatusOK {
		t.Fatalf("API token before logout = %d", w.Code)
	}
	e.clock.Advance(time.Second)

	logout := func(tok string) int {
		return e.anon().do(http.MethodPost, "/auth/oidc/backchannel-logout", url.Values{"logout_token": {tok}}).Code
	}
	bad := map[string]string{
		"garbage":        "x",
		"wrong audience": h.LogoutToken(t, "h-1", func(cl, _ map[string]any) { cl["aud"] = "another-client" }),
		"alg none":       h.LogoutToken(t, "h-1", func(_, hd map[string]any) { hd["alg"] = "none" }),
	}
	for name, tok := range bad {
		if code := logout(tok); code != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", name, code)
		}
	}
	if w := c.get("/incidents"); w.Code != http.StatusOK {
		t.Fatalf("session after refused logouts = %d, want it still running", w.Code)
	}
	if code := logout(h.LogoutToken(t, "someone-else", nil)); code != http.StatusOK {
		t.Errorf("logout of an unknown person = %d, want 200", code)
	}
	if code := logout(h.LogoutToken(t, "h-1", nil)); code != http.StatusOK {
		t.Fatalf("logout = %d, want 200", code)
	}
	if w := c.get("/incidents"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
		t.Errorf("session after logout = %d %s, want it ended", w.Code, w.Header().Get("Location"))
	}
	if w := api.get("/api/v1/incidents"); w.Code != http.StatusUnauthorized {
		t.Errorf("API token after logout = %d, want 401", w.Code)
	}

	// Each bad token makes the relying party fetch the provider's keys
	// again: an address that keeps sending them is stopped, even with a
	// good one, before it reaches the provider.
	for range maxFailures - len(bad) {
		if code := logout("x"); code != http.StatusBadRequest {
			t.Fatalf("bad token = %d, want 400", code)
		}
	}
	if code := logout(h.LogoutToken(t, "someone-else", nil)); code != http.StatusTooManyRequests {
		t.Errorf("logout from an address that sent %d bad tokens = %d, want 429", maxFailures, code)
	}
}

// hostileSignIn signs the hostile provider's person in with a new
// browser.
func hostileSignIn(t *testing.T, e *env) *client {
	t.Helper()
	c := e.anon()
	start := c.get("/auth/oidc/start")
	if w := c.get("/auth/oidc/callback?" + atProvider(t, start.Header().Get("Location")).Encode()); w.Code != http.StatusOK {
		t.Fatalf("sign-in = %d", w.Code)
	}
	return c
}

// TestOIDCBackchannelLogoutReplay: a logout token ends only what existed
// when it was issued. Replayed after the person signed in again (it is
// valid until its exp) it is refused and ends nothing; another token
// issued before that sign-in leaves it alone too; a token whose iat lies
// ahead of Tresor's clock beyond the skew is refused.
func TestOIDCBackchannelLogoutReplay(t *testing.T) {
	e, h := newHostileEnv(t)
	logout := func(tok string) int {
		return e.anon().do(http.MethodPost, "/auth/oidc/backchannel-logout", url.Values{"logout_token": {tok}}).Code
	}
	works := func(c *client) bool {
		t.Helper()
		return c.get("/incidents").Code == http.StatusOK
	}
	first := hostileSignIn(t, e)
	e.clock.Advance(2 * time.Second)
	tok := h.LogoutToken(t, "h-1", nil) // issued now, valid for two minutes
	older := h.LogoutToken(t, "h-1", nil)
	e.clock.Advance(time.Second)
	if code := logout(tok); code != http.StatusOK {
		t.Fatalf("logout = %d", code)
	}
	if works(first) {
		t.Fatalf("the session before the logout survived it")
	}

	e.clock.Advance(5 * time.Second)
	again := hostileSignIn(t, e)
	e.clock.Advance(30 * time.Second)
	if code := logout(tok); code != http.StatusBadRequest {
		t.Errorf("replayed logout token = %d, want 400", code)
	}
	if code := logout(older); code != http.StatusOK {
		t.Errorf("another token issued before the sign-in = %d, want 200", code)
	}
	if !works(again) {
		t.Errorf("a logout token issued before the sign-in ended it")
	}

	ahead := e.clock.Now().Add(oidcrp.MaxSkew + time.Minute)
	future := h.LogoutToken(t, "h-1", func(c, _ map[string]any) { c["iat"] = ahead.Unix(); c["exp"] = ahead.Add(time.Minute).Unix() })
	if code := logout(future); code != http.StatusBadRequest {
		t.Errorf("logout token issued in the future = %d, want 400", code)
	}
	if !works(again) {
		t.Errorf("a logout token from the future ended the session")
	}
}

// endSessionEndpoint reads the provider's discovery document.
func endSessionEndpoint(t *testing.T, issuer string) string {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.EndSession == "" {
		t.Fatalf("discovery names no end_session_endpoint (%v)", err)
	}
	return doc.EndSession
}

// cspWithForms is csp with the form-action the pages of a session that
// signs out at the provider have.
func cspWithForms(origin string) string {
	return "default-src 'self'; frame-ancestors 'none'; form-action 'self' " + origin + "; base-uri 'none'"
}

// TestOIDCSignOutAtProvider: a linked account's sign-out ends the Tresor
// session and sends the browser on to the provider's end-session endpoint
// (303) with the client id, the post-logout address and the ID token of
// the sign-in as hint; the provider takes them and sends it back to
// /signed-out. Its pages' CSP lets forms lead to exactly that
// origin; a local account's pages, and anyone's without a session, do not,
// and its sign-out stays at Tresor.
func TestOIDCSignOutAtProvider(t *testing.T) {
	e, p := newOIDCEnv(t, "")
	endpoint := endSessionEndpoint(t, p.Issuer)
	c := e.anon()
	if resp, _ := oidcSignIn(t, c, p, "s-wiebke"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	w := c.get("/incidents")
	if w.Code != http.StatusOK {
		t.Fatalf("incidents = %d", w.Code)
	}
	if got, want := w.Header().Get("Content-Security-Policy"), cspWithForms(p.Issuer); got != want {
		t.Errorf("linked account's page: CSP %q, want %q", got, want)
	}
	// The ID token of the sign-in, kept sealed, goes back as the hint.
	var hint string
	err := e.store.View(e.ctx, func(tx incident.Tx) error {
		id, err := tx.ExternalIdentity(e.ctx, p.Issuer, "s-wiebke")
		if err != nil {
			return err
		}
		hint, err = e.svc.ProviderLogoutHint(e.ctx, id.UserID)
		return err
	})
	if err != nil || strings.Count(hint, ".") != 2 {
		t.Fatalf("ID token hint = %q, %v", hint, err)
	}
	trail := func() []audit.Entry {
		t.Helper()
		es, err := e.svc.Trail(e.ctx, e.users["anna"].Actor(), incident.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	from := len(trail())
	w = c.post("/logout")
	if w.Code != http.StatusSeeOther {
		t.Fatalf("sign-out = %d", w.Code)
	}
	to, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if base := to.Scheme + "://" + to.Host + to.Path; base != endpoint {
		t.Errorf("sign-out leads to %s, want the end-session endpoint %s", base, endpoint)
	}
	if q, want := to.Query(), (url.Values{"client_id": {p.ClientID}, "post_logout_redirect_uri": {oidcSignedOut}, "id_token_hint": {hint}}); !reflect.DeepEqual(q, want) {
		t.Errorf("end-session query %v, want %v", q, want)
	}
	if got := trail()[from:]; len(got) != 1 || got[0].Action != string(incident.AuthSignedOut) {
		t.Errorf("sign-out recorded %+v, want one auth.signed_out", got)
	}
	if w := c.get("/incidents"); w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login") {
		t.Errorf("session after sign-out = %d %s, want it ended", w.Code, w.Header().Get("Location"))
	}

	// The provider takes the request and sends the browser back.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(to.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != oidcSignedOut {
		t.Fatalf("provider's end-session answered %s to %q, want %s", resp.Status, loc, oidcSignedOut)
	}
	w = c.get("/signed-out")
	if body := html.UnescapeString(w.Body.String()); w.Code != http.StatusOK || !strings.Contains(body, "Sie sind von Tresor und bei Träger-Login abgemeldet.") {
		t.Errorf("signed-out page = %d", w.Code)
	}
	if got := w.Header().Get("Content-Security-Policy"); got != csp {
		t.Errorf("signed-out page without a session: CSP %q, want %q", got, csp)
	}
	en := e.anon()
	en.header.Set("Accept-Language", "en")
	if body := html.UnescapeString(en.get("/signed-out").Body.String()); !strings.Contains(body, "You are signed out of Tresor and of Träger-Login.") {
		t.Errorf("English signed-out page lacks its text")
	}

	// A local account, with the provider's origin known: as before.
	local := e.as("wanda")
	w = local.get("/incidents")
	if got := w.Header().Get("Content-Security-Policy"); w.Code != http.StatusOK || got != csp {
		t.Errorf("local account's page = %d, CSP %q, want %q", w.Code, got, csp)
	}
	if w := local.post("/logout"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?done=signed_out" {
		t.Errorf("local sign-out = %d to %q, want /login?done=signed_out", w.Code, w.Header().Get("Location"))
	}
	if got := e.anon().get("/login").Header().Get("Content-Security-Policy"); got != csp {
		t.Errorf("login page: CSP %q, want %q", got, csp)
	}
	// A signed-in person is not told they are signed out.
	if w := e.as("otto").get("/signed-out"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/" {
		t.Errorf("signed-out page with a session = %d %s", w.Code, w.Header().Get("Location"))
	}
}

// TestOIDCSignOutOriginNotYetKnown: when the page the sign-out form was
// on did not allow the provider's origin yet (no discovery since start),
// the browser would refuse the redirect; the person lands on the
// signed-out page, which says that the provider's sign-in may remain.
func TestOIDCSignOutOriginNotYetKnown(t *testing.T) {
	e, p := newOIDCEnv(t, "")
	c := e.anon()
	if resp, _ := oidcSignIn(t, c, p, "s-wiebke"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	// Tresor restarts: a relying party that has not discovered yet.
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: oidcRedirect, PostLogoutRedirectURL: oidcSignedOut, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.useIdentityProvider(rp, "Träger-Login")
	if got := c.get("/incidents").Header().Get("Content-Security-Policy"); got != csp {
		t.Fatalf("page before discovery: CSP %q, want %q", got, csp)
	}
	w := c.post("/logout")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/signed-out?provider=unreached" {
		t.Fatalf("sign-out = %d to %q", w.Code, w.Header().Get("Location"))
	}
	if w := c.get("/incidents"); w.Code != http.StatusSeeOther {
		t.Errorf("session after sign-out = %d, want it ended", w.Code)
	}
	body := html.UnescapeString(c.get("/signed-out?provider=unreached").Body.String())
	if !strings.Contains(body, "Bei Träger-Login konnten Sie nicht mit abgemeldet werden") {
		t.Errorf("signed-out page does not say the provider's sign-in may remain")
	}
	// Discovery happened on that use: the next page allows the origin.
	again := e.anon()
	if resp, _ := oidcSignIn(t, again, p, "s-wiebke"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	if got, want := again.get("/incidents").Header().Get("Content-Security-Policy"), cspWithForms(p.Issuer); got != want {
		t.Errorf("page after discovery: CSP %q, want %q", got, want)
	}
}

// TestOIDCSignOutWithoutEndSession: a provider whose discovery names no
// end_session_endpoint changes nothing: the linked account's pages have
// form-action 'self' only and its sign-out stays at Tresor.
func TestOIDCSignOutWithoutEndSession(t *testing.T) {
	e, _ := newHostileEnv(t)
	c := hostileSignIn(t, e)
	if got := c.get("/incidents").Header().Get("Content-Security-Policy"); got != csp {
		t.Errorf("CSP %q, want %q", got, csp)
	}
	if w := c.post("/logout"); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?done=signed_out" {
		t.Errorf("sign-out = %d to %q, want /login?done=signed_out", w.Code, w.Header().Get("Location"))
	}
}
