package web

import (
	"crypto/rand"
	"html"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
	"github.com/tresor-evidence/tresor/policies"
)

// oidcRedirect is Tresor's redirect URI in these tests; the test browser
// stops when the provider sends it there and hands the answer to the
// in-process handler.
const oidcRedirect = "http://tresor.test/auth/oidc/callback"

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
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: oidcRedirect, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
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
	return newHostileEnvWith(t, "", false)
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
	cfg := oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: oidcRedirect, Claim: "groups", Rand: rand.Reader}
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
	for name, tok := range map[string]string{
		"garbage":        "x",
		"wrong audience": h.LogoutToken(t, "h-1", func(cl, _ map[string]any) { cl["aud"] = "another-client" }),
		"alg none":       h.LogoutToken(t, "h-1", func(_, hd map[string]any) { hd["alg"] = "none" }),
	} {
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
}
