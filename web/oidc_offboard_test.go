package web

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
	"github.com/tresor-evidence/tresor/policies"
)

// offboardEnv is an OIDC environment whose service also runs the periodic
// offboarding check against the real provider, as serve wires it.
type offboardEnv struct {
	*env
	p       *oidctest.Provider
	checker *incident.Service
}

func newOffboardEnv(t *testing.T) *offboardEnv {
	t.Helper()
	e, p := newOIDCEnv(t, "  provider_enforces_mfa: true\n")
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: oidcRedirect, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	// The service of another process over the same database: the one
	// whose Work loop runs the check.
	checker := incident.NewService(e.store, e.svc.Policy(), fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithTokenSealer(e.tokenSealer()), incident.WithProviderChecker(rp),
		incident.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: e.log}, nil))))
	return &offboardEnv{env: e, p: p, checker: checker}
}

// signedIn signs the provider's user sub in through the real flow and
// returns the browser, an API token of the account and the account.
func (o *offboardEnv) signedIn(sub string) (*client, *client, incident.User) {
	o.t.Helper()
	c := o.anon()
	if resp, body := oidcSignIn(o.t, c, o.p, sub); resp.StatusCode != http.StatusOK || !strings.Contains(body, `content="0;url=/"`) {
		o.t.Fatalf("sign-in of %s = %d", sub, resp.StatusCode)
	}
	id := o.identity(sub)
	var u incident.User
	if err := o.store.View(o.ctx, func(tx incident.Tx) (err error) { u, err = tx.User(o.ctx, id.UserID); return }); err != nil {
		o.t.Fatal(err)
	}
	o.users[u.Username] = u
	api := o.bearerClient(o.apiToken(u.Username))
	if w := c.get("/incidents"); w.Code != http.StatusOK {
		o.t.Fatalf("%s's session = %d", sub, w.Code)
	}
	if w := api.get("/api/v1/incidents"); w.Code != http.StatusOK {
		o.t.Fatalf("%s's API token = %d", sub, w.Code)
	}
	return c, api, u
}

func (o *offboardEnv) identity(sub string) incident.ExternalIdentity {
	o.t.Helper()
	var id incident.ExternalIdentity
	if err := o.store.View(o.ctx, func(tx incident.Tx) (err error) { id, err = tx.ExternalIdentity(o.ctx, o.p.Issuer, sub); return }); err != nil {
		o.t.Fatal(err)
	}
	return id
}

// check moves the clock past one check interval and runs the check.
func (o *offboardEnv) check() incident.ProviderCheck {
	o.t.Helper()
	o.clock.Advance(incident.DefaultProviderCheckInterval)
	rep, err := o.checker.CheckExternalAccounts(o.ctx)
	if err != nil {
		o.t.Fatal(err)
	}
	return rep
}

// works reports whether the browser's session and the API token still
// get in, through the real middleware.
func (o *offboardEnv) works(c, api *client) (session, token bool) {
	o.t.Helper()
	w := c.get("/incidents")
	a := api.get("/api/v1/incidents")
	if w.Code != http.StatusOK && (w.Code != http.StatusSeeOther || !strings.HasPrefix(w.Header().Get("Location"), "/login")) {
		o.t.Fatalf("session answered %d %s", w.Code, w.Header().Get("Location"))
	}
	if a.Code != http.StatusOK && a.Code != http.StatusUnauthorized {
		o.t.Fatalf("API answered %d", a.Code)
	}
	return w.Code == http.StatusOK, a.Code == http.StatusOK
}

// endedEntries returns the reasons of the auth.provider_check_ended
// entries about userID.
func (o *offboardEnv) endedEntries(userID string) []string {
	o.t.Helper()
	es, err := o.svc.Trail(o.ctx, o.users["anna"].Actor(), incident.AuditFilter{})
	if err != nil {
		o.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if e.Action == string(incident.ActionProviderCheckEnded) && e.Details["user_id"] == userID {
			out = append(out, e.Details["reason"])
		}
	}
	return out
}

// TestOIDCOffboardingCheck: someone removed at the provider loses their
// Tresor session and API token at the next periodic check, and keeps the
// account; while the provider still accepts someone nothing ends and
// their refresh token rotates; a provider that cannot be reached ends
// nothing.
func TestOIDCOffboardingCheck(t *testing.T) {
	o := newOffboardEnv(t)
	wc, wapi, wiebke := o.signedIn("s-wiebke")
	lc, lapi, lars := o.signedIn("s-lars")

	// Nobody to ask: both signed in at this very moment.
	if rep, err := o.checker.CheckExternalAccounts(o.ctx); err != nil || rep != (incident.ProviderCheck{}) {
		t.Errorf("check right after sign-in = %+v, %v; want nobody asked", rep, err)
	}

	// Still accepted: nothing ends, and the rotated refresh token is
	// stored (the provider spends the old one, so a second check would
	// fail with the old one still stored).
	before := o.identity("s-wiebke").Tokens
	for i := range 2 {
		if rep := o.check(); rep != (incident.ProviderCheck{Confirmed: 2}) {
			t.Fatalf("check %d while accepted = %+v, want both confirmed", i+1, rep)
		}
		for _, c := range [][2]*client{{wc, wapi}, {lc, lapi}} {
			if s, a := o.works(c[0], c[1]); !s || !a {
				t.Fatalf("after check %d of accepted people: session %t, token %t; want both working", i+1, s, a)
			}
		}
	}
	after := o.identity("s-wiebke").Tokens
	if after.RefreshSealed == "" || after.RefreshSealed == before.RefreshSealed || !after.CheckedAt.Equal(o.clock.Now()) {
		t.Errorf("tokens after the checks = %+v, want a new refresh token checked now", after)
	}

	// The provider answers 503: nothing ends, asked again next time.
	o.p.Fail(oidctest.TokenPath, http.StatusServiceUnavailable)
	if rep := o.check(); !rep.Unreachable || rep.Ended != 0 {
		t.Errorf("check with the provider failing = %+v, want unreachable and nothing ended", rep)
	}
	o.p.Fail(oidctest.TokenPath, 0)
	for _, c := range [][2]*client{{wc, wapi}, {lc, lapi}} {
		if s, a := o.works(c[0], c[1]); !s || !a {
			t.Fatalf("after the provider failed: session %t, token %t; want both working", s, a)
		}
	}
	if !strings.Contains(o.log.String(), "provider unreachable") || strings.Contains(o.log.String(), "chosen by the test") {
		t.Errorf("log does not record the unreachable provider by class only:\n%s", o.log)
	}

	// Removed at the provider: session and token end, the account stays.
	o.p.Remove("s-wiebke")
	if rep := o.check(); rep != (incident.ProviderCheck{Confirmed: 1, Ended: 1}) {
		t.Errorf("check after the removal = %+v, want one ended, one confirmed", rep)
	}
	if s, a := o.works(wc, wapi); s || a {
		t.Errorf("after the removal: session %t, token %t; want both ended (401 for the token)", s, a)
	}
	if s, a := o.works(lc, lapi); !s || !a {
		t.Errorf("someone else's access ended too: session %t, token %t", s, a)
	}
	var acc incident.User
	if err := o.store.View(o.ctx, func(tx incident.Tx) (err error) { acc, err = tx.User(o.ctx, wiebke.ID); return }); err != nil || acc.Disabled {
		t.Errorf("account after the removal = disabled %t, %v; want it kept as it was", acc.Disabled, err)
	}
	if got := o.endedEntries(wiebke.ID); len(got) != 1 || got[0] != string(incident.CheckRefreshRefused) {
		t.Errorf("audit entries = %v, want one with reason refresh_refused", got)
	}
	if tok := o.identity("s-wiebke").Tokens; tok.RefreshSealed != "" {
		t.Errorf("the refused refresh token is still stored")
	}
	// Nothing left to check for her: no further entry.
	if rep := o.check(); rep != (incident.ProviderCheck{Confirmed: 1}) {
		t.Errorf("next check = %+v, want only Lars confirmed", rep)
	}

	// Moved out of every mapped group: ended, reason not_mapped.
	o.p.SetUser(oidctest.User{Subject: "s-lars", Username: "lars@traeger.example.org", Name: "Lars Leitung", Groups: []string{"alle"}})
	if rep := o.check(); rep != (incident.ProviderCheck{Ended: 1}) {
		t.Errorf("check after the group change = %+v, want one ended", rep)
	}
	if s, a := o.works(lc, lapi); s || a {
		t.Errorf("after the group change: session %t, token %t; want both ended", s, a)
	}
	if got := o.endedEntries(lars.ID); len(got) != 1 || got[0] != string(incident.CheckNotMapped) {
		t.Errorf("audit entries = %v, want one with reason not_mapped", got)
	}
}

// TestOIDCOffboardingCheckRoleAndNoRefreshToken: a role changed at the
// provider ends the old role's access at the check; an account whose
// provider issued no refresh token cannot be checked, so its access ends
// at the check too.
func TestOIDCOffboardingCheckRoleAndNoRefreshToken(t *testing.T) {
	o := newOffboardEnv(t)
	wc, wapi, wiebke := o.signedIn("s-wiebke")
	o.p.SetUser(oidctest.User{Subject: "s-wiebke", Username: "wiebke@traeger.example.org", Name: "Wiebke Wagner", Groups: []string{"tresor-leitung"}})
	if rep := o.check(); rep != (incident.ProviderCheck{Ended: 1}) {
		t.Errorf("check after the role change = %+v", rep)
	}
	if s, a := o.works(wc, wapi); s || a {
		t.Errorf("after the role change: session %t, token %t; want both ended", s, a)
	}
	if got := o.endedEntries(wiebke.ID); len(got) != 1 || got[0] != string(incident.CheckRoleChanged) {
		t.Errorf("audit entries = %v, want role_changed", got)
	}
	// The new role applies at the next sign-in.
	c, _, u := o.signedIn("s-wiebke")
	if u.Role != incident.RoleSupervisor {
		t.Errorf("role after signing in again = %s", u.Role)
	}
	if w := c.get("/approvals"); w.Code != http.StatusOK {
		t.Errorf("approvals = %d", w.Code)
	}

	// A provider that issued no refresh token.
	nc, napi, _ := o.signedIn("s-lars")
	id := o.identity("s-lars")
	tok := id.Tokens
	tok.RefreshSealed = ""
	if err := o.store.Tx(o.ctx, func(tx incident.Tx) error { return tx.SetExternalTokens(o.ctx, id.Issuer, id.Subject, tok) }); err != nil {
		t.Fatal(err)
	}
	if rep := o.check(); rep.Ended != 1 {
		t.Errorf("check = %+v, want the account without refresh token ended", rep)
	}
	if s, a := o.works(nc, napi); s || a {
		t.Errorf("without a refresh token: session %t, token %t; want both ended", s, a)
	}
	if got := o.endedEntries(id.UserID); len(got) != 1 || got[0] != string(incident.CheckNoRefreshToken) {
		t.Errorf("audit entries = %v, want no_refresh_token", got)
	}
}

// TestOIDCOffboardingCheckProviderGone: a provider that cannot be reached
// at all (its server stopped) ends nothing.
func TestOIDCOffboardingCheckProviderGone(t *testing.T) {
	o := newOffboardEnv(t)
	wc, wapi, _ := o.signedIn("s-wiebke")
	o.p.Close()
	if rep := o.check(); !rep.Unreachable || rep.Ended != 0 || rep.Confirmed != 0 {
		t.Errorf("check with the provider gone = %+v, want unreachable", rep)
	}
	if s, a := o.works(wc, wapi); !s || !a {
		t.Errorf("with the provider gone: session %t, token %t; want both working", s, a)
	}
}

// TestOIDCTokensSealed: the identity provider's tokens are in the
// database only sealed, and the latest ID token is there for signing out
// at the provider.
func TestOIDCTokensSealed(t *testing.T) {
	o := newOffboardEnv(t)
	_, _, wiebke := o.signedIn("s-wiebke")
	idToken, err := o.svc.ProviderLogoutHint(o.ctx, wiebke.ID)
	if err != nil || strings.Count(idToken, ".") != 2 {
		t.Fatalf("ProviderLogoutHint = %d characters, %v; want the ID token", len(idToken), err)
	}
	id := o.identity("s-wiebke")
	sl := o.tokenSealer()
	refresh, err := sl.Open(id.Tokens.RefreshSealed, incident.PurposeRefreshToken, id.Issuer+"\x00"+id.Subject)
	if err != nil || len(refresh) == 0 {
		t.Fatalf("stored refresh token does not open: %v", err)
	}
	// Bound to the identity: it does not open for another.
	if _, err := sl.Open(id.Tokens.RefreshSealed, incident.PurposeRefreshToken, id.Issuer+"\x00s-lars"); err == nil {
		t.Errorf("the sealed refresh token opens for another person")
	}
	db, err := o.store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	var rawRefresh, rawID string
	if err := db.QueryRowContext(o.ctx, `SELECT refresh_sealed, id_token_sealed FROM external_identities WHERE subject = ?`, "s-wiebke").Scan(&rawRefresh, &rawID); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(idToken, ".")
	for name, col := range map[string]string{"refresh_sealed": rawRefresh, "id_token_sealed": rawID} {
		if col == "" || strings.Contains(col, string(refresh)) || strings.Contains(col, parts[1]) || strings.Contains(col, parts[2]) {
			t.Errorf("%s holds a plain token (or nothing)", name)
		}
	}
	if _, err := o.svc.ProviderLogoutHint(o.ctx, o.users["wanda"].ID); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("hint of a local account: %v, want not found", err)
	}
	if strings.Contains(o.log.String(), string(refresh)) || strings.Contains(o.log.String(), parts[2]) {
		t.Errorf("a token reached the log")
	}
}

// onMessage is a log handler that calls fn when a record with the given
// message is written: a test learns when Work did something without
// sleeping.
type onMessage struct {
	slog.Handler
	msg string
	fn  func()
}

func (h onMessage) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Message == h.msg {
		h.fn()
	}
	return err
}

// TestOIDCOffboardingCheckRunsInWork: the job worker runs the check by
// itself when it starts (and then every oidc.offboarding_check_interval).
func TestOIDCOffboardingCheckRunsInWork(t *testing.T) {
	pol, err := policies.Parse("oidc.yaml", []byte(oidcTestPolicy+"  provider_enforces_mfa: true\n  offboarding_check_interval: 5m\n"))
	if err != nil {
		t.Fatal(err)
	}
	o := newOffboardEnv(t)
	wc, wapi, _ := o.signedIn("s-wiebke")
	o.p.Remove("s-wiebke")
	o.clock.Advance(time.Minute)

	rp, err := oidcrp.New(oidcrp.Config{Issuer: o.p.Issuer, ClientID: o.p.ClientID, ClientSecret: o.p.ClientSecret,
		RedirectURL: oidcRedirect, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(o.ctx)
	defer cancel()
	runs := 0
	logger := slog.New(onMessage{Handler: slog.NewTextHandler(&lockedWriter{w: o.log}, nil), msg: "identity provider check", fn: func() {
		runs++
		cancel()
	}})
	worker := incident.NewService(o.store, pol, fakeVault{}, fakeMessenger{}, incident.WithClock(o.clock.Now),
		incident.WithTokenSealer(o.tokenSealer()), incident.WithProviderChecker(rp), incident.WithLogger(logger))
	done := make(chan struct{})
	go func() {
		defer close(done)
		worker.Work(ctx, time.Hour)
	}()
	<-done
	if runs != 1 || !strings.Contains(o.log.String(), "ended=1") {
		t.Fatalf("Work ran the check %d times; log:\n%s", runs, o.log)
	}
	if s, a := o.works(wc, wapi); s || a {
		t.Errorf("after Work's check: session %t, token %t; want both ended", s, a)
	}
}

// duringRecheck is the real relying party with something happening while
// the provider is being asked.
type duringRecheck struct {
	incident.ProviderChecker
	fn func()
}

func (d duringRecheck) Recheck(ctx context.Context, subject, refreshToken string) (incident.ProviderAnswer, error) {
	ans, err := d.ProviderChecker.Recheck(ctx, subject, refreshToken)
	d.fn()
	return ans, err
}

// TestOIDCOffboardingCheckSignInMeanwhile: an answer about a refresh token
// that a sign-in replaced while the provider was being asked decides
// nothing: the newer sign-in stands.
func TestOIDCOffboardingCheckSignInMeanwhile(t *testing.T) {
	o := newOffboardEnv(t)
	first, api, _ := o.signedIn("s-wiebke")
	rp, err := oidcrp.New(oidcrp.Config{Issuer: o.p.Issuer, ClientID: o.p.ClientID, ClientSecret: o.p.ClientSecret,
		RedirectURL: oidcRedirect, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	var second *client
	checker := incident.NewService(o.store, o.svc.Policy(), fakeVault{}, fakeMessenger{}, incident.WithClock(o.clock.Now),
		incident.WithTokenSealer(o.tokenSealer()), incident.WithProviderChecker(duringRecheck{rp, func() {
			// The token endpoint refused (a broken answer, which would
			// end access); meanwhile she signs in again.
			o.p.Fail(oidctest.TokenPath, 0)
			o.clock.Advance(time.Second)
			second = o.anon()
			if resp, _ := oidcSignIn(t, second, o.p, "s-wiebke"); resp.StatusCode != http.StatusOK {
				t.Fatalf("sign-in during the check = %d", resp.StatusCode)
			}
		}}))
	o.clock.Advance(incident.DefaultProviderCheckInterval)
	o.p.Fail(oidctest.TokenPath, http.StatusBadRequest)
	rep, err := checker.CheckExternalAccounts(o.ctx)
	if err != nil || rep.Ended != 0 {
		t.Fatalf("check = %+v, %v; want nothing ended", rep, err)
	}
	for name, c := range map[string]*client{"first": first, "second": second} {
		if s, a := o.works(c, api); !s || !a {
			t.Errorf("%s session %t, token %t; want both working", name, s, a)
		}
	}
}
