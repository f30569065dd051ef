package accounttest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

func apiToken(id, user string, at time.Time) account.APIToken {
	return account.APIToken{ID: id, UserID: user, Name: "label " + id, TokenHash: "hash-" + id, CreatedAt: at, ExpiresAt: at.Add(90 * 24 * time.Hour)}
}

func testTokenRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	h.AddUser(t, "u2")
	first := apiToken("t1", "u1", t0)
	must(t, h.Store.CreateAPIToken(ctx, first))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("t2", "u1", t0.Add(time.Hour))))
	must(t, h.Store.CreateAPIToken(ctx, apiToken("t3", "u2", t0)))
	got, err := h.Store.APITokenByHash(ctx, "hash-t1")
	must(t, err)
	if got != first {
		t.Fatalf("token = %+v, want %+v", got, first)
	}
	if !got.Active(t0) || got.Active(first.ExpiresAt) {
		t.Fatal("Active is wrong around the expiry")
	}
	if _, err := h.Store.APITokenByHash(ctx, "nope"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("missing token: %v, want ErrNotFound", err)
	}
	dup := apiToken("t9", "u1", t0)
	dup.TokenHash = first.TokenHash
	if err := h.Store.CreateAPIToken(ctx, dup); !errors.Is(err, account.ErrDuplicate) {
		t.Fatalf("duplicate hash: %v, want ErrDuplicate", err)
	}
	if err := h.Store.CreateAPIToken(ctx, apiToken("t1", "u1", t0)); !errors.Is(err, account.ErrDuplicate) {
		t.Fatalf("duplicate id: %v, want ErrDuplicate", err)
	}
	list, err := h.Store.APITokens(ctx, "u1")
	must(t, err)
	if len(list) != 2 || list[0].ID != "t2" || list[1].ID != "t1" {
		t.Fatalf("tokens of u1 = %+v, want t2, t1", list)
	}
	if list, err := h.Store.APITokens(ctx, "nobody"); err != nil || len(list) != 0 {
		t.Fatalf("tokens of nobody = %v, %v", list, err)
	}
}

func testTokenRevoke(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	h.AddUser(t, "u2")
	for _, id := range []string{"a", "b", "c"} {
		must(t, h.Store.CreateAPIToken(ctx, apiToken(id, "u1", t0)))
	}
	must(t, h.Store.CreateAPIToken(ctx, apiToken("z", "u2", t0)))
	if err := h.Store.RevokeAPIToken(ctx, "u2", "a", t0); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("revoking another user's token: %v, want ErrNotFound", err)
	}
	at := t0.Add(time.Minute)
	must(t, h.Store.RevokeAPIToken(ctx, "u1", "a", at))
	if err := h.Store.RevokeAPIToken(ctx, "u1", "a", at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("revoking twice: %v, want ErrNotFound", err)
	}
	got, err := h.Store.APITokenByHash(ctx, "hash-a")
	must(t, err)
	if !got.RevokedAt.Equal(at) || got.Active(t0) {
		t.Fatalf("revoked token = %+v", got)
	}
	must(t, h.Store.RevokeUserAPITokens(ctx, "u1", at.Add(time.Minute)))
	list, err := h.Store.APITokens(ctx, "u1")
	must(t, err)
	for _, tok := range list {
		if tok.RevokedAt.IsZero() {
			t.Fatalf("token %s survived revoking all", tok.ID)
		}
		if tok.ID == "a" && !tok.RevokedAt.Equal(at) {
			t.Fatalf("revoking all changed the revocation time of a: %v", tok.RevokedAt)
		}
	}
	if z, err := h.Store.APITokenByHash(ctx, "hash-z"); err != nil || !z.RevokedAt.IsZero() {
		t.Fatalf("another user's token was revoked: %+v, %v", z, err)
	}
}

func testTokenTouch(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	must(t, h.Store.CreateAPIToken(ctx, apiToken("a", "u1", t0)))
	at := t0.Add(3 * time.Hour)
	must(t, h.Store.TouchAPIToken(ctx, "a", at))
	got, err := h.Store.APITokenByHash(ctx, "hash-a")
	must(t, err)
	if !got.LastUsedAt.Equal(at) {
		t.Fatalf("last used = %v, want %v", got.LastUsedAt, at)
	}
	if err := h.Store.TouchAPIToken(ctx, "nope", at); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("touching a missing token: %v, want ErrNotFound", err)
	}
}

// testTokensJoinTx: token changes made through a transaction's Store
// commit and roll back with it.
func testTokensJoinTx(t *testing.T, h Harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.AddUser(t, "u1")
	must(t, h.Store.CreateAPIToken(ctx, apiToken("old", "u1", t0)))
	change := func(st account.Store) error {
		if err := st.CreateAPIToken(ctx, apiToken("new", "u1", t0)); err != nil {
			return err
		}
		return st.RevokeAPIToken(ctx, "u1", "old", t0.Add(time.Hour))
	}
	rolledBack(t, ctx, h, change)
	if _, err := h.Store.APITokenByHash(ctx, "hash-new"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("token after rollback: %v, want ErrNotFound", err)
	}
	if old, err := h.Store.APITokenByHash(ctx, "hash-old"); err != nil || !old.RevokedAt.IsZero() {
		t.Fatalf("old token after rollback: %+v, %v; want it active", old, err)
	}
	must(t, h.Tx(ctx, change))
	if _, err := h.Store.APITokenByHash(ctx, "hash-new"); err != nil {
		t.Fatalf("token after commit: %v", err)
	}
	if old, err := h.Store.APITokenByHash(ctx, "hash-old"); err != nil || old.RevokedAt.IsZero() {
		t.Fatalf("old token after commit: %+v, %v; want it revoked", old, err)
	}
}
