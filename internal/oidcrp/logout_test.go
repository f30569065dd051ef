package oidcrp_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
)

func TestVerifyLogout(t *testing.T) {
	ctx := context.Background()
	h := oidctest.StartHostile(t)
	rp, err := oidcrp.New(oidcrp.Config{Issuer: h.Issuer, ClientID: h.ClientID, ClientSecret: "x", RedirectURL: redirect,
		Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	lo, err := rp.VerifyLogout(ctx, h.LogoutToken(t, "h-1", nil))
	if err != nil || lo.Issuer != h.Issuer || lo.Subject != "h-1" || lo.TokenID == "" || !lo.ExpiresAt.After(lo.IssuedAt) ||
		time.Since(lo.IssuedAt) > time.Minute || lo.IssuedAt.After(time.Now()) {
		t.Fatalf("VerifyLogout = %+v, %v", lo, err)
	}
	// A provider's clock a little ahead is fine.
	ahead := time.Now().Add(oidcrp.MaxSkew / 2).Unix()
	if lo, err := rp.VerifyLogout(ctx, h.LogoutToken(t, "h-1", func(c, _ map[string]any) { c["iat"] = ahead })); err != nil || lo.IssuedAt.Unix() != ahead {
		t.Errorf("iat within the skew: %+v, %v", lo, err)
	}
	for _, tc := range []struct {
		name, why string
		tamper    func(claims, header map[string]any)
	}{
		{"no logout event", "event", func(c, _ map[string]any) { delete(c, "events") }},
		{"an ID token (nonce)", "nonce", func(c, _ map[string]any) { c["nonce"] = "n" }},
		{"no jti", "jti", func(c, _ map[string]any) { delete(c, "jti") }},
		{"wrong audience", "audience", func(c, _ map[string]any) { c["aud"] = "another-client" }},
		{"wrong issuer", "different provider", func(c, _ map[string]any) { c["iss"] = "https://evil.example.org" }},
		{"expired", "expired", func(c, _ map[string]any) { c["exp"] = time.Now().Add(-10 * time.Minute).Unix() }},
		{"alg none", "none", func(_, h map[string]any) { h["alg"] = "none" }},
		{"only a session id", "no subject", func(c, _ map[string]any) { delete(c, "sub"); c["sid"] = "s" }},
		{"no iat", "no iat", func(c, _ map[string]any) { delete(c, "iat") }},
		{"iat ahead beyond the skew", "future", func(c, _ map[string]any) {
			c["iat"] = time.Now().Add(oidcrp.MaxSkew + time.Minute).Unix()
			c["exp"] = time.Now().Add(10 * time.Minute).Unix()
		}},
	} {
		_, err := rp.VerifyLogout(ctx, h.LogoutToken(t, "h-1", tc.tamper))
		if !errors.Is(err, oidcrp.ErrRejected) || !strings.Contains(err.Error(), tc.why) {
			t.Errorf("%s: %v, want ErrRejected naming %q", tc.name, err, tc.why)
		}
	}
}
