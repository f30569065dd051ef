package oidcrp_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/internal/oidcrp"
	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
)

// signIn runs a sign-in of the provider's user sub and returns what
// Finish handed over.
func signIn(t *testing.T, rp *oidcrp.RP, p *oidctest.Provider, sub string) incident.ExternalSignIn {
	t.Helper()
	p.SignInAs(sub)
	start, flow, err := rp.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in, err := rp.Finish(context.Background(), flow, browse(t, start))
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestRecheck: the periodic check's questions to a real provider: the
// refresh token is redeemed and rotated, the claim values are current,
// and a removed person, a refused userinfo and an unreachable provider
// are told apart.
func TestRecheck(t *testing.T) {
	ctx := context.Background()
	p := oidctest.Start(t, redirect)
	wiebke := oidctest.User{Subject: "u-1", Username: "wiebke", Name: "Wiebke Wagner", Groups: []string{"tresor-fachkraft"}}
	p.SetUser(wiebke)
	rp := newRP(t, p)
	if rp.Issuer() != p.Issuer {
		t.Errorf("Issuer = %q, want %q", rp.Issuer(), p.Issuer)
	}

	in := signIn(t, rp, p, "u-1")
	if in.RefreshToken == "" || strings.Count(in.IDToken, ".") != 2 {
		t.Fatalf("sign-in handed over refresh token %t, ID token %t; want both (offline_access)", in.RefreshToken != "", in.IDToken != "")
	}

	ans, err := rp.Recheck(ctx, "u-1", in.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ans.ClaimValues, []string{"tresor-fachkraft"}) || ans.RefreshToken == "" || ans.RefreshToken == in.RefreshToken || ans.IDToken == "" {
		t.Fatalf("Recheck = values %v, rotated %t, ID token %t", ans.ClaimValues, ans.RefreshToken != in.RefreshToken, ans.IDToken != "")
	}
	// The provider rotates: the old refresh token is spent.
	if _, err := rp.Recheck(ctx, "u-1", in.RefreshToken); !errors.Is(err, incident.ErrRefreshRefused) {
		t.Errorf("spent refresh token: %v, want ErrRefreshRefused", err)
	}
	rt := ans.RefreshToken

	// Groups changed at the provider: the next check sees them.
	wiebke.Groups = []string{"alle"}
	p.SetUser(wiebke)
	if ans, err = rp.Recheck(ctx, "u-1", rt); err != nil || !slices.Equal(ans.ClaimValues, []string{"alle"}) {
		t.Fatalf("after the group change: %v, %v", ans.ClaimValues, err)
	}
	rt = ans.RefreshToken

	// Another person's token is not taken for this one.
	if _, err := rp.Recheck(ctx, "u-2", rt); !errors.Is(err, oidcrp.ErrRejected) {
		t.Errorf("token of another subject: %v, want ErrRejected", err)
	}
	in = signIn(t, rp, p, "u-1")
	rt = in.RefreshToken

	for _, tc := range []struct {
		name   string
		path   string
		status int
		want   error
	}{
		{"token endpoint down", oidctest.TokenPath, http.StatusServiceUnavailable, incident.ErrUnavailable},
		{"token endpoint throttling", oidctest.TokenPath, http.StatusTooManyRequests, incident.ErrUnavailable},
		{"userinfo down", oidctest.UserinfoPath, http.StatusBadGateway, incident.ErrUnavailable},
		{"userinfo refuses the token", oidctest.UserinfoPath, http.StatusUnauthorized, incident.ErrProviderRefused},
		{"userinfo refuses the person", oidctest.UserinfoPath, http.StatusForbidden, incident.ErrProviderRefused},
		{"userinfo answers nonsense", oidctest.UserinfoPath, http.StatusTeapot, oidcrp.ErrRejected},
	} {
		p.Fail(tc.path, tc.status)
		ans, err := rp.Recheck(ctx, "u-1", rt)
		p.Fail(tc.path, 0)
		if !errors.Is(err, tc.want) || strings.Contains(err.Error(), "chosen by the test") || strings.Contains(err.Error(), rt) {
			t.Errorf("%s: %v, want %v without the provider's text or the token", tc.name, err, tc.want)
		}
		if ans.RefreshToken != "" {
			rt = ans.RefreshToken
		}
		if tc.path == oidctest.UserinfoPath {
			// The refresh itself went through and rotated the token.
			in = signIn(t, rp, p, "u-1")
			rt = in.RefreshToken
		}
	}

	// Removed at the provider: its refresh token is refused.
	p.Remove("u-1")
	if _, err := rp.Recheck(ctx, "u-1", rt); !errors.Is(err, incident.ErrRefreshRefused) {
		t.Errorf("removed person: %v, want ErrRefreshRefused", err)
	}

	// Unreachable.
	p.SetUser(wiebke)
	in = signIn(t, rp, p, "u-1")
	p.Close()
	if _, err := rp.Recheck(ctx, "u-1", in.RefreshToken); !errors.Is(err, incident.ErrUnavailable) {
		t.Errorf("provider stopped: %v, want ErrUnavailable", err)
	}
}
