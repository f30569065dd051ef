package oidcrp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
)

// TestStepUpAgainstProvider: a step-up asks the real provider for a new
// sign-in (prompt=login) no older than max_age, and its answer says when
// the person signed in.
func TestStepUpAgainstProvider(t *testing.T) {
	ctx := context.Background()
	p := oidctest.Start(t, redirect)
	p.SetUser(oidctest.User{Subject: "u-1", Username: "lea", Name: "Lea Leitung", Groups: []string{"tresor-leitung"}})
	p.SignInAs("u-1")
	rp := newRP(t, p)

	req := oidcrp.StepUpRequest{StepUp: oidcrp.StepUp{UserID: "01HZX0USER", Return: "/incidents/01HZX0INC"}, MaxAge: 5 * time.Minute, ACR: []string{"gold", "silver"}}
	start, flow, err := rp.StartStepUp(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	au, err := url.Parse(start)
	if err != nil {
		t.Fatal(err)
	}
	q := au.Query()
	if q.Get("prompt") != "login" || q.Get("max_age") != "300" || q.Get("acr_values") != "gold silver" ||
		q.Get("state") != flow.State || q.Get("nonce") != flow.Nonce || q.Get("code_challenge_method") != "S256" {
		t.Errorf("step-up authorization request %v, want prompt=login, max_age=300, acr_values, state, nonce and PKCE", q)
	}
	if flow.StepUp == nil || *flow.StepUp != req.StepUp {
		t.Fatalf("flow = %+v, want the step-up's account and return path", flow)
	}
	back, err := oidcrp.DecodeFlow(flow.Encode())
	if err != nil || back.StepUp == nil || *back.StepUp != *flow.StepUp || back.State != flow.State || !back.Started.Equal(flow.Started) {
		t.Fatalf("flow round trip = %+v, %v; want %+v", back, err, flow)
	}

	got, err := rp.Finish(ctx, flow, browse(t, start))
	if err != nil {
		t.Fatal(err)
	}
	prompt, maxAge := p.LastLogin()
	// The provider took both; with prompt=login it treats max_age as 0
	// (a new sign-in in any case), as OpenID Connect Core 3.1.2.1 allows.
	if !slices.Contains(prompt, "login") || maxAge == nil {
		t.Errorf("the provider saw prompt %v, max_age %v; want login and a max_age", prompt, maxAge)
	}
	if got.Subject != "u-1" || got.AuthTime.Before(flow.Started) || got.AuthTime.After(time.Now()) || !slices.Contains(got.AMR, "pwd") {
		t.Errorf("Finish = %+v; want u-1 with auth_time after %v and amr pwd", got, flow.Started)
	}

	// A sign-in asks for nothing of the kind.
	start, _, err = rp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if au, err = url.Parse(start); err != nil {
		t.Fatal(err)
	}
	if q := au.Query(); q.Has("prompt") || q.Has("max_age") || q.Has("acr_values") {
		t.Errorf("sign-in authorization request %v asks for a step-up", q)
	}
}

// TestStepUpReturnPath: a step-up goes back only to a page of Tresor's own.
func TestStepUpReturnPath(t *testing.T) {
	rp, err := oidcrp.New(oidcrp.Config{Issuer: "http://127.0.0.1:1", ClientID: "c", RedirectURL: redirect, Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/approvals", "/incidents/01HZX0INC", "/account-requests"} {
		if !oidcrp.LocalPath(p) {
			t.Errorf("LocalPath(%q) = false", p)
		}
	}
	for _, p := range []string{"", "approvals", "//evil.example.org", "/\\evil.example.org", "https://evil.example.org/", "/a?next=//x",
		"/a/../b", "/a#x", "/ä", "/" + strings.Repeat("a", 200)} {
		if oidcrp.LocalPath(p) {
			t.Errorf("LocalPath(%q) = true", p)
		}
		_, _, err := rp.StartStepUp(context.Background(), oidcrp.StepUpRequest{StepUp: oidcrp.StepUp{UserID: "u", Return: p}, MaxAge: time.Minute})
		if !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("StartStepUp to %q = %v, want ErrInvalidInput before reaching the provider", p, err)
		}
	}
	for _, req := range []oidcrp.StepUpRequest{
		{StepUp: oidcrp.StepUp{Return: "/approvals"}, MaxAge: time.Minute},
		{StepUp: oidcrp.StepUp{UserID: "u", Return: "/approvals"}},
	} {
		if _, _, err := rp.StartStepUp(context.Background(), req); !errors.Is(err, incident.ErrInvalidInput) {
			t.Errorf("StartStepUp(%+v) = %v, want ErrInvalidInput", req, err)
		}
	}
	// A cookie whose return path was changed is no flow.
	good := strings.Repeat("A", 43) + "." + strings.Repeat("B", 43) + "." + strings.Repeat("C", 43) + ".1700000000.s."
	for _, ret := range []string{"//evil.example.org", "https://evil.example.org"} {
		s := good + "dQ." + b64(ret)
		if _, err := oidcrp.DecodeFlow(s); !errors.Is(err, oidcrp.ErrFlow) {
			t.Errorf("flow returning to %q: %v, want ErrFlow", ret, err)
		}
	}
	if f, err := oidcrp.DecodeFlow(good + "dQ." + b64("/approvals")); err != nil || f.StepUp == nil || f.StepUp.UserID != "u" || f.StepUp.Return != "/approvals" {
		t.Errorf("step-up flow = %+v, %v", f, err)
	}
}

// TestStepUpClaimsFromHostileIssuer: Finish hands on auth_time, acr and
// amr as the token states them (the domain judges them), and a token
// without auth_time gives none.
func TestStepUpClaimsFromHostileIssuer(t *testing.T) {
	ctx := context.Background()
	h := oidctest.StartHostile(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: redirect, Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	stepUp := func(t *testing.T) (oidcrp.Flow, incident.ExternalSignIn) {
		t.Helper()
		start, flow, err := rp.StartStepUp(ctx, oidcrp.StepUpRequest{StepUp: oidcrp.StepUp{UserID: "u", Return: "/approvals"}, MaxAge: 2 * time.Minute, ACR: []string{"gold"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := rp.Finish(ctx, flow, browse(t, start))
		if err != nil {
			t.Fatal(err)
		}
		return flow, got
	}
	flow, got := stepUp(t)
	if q := h.LastAuthorize(); q.Get("prompt") != "login" || q.Get("max_age") != "120" || q.Get("acr_values") != "gold" {
		t.Errorf("authorization request %v", q)
	}
	if got.AuthTime.Before(flow.Started) || got.ACR != "" || got.AMR != nil {
		t.Errorf("behaving issuer: %+v", got)
	}
	old := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h.Tamper(func(c, _ map[string]any) {
		c["auth_time"] = old.Unix()
		c["acr"] = "silver"
		c["amr"] = []string{"pwd", "otp"}
	})
	if _, got = stepUp(t); !got.AuthTime.Equal(old) || got.ACR != "silver" || !slices.Equal(got.AMR, []string{"pwd", "otp"}) {
		t.Errorf("tampered claims: %+v", got)
	}
	for name, v := range map[string]any{"missing": nil, "a string": "1700000000", "negative": -5} {
		h.Tamper(func(c, _ map[string]any) {
			if v == nil {
				delete(c, "auth_time")
			} else {
				c["auth_time"] = v
			}
		})
		if _, got = stepUp(t); !got.AuthTime.IsZero() {
			t.Errorf("auth_time %s: %v, want none", name, got.AuthTime)
		}
	}
	h.Tamper(nil)
}

func b64(s string) string { return strings.TrimRight(base64URL(s), "=") }

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
