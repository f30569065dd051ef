// Package accounttest is the conformance suite of account.Store. Every
// implementation runs it; package sqlstore runs it on SQLite always and
// on PostgreSQL when TRESOR_TEST_DATABASE_URL is set.
package accounttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

// Harness is one new, empty, migrated store under test.
type Harness struct {
	// Store runs each call on its own.
	Store account.Store
	// Tx runs fn with the Store of one transaction: what fn writes
	// through it is kept only when fn returns nil.
	Tx func(ctx context.Context, fn func(st account.Store) error) error
	// AddUser creates the account id, which sessions, tokens and second
	// factors belong to.
	AddUser func(t *testing.T, id string)
}

// Run runs the whole suite; open returns a fresh Harness per test.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h Harness)
	}{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionRevoke", testSessionRevoke},
		{"SessionStale", testSessionStale},
		{"SecondFactor", testSecondFactor},
		{"TOTPStepSingleUse", testTOTPStepSingleUse},
		{"RecoveryCodes", testRecoveryCodes},
		{"SessionsJoinTransaction", testSessionsJoinTx},
		{"TokenRoundTrip", testTokenRoundTrip},
		{"TokenRevoke", testTokenRevoke},
		{"TokenTouch", testTokenTouch},
		{"TokensJoinTransaction", testTokensJoinTx},
		{"EndAccess", testEndAccess},
		{"EndAccessBefore", testEndAccessBefore},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 27, 9, 30, 0, 123456000, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var errRollback = errors.New("roll back")

// rolledBack runs change in a transaction that then fails.
func rolledBack(t *testing.T, ctx context.Context, h Harness, change func(account.Store) error) {
	t.Helper()
	if err := h.Tx(ctx, func(st account.Store) error {
		if err := change(st); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Tx: %v, want the rollback error", err)
	}
}

// testEndAccess: every session but the kept ones ends, every token of
// the user is revoked, other users keep theirs.
func testEndAccess(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	h.AddUser(t, "u2")
	for _, s := range []string{"a", "b", "keep"} {
		must(t, h.Store.CreateSession(ctx, session(s, "u1", t0)))
	}
	must(t, h.Store.CreateSession(ctx, session("other", "u2", t0)))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("t1", "u1", t0)))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("t2", "u2", t0)))
	at := t0.Add(time.Hour)
	must(t, account.EndAccess(ctx, h.Store, "u1", at, "keep"))
	for hash, want := range map[string]bool{"a": false, "b": false, "keep": true, "other": true} {
		_, err := h.Store.Session(ctx, hash)
		if want && err != nil || !want && !errors.Is(err, account.ErrNotFound) {
			t.Errorf("session %s: %v, want kept %v", hash, err, want)
		}
	}
	if tok, err := h.Store.APITokenByHash(ctx, "hash-t1"); err != nil || tok.Active(t0) || !tok.RevokedAt.Equal(at) {
		t.Errorf("token of u1 after EndAccess: %+v, %v; want revoked at %v", tok, err, at)
	}
	if tok, err := h.Store.APITokenByHash(ctx, "hash-t2"); err != nil || !tok.Active(t0) {
		t.Errorf("token of u2 after EndAccess: %+v, %v; want active", tok, err)
	}
}

// testEndAccessBefore: only what was created before the cut-off ends,
// only the user's, and a token revoked already keeps its time.
func testEndAccessBefore(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	h.AddUser(t, "u2")
	cut := t0.Add(time.Minute)
	must(t, h.Store.CreateSession(ctx, session("old", "u1", t0)))
	must(t, h.Store.CreateSession(ctx, session("just-before", "u1", cut.Add(-time.Microsecond))))
	must(t, h.Store.CreateSession(ctx, session("at-cut", "u1", cut)))
	must(t, h.Store.CreateSession(ctx, session("new", "u1", cut.Add(time.Second))))
	must(t, h.Store.CreateSession(ctx, session("other", "u2", t0)))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("old", "u1", t0)))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("revoked", "u1", t0)))
	must(t, h.Store.RevokeAPIToken(ctx, "u1", "revoked", t0.Add(time.Second)))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("new", "u1", cut.Add(time.Second))))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("other", "u2", t0)))
	at := t0.Add(time.Hour)
	must(t, account.EndAccessBefore(ctx, h.Store, "u1", cut, at))
	for hash, want := range map[string]bool{"old": false, "just-before": false, "at-cut": true, "new": true, "other": true} {
		_, err := h.Store.Session(ctx, hash)
		if want && err != nil || !want && !errors.Is(err, account.ErrNotFound) {
			t.Errorf("session %s: %v, want kept %v", hash, err, want)
		}
	}
	for id, revokedAt := range map[string]time.Time{"old": at, "revoked": t0.Add(time.Second), "new": {}, "other": {}} {
		tok, err := h.Store.APITokenByHash(ctx, "hash-"+id)
		if err != nil || !tok.RevokedAt.Equal(revokedAt) {
			t.Errorf("token %s: %+v, %v; want revoked at %v", id, tok, err, revokedAt)
		}
	}
}
