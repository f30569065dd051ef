package oidcrp_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
)

const redirect = "http://127.0.0.1:1/auth/oidc/callback" // never reached: the browser stops there

// browser follows the provider's redirects until it is sent to redirect,
// and returns that address's query.
func browse(t *testing.T, start string) url.Values {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), redirect) {
		t.Fatalf("provider answered %s, location %v (%v)", resp.Status, loc, err)
	}
	return loc.Query()
}

func newRP(t *testing.T, p *oidctest.Provider) *oidcrp.RP {
	t.Helper()
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: redirect, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

func TestSignInAgainstProvider(t *testing.T) {
	ctx := context.Background()
	p := oidctest.Start(t, redirect)
	p.SetUser(oidctest.User{Subject: "u-1", Username: "wanda.weber@traeger.example.org", Name: "Wanda Weber",
		Email: "wanda.weber@traeger.example.org", Groups: []string{"alle", "tresor-fachkraft"}})
	p.SignInAs("u-1")
	rp := newRP(t, p)

	start, flow, err := rp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	au, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" ||
		q.Get("code_challenge") == flow.Verifier || q.Get("redirect_uri") != redirect || q.Get("response_type") != "code" {
		t.Errorf("authorization request %v does not carry state, nonce and an S256 challenge", q)
	}
	back, err := oidcrp.DecodeFlow(flow.Encode())
	if err != nil || back != flow {
		t.Fatalf("flow round trip = %+v, %v; want %+v", back, err, flow)
	}

	got, err := rp.Finish(ctx, flow, browse(t, start))
	if err != nil {
		t.Fatal(err)
	}
	want := incident.ExternalSignIn{Issuer: p.Issuer, Subject: "u-1", ClaimValues: []string{"alle", "tresor-fachkraft"},
		PreferredUsername: "wanda.weber@traeger.example.org", DisplayName: "Wanda Weber", Email: "wanda.weber@traeger.example.org"}
	if got.Issuer != want.Issuer || got.Subject != want.Subject || !slices.Equal(got.ClaimValues, want.ClaimValues) ||
		got.PreferredUsername != want.PreferredUsername || got.DisplayName != want.DisplayName || got.Email != want.Email {
		t.Errorf("Finish = %+v, want %+v", got, want)
	}
}

func TestFinishRefusals(t *testing.T) {
	ctx := context.Background()
	p := oidctest.Start(t, redirect)
	p.SetUser(oidctest.User{Subject: "u-1", Username: "wanda", Name: "Wanda Weber", Groups: []string{"tresor-fachkraft"}})
	p.SignInAs("u-1")
	rp := newRP(t, p)

	t.Run("replayed code", func(t *testing.T) {
		start, flow, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		q := browse(t, start)
		if _, err := rp.Finish(ctx, flow, q); err != nil {
			t.Fatal(err)
		}
		if _, err := rp.Finish(ctx, flow, q); !errors.Is(err, oidcrp.ErrRejected) {
			t.Errorf("second use of the code: %v, want ErrRejected", err)
		}
	})
	t.Run("wrong state", func(t *testing.T) {
		start, flow, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, other, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		q := browse(t, start)
		if _, err := rp.Finish(ctx, other, q); !errors.Is(err, oidcrp.ErrFlow) {
			t.Errorf("answer to another flow: %v, want ErrFlow", err)
		}
		if _, err := rp.Finish(ctx, oidcrp.Flow{}, q); !errors.Is(err, oidcrp.ErrFlow) {
			t.Errorf("answer without a flow: %v, want ErrFlow", err)
		}
		// The code is still good for its own flow, with its own verifier only.
		stolen := flow
		stolen.Verifier = other.Verifier
		if _, err := rp.Finish(ctx, stolen, q); !errors.Is(err, oidcrp.ErrRejected) {
			t.Errorf("code with another PKCE verifier: %v, want ErrRejected", err)
		}
	})
	t.Run("flow too old", func(t *testing.T) {
		start, flow, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		q := browse(t, start)
		flow.Started = flow.Started.Add(-oidcrp.FlowTTL - time.Minute)
		if _, err := rp.Finish(ctx, flow, q); !errors.Is(err, oidcrp.ErrFlow) {
			t.Errorf("old flow: %v, want ErrFlow", err)
		}
	})
	t.Run("provider error", func(t *testing.T) {
		_, flow, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for code, want := range map[string]string{"access_denied": "access_denied", "<script>": "other"} {
			q := url.Values{"state": {flow.State}, "error": {code}, "error_description": {"raw text from the provider"}}
			_, err := rp.Finish(ctx, flow, q)
			var pe *oidcrp.ProviderError
			if !errors.As(err, &pe) || pe.Code != want || strings.Contains(err.Error(), "raw text") {
				t.Errorf("error=%s: %v, want ProviderError %s", code, err, want)
			}
		}
	})
}

func TestDecodeFlow(t *testing.T) {
	for _, s := range []string{"", "a.b.c.d", "....", strings.Repeat("A", 43) + "." + strings.Repeat("A", 43) + "." + strings.Repeat("A", 43) + ".x"} {
		if _, err := oidcrp.DecodeFlow(s); !errors.Is(err, oidcrp.ErrFlow) {
			t.Errorf("DecodeFlow(%q) = %v, want ErrFlow", s, err)
		}
	}
}

func FuzzDecodeFlow(f *testing.F) {
	f.Add(strings.Repeat("A", 43) + "." + strings.Repeat("B", 43) + "." + strings.Repeat("C", 43) + ".1700000000")
	f.Add("x")
	f.Fuzz(func(t *testing.T, s string) {
		fl, err := oidcrp.DecodeFlow(s)
		if err == nil && fl.Encode() != s {
			// Encode is canonical for what DecodeFlow accepts, except
			// for numbers written differently ("+1", "01").
			if _, err2 := oidcrp.DecodeFlow(fl.Encode()); err2 != nil {
				t.Errorf("re-encoded flow does not decode: %v", err2)
			}
		}
	})
}

// TestUnreachableProvider: discovery failing is ErrUnavailable, and is
// tried again on the next sign-in.
func TestUnreachableProvider(t *testing.T) {
	rp, err := oidcrp.New(oidcrp.Config{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURL: redirect, Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := rp.Start(context.Background()); !errors.Is(err, incident.ErrUnavailable) {
			t.Errorf("Start = %v, want ErrUnavailable", err)
		}
	}
}

// TestEndSessionURL: RP-initiated logout goes to the end_session_endpoint
// the real provider's discovery document names, with the client id, the
// registered post-logout address and the ID token hint; the provider
// accepts it and sends the browser to that address.
func TestEndSessionURL(t *testing.T) {
	ctx := context.Background()
	const signedOut = "http://127.0.0.1:1/signed-out"
	p := oidctest.Start(t, redirect)
	p.AllowPostLogoutRedirect(signedOut)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: p.Issuer, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: redirect, PostLogoutRedirectURL: signedOut, Claim: oidctest.GroupsClaim, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if o := rp.EndSessionOrigin(); o != "" {
		t.Errorf("origin before discovery = %q, want none", o)
	}
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	resp, err := http.Get(p.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc.EndSession == "" {
		t.Fatalf("the provider's discovery names no end_session_endpoint (%v)", err)
	}

	got, err := rp.EndSessionURL(ctx, p.Issuer, "")
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if base := u.Scheme + "://" + u.Host + u.Path; base != doc.EndSession {
		t.Errorf("end-session URL %s, want the endpoint %s", base, doc.EndSession)
	}
	want := url.Values{"client_id": {p.ClientID}, "post_logout_redirect_uri": {signedOut}}
	if q := u.Query(); !reflect.DeepEqual(q, want) {
		t.Errorf("end-session query = %v, want %v", q, want)
	}
	if o, want := rp.EndSessionOrigin(), p.Issuer; o != want {
		t.Errorf("EndSessionOrigin = %q, want %q", o, want)
	}
	withHint, err := rp.EndSessionURL(ctx, p.Issuer, "the.id.token")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := url.Parse(withHint); err != nil || u.Query().Get("id_token_hint") != "the.id.token" {
		t.Errorf("end-session URL with hint = %s", withHint)
	}

	// The provider takes it and sends the browser back to Tresor.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = c.Get(got)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != signedOut {
		t.Errorf("provider's end_session answered %s to %q, want a redirect to %s", resp.Status, loc, signedOut)
	}

	if _, err := rp.EndSessionURL(ctx, "https://another.example.org", ""); !errors.Is(err, oidcrp.ErrNoEndSession) {
		t.Errorf("account of another issuer: %v, want ErrNoEndSession", err)
	}
	// Without a post-logout address there is no RP-initiated logout.
	off := newRP(t, p)
	if _, err := off.EndSessionURL(ctx, p.Issuer, ""); !errors.Is(err, oidcrp.ErrNoEndSession) || off.EndSessionOrigin() != "" {
		t.Errorf("no post-logout address: %v, origin %q", err, off.EndSessionOrigin())
	}
}

// TestEndSessionNotOffered: a provider whose discovery document names no
// end_session_endpoint (the hostile issuer's) gives ErrNoEndSession and
// no origin for the CSP.
func TestEndSessionNotOffered(t *testing.T) {
	h := oidctest.StartHostile(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: redirect,
		PostLogoutRedirectURL: "http://127.0.0.1:1/signed-out", Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.Discover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := rp.EndSessionURL(context.Background(), h.Issuer, ""); !errors.Is(err, oidcrp.ErrNoEndSession) || rp.EndSessionOrigin() != "" {
		t.Errorf("EndSessionURL = %v, origin %q; want ErrNoEndSession and none", err, rp.EndSessionOrigin())
	}
}
