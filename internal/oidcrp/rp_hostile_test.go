package oidcrp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
)

// TestHostileIssuer: what a conforming provider never sends is refused.
func TestHostileIssuer(t *testing.T) {
	ctx := context.Background()
	h := oidctest.StartHostile(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: redirect,
		Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func(t *testing.T) error {
		t.Helper()
		start, flow, err := rp.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rp.Finish(ctx, flow, browse(t, start))
		return err
	}

	// It behaves by default, so each refusal below is the tampering's.
	start, flow, err := rp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rp.Finish(ctx, flow, browse(t, start))
	if err != nil || got.Subject != h.Subject || got.Issuer != h.Issuer || !slices.Equal(got.ClaimValues, h.Groups) {
		t.Fatalf("well-behaved sign-in = %+v, %v", got, err)
	}

	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		why    string // what the refusal names, so that it is this tampering's
		tamper func(claims, header map[string]any)
		sign   func(t testing.TB, header, claims map[string]any) string
	}{
		{name: "wrong nonce", why: "nonce", tamper: func(c, _ map[string]any) { c["nonce"] = "another-sign-in" }},
		{name: "no nonce", why: "nonce", tamper: func(c, _ map[string]any) { delete(c, "nonce") }},
		{name: "wrong audience", why: "audience", tamper: func(c, _ map[string]any) { c["aud"] = "another-client" }},
		{name: "wrong issuer", why: "different provider", tamper: func(c, _ map[string]any) { c["iss"] = "https://evil.example.org" }},
		{name: "expired", why: "expired", tamper: func(c, _ map[string]any) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() }},
		{name: "alg none", why: `algorithm "none"`, sign: oidctest.Unsigned},
		{name: "signed by another key", why: "signature", sign: func(t testing.TB, header, claims map[string]any) string {
			return oidctest.SignES256(t, otherKey, header, claims)
		}},
		{name: "garbage token", why: "malformed", sign: func(testing.TB, map[string]any, map[string]any) string { return "not.a.token" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.Tamper(tc.tamper)
			h.SignWith(tc.sign)
			t.Cleanup(func() { h.Tamper(nil); h.SignWith(nil) })
			err := signIn(t)
			if !errors.Is(err, oidcrp.ErrRejected) {
				t.Fatalf("%s: %v, want ErrRejected", tc.name, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("%s: refused for another reason: %v", tc.name, err)
			}
		})
	}
}
