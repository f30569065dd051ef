package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/internal/oidcrp/oidctest"
	"github.com/tresor-evidence/tresor/policies"
)

// recordsTo is a log handler that hands every record's message to a
// channel, so that a test can wait for a line without sleeping.
type recordsTo chan string

func (h recordsTo) Enabled(context.Context, slog.Level) bool      { return true }
func (h recordsTo) Handle(_ context.Context, r slog.Record) error { h <- r.Message; return nil }
func (h recordsTo) WithAttrs([]slog.Attr) slog.Handler            { return h }
func (h recordsTo) WithGroup(string) slog.Handler                 { return h }

// TestIdentityProviderDiscoversAtStart: serve's relying party reads the
// provider's discovery document in the background, so that the origin of
// its end-session endpoint is known to the pages' CSP before the first
// sign-out; a provider that is down does not stop the start.
func TestIdentityProviderDiscoversAtStart(t *testing.T) {
	pol, err := policies.Parse("oidc.yaml", []byte("oidc:\n  claim: groups\n  roles:\n    tresor-fachkraft: worker\n"))
	if err != nil {
		t.Fatal(err)
	}
	p := oidctest.Start(t, "http://127.0.0.1:1/auth/oidc/callback")
	for _, tc := range []struct {
		name, issuer, line, origin string
	}{
		{"provider up", p.Issuer, "identity provider discovered", p.Issuer},
		{"provider down", "http://127.0.0.1:1", "identity provider not reachable at start; tried again at the next sign-in or sign-out", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"TRESOR_OIDC_ISSUER": tc.issuer, "TRESOR_OIDC_CLIENT_ID": p.ClientID,
				"TRESOR_OIDC_CLIENT_SECRET": p.ClientSecret, "TRESOR_OIDC_NAME": "Träger-Login", "TRESOR_PUBLIC_URL": "http://127.0.0.1:1"}
			cfg, err := loadConfig(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			lines := make(recordsTo, 1)
			idp, err := identityProvider(cfg, pol, time.Now, slog.New(lines))
			if err != nil {
				t.Fatalf("identityProvider: %v", err)
			}
			if got := <-lines; got != tc.line {
				t.Fatalf("logged %q, want %q", got, tc.line)
			}
			if got := idp.EndSessionOrigin(); got != tc.origin {
				t.Errorf("end-session origin after start = %q, want %q", got, tc.origin)
			}
		})
	}
}
