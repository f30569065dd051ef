package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// TokenBackend is a store that also keeps API tokens.
type TokenBackend interface {
	incident.Store
	incident.TokenStore
}

// RunAPITokens runs the suite for incident.TokenStore. open must return a
// new, empty, migrated store.
func RunAPITokens(t *testing.T, open func(t *testing.T) TokenBackend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s TokenBackend)
	}{
		{"RoundTrip", testTokenRoundTrip},
		{"Revoke", testTokenRevoke},
		{"Touch", testTokenTouch},
		{"JoinsBoundTransaction", testTokensJoinTx},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func apiToken(id, user string, at time.Time) incident.APIToken {
	return incident.APIToken{ID: id, UserID: user, Name: "label " + id, TokenHash: "hash-" + id, CreatedAt: at, ExpiresAt: at.Add(90 * 24 * time.Hour)}
}

func testTokenRoundTrip(t *testing.T, s TokenBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	addUser(t, s, "u2")
	first := apiToken("t1", "u1", t0)
	must(t, s.CreateAPIToken(ctx, first))
	must(t, s.CreateAPIToken(ctx, apiToken("t2", "u1", t0.Add(time.Hour))))
	must(t, s.CreateAPIToken(ctx, apiToken("t3", "u2", t0)))
	got, err := s.APITokenByHash(ctx, "hash-t1")
	must(t, err)
	if got != first {
		t.Fatalf("token = %+v, want %+v", got, first)
	}
	if !got.Active(t0) || got.Active(first.ExpiresAt) {
		t.Fatal("Active is wrong around the expiry")
	}
	if _, err := s.APITokenByHash(ctx, "nope"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("missing token: %v, want ErrNotFound", err)
	}
	dup := apiToken("t9", "u1", t0)
	dup.TokenHash = first.TokenHash
	if err := s.CreateAPIToken(ctx, dup); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("duplicate hash: %v, want ErrDuplicate", err)
	}
	if err := s.CreateAPIToken(ctx, apiToken("t1", "u1", t0)); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("duplicate id: %v, want ErrDuplicate", err)
	}
	list, err := s.APITokens(ctx, "u1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "t2" || list[1].ID != "t1" {
		t.Fatalf("tokens of u1 = %+v, want t2, t1", list)
	}
	if list, err := s.APITokens(ctx, "nobody"); err != nil || len(list) != 0 {
		t.Fatalf("tokens of nobody = %v, %v", list, err)
	}
}

func testTokenRevoke(t *testing.T, s TokenBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	addUser(t, s, "u2")
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.CreateAPIToken(ctx, apiToken(id, "u1", t0)))
	}
	must(t, s.CreateAPIToken(ctx, apiToken("z", "u2", t0)))
	if err := s.RevokeAPIToken(ctx, "u2", "a", t0); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("revoking another user's token: %v, want ErrNotFound", err)
	}
	at := t0.Add(time.Minute)
	must(t, s.RevokeAPIToken(ctx, "u1", "a", at))
	if err := s.RevokeAPIToken(ctx, "u1", "a", at); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("revoking twice: %v, want ErrNotFound", err)
	}
	got, err := s.APITokenByHash(ctx, "hash-a")
	must(t, err)
	if !got.RevokedAt.Equal(at) || got.Active(t0) {
		t.Fatalf("revoked token = %+v", got)
	}
	must(t, s.RevokeUserAPITokens(ctx, "u1", at.Add(time.Minute)))
	list, err := s.APITokens(ctx, "u1")
	must(t, err)
	for _, tok := range list {
		if tok.RevokedAt.IsZero() {
			t.Fatalf("token %s survived revoking all", tok.ID)
		}
		if tok.ID == "a" && !tok.RevokedAt.Equal(at) {
			t.Fatalf("revoking all changed the revocation time of a: %v", tok.RevokedAt)
		}
	}
	if z, err := s.APITokenByHash(ctx, "hash-z"); err != nil || !z.RevokedAt.IsZero() {
		t.Fatalf("another user's token was revoked: %+v, %v", z, err)
	}
}

func testTokenTouch(t *testing.T, s TokenBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	must(t, s.CreateAPIToken(ctx, apiToken("a", "u1", t0)))
	at := t0.Add(3 * time.Hour)
	must(t, s.TouchAPIToken(ctx, "a", at))
	got, err := s.APITokenByHash(ctx, "hash-a")
	must(t, err)
	if !got.LastUsedAt.Equal(at) {
		t.Fatalf("last used = %v, want %v", got.LastUsedAt, at)
	}
	if err := s.TouchAPIToken(ctx, "nope", at); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("touching a missing token: %v, want ErrNotFound", err)
	}
}

// testTokensJoinTx: token changes made with a context bound to a
// transaction (Tx.Bind) commit and roll back with it.
func testTokensJoinTx(t *testing.T, s TokenBackend) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addUser(t, s, "u1")
	must(t, s.CreateAPIToken(ctx, apiToken("old", "u1", t0)))
	change := func(tx incident.Tx) error {
		bctx := tx.Bind(ctx)
		if err := s.CreateAPIToken(bctx, apiToken("new", "u1", t0)); err != nil {
			return err
		}
		return s.RevokeAPIToken(bctx, "u1", "old", t0.Add(time.Hour))
	}
	rolledBack(t, ctx, s, change)
	if _, err := s.APITokenByHash(ctx, "hash-new"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("token after rollback: %v, want ErrNotFound", err)
	}
	if old, err := s.APITokenByHash(ctx, "hash-old"); err != nil || !old.RevokedAt.IsZero() {
		t.Fatalf("old token after rollback: %+v, %v; want it active", old, err)
	}
	must(t, s.Tx(ctx, change))
	if _, err := s.APITokenByHash(ctx, "hash-new"); err != nil {
		t.Fatalf("token after commit: %v", err)
	}
	if old, err := s.APITokenByHash(ctx, "hash-old"); err != nil || old.RevokedAt.IsZero() {
		t.Fatalf("old token after commit: %+v, %v; want it revoked", old, err)
	}
}
