package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// testExternalIdentities: identities are keyed by (issuer, subject), one
// per account, and roll back with their transaction.
func testExternalIdentities(t *testing.T, s incident.Store) {
	ctx := context.Background()
	a, b := addUser(t, s, "e1"), addUser(t, s, "e2")
	const iss = "https://login.example.org/realms/traeger"
	id := incident.ExternalIdentity{Issuer: iss, Subject: "sub-1", UserID: a.ID, CreatedAt: t0, LastSignInAt: t0}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateExternalIdentity(ctx, id) })

	var got incident.ExternalIdentity
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentity(ctx, iss, "sub-1"); return })
	if got.UserID != a.ID || !got.CreatedAt.Equal(t0) || !got.LastSignInAt.Equal(t0) {
		t.Fatalf("identity = %+v", got)
	}
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentityOf(ctx, a.ID); return })
	if got.Subject != "sub-1" || got.Issuer != iss {
		t.Fatalf("identity of %s = %+v", a.ID, got)
	}

	for name, dup := range map[string]incident.ExternalIdentity{
		"same issuer and subject": {Issuer: iss, Subject: "sub-1", UserID: b.ID, CreatedAt: t0, LastSignInAt: t0},
		"account already linked":  {Issuer: iss, Subject: "sub-2", UserID: a.ID, CreatedAt: t0, LastSignInAt: t0},
	} {
		if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CreateExternalIdentity(ctx, dup) }); !errors.Is(err, incident.ErrDuplicate) {
			t.Errorf("%s: %v, want ErrDuplicate", name, err)
		}
	}
	// The same subject at another issuer is another person.
	other := incident.ExternalIdentity{Issuer: "https://other.example.org", Subject: "sub-1", UserID: b.ID, CreatedAt: t0, LastSignInAt: t0}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateExternalIdentity(ctx, other) })

	later := t0.Add(3600e9)
	tx(t, s, func(tx incident.Tx) error { return tx.TouchExternalIdentity(ctx, iss, "sub-1", later) })
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentity(ctx, iss, "sub-1"); return })
	if !got.LastSignInAt.Equal(later) || !got.CreatedAt.Equal(t0) {
		t.Errorf("after touch = %+v", got)
	}

	notFound := map[string]func(tx incident.Tx) error{
		"unknown subject": func(tx incident.Tx) error { _, err := tx.ExternalIdentity(ctx, iss, "sub-9"); return err },
		"unknown issuer": func(tx incident.Tx) error {
			_, err := tx.ExternalIdentity(ctx, "https://x.example.org", "sub-1")
			return err
		},
		"local account": func(tx incident.Tx) error { _, err := tx.ExternalIdentityOf(ctx, "nobody"); return err },
		"touch unknown": func(tx incident.Tx) error { return tx.TouchExternalIdentity(ctx, iss, "sub-9", later) },
	}
	for name, fn := range notFound {
		if err := s.Tx(ctx, fn); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", name, err)
		}
	}

	// A step-up at the provider: stored until a time, used once, not
	// after it ends; a local account has none to store.
	if got.StepUpUntil != (time.Time{}) {
		t.Errorf("new identity has a step-up: %v", got.StepUpUntil)
	}
	until := later.Add(5 * time.Minute)
	tx(t, s, func(tx incident.Tx) error { return tx.GrantExternalStepUp(ctx, a.ID, until) })
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentityOf(ctx, a.ID); return })
	if !got.StepUpUntil.Equal(until) {
		t.Errorf("step-up until = %v, want %v", got.StepUpUntil, until)
	}
	consume := func(at time.Time) bool {
		t.Helper()
		var ok bool
		tx(t, s, func(tx incident.Tx) (err error) { ok, err = tx.ConsumeExternalStepUp(ctx, a.ID, at); return })
		return ok
	}
	if consume(until) {
		t.Errorf("step-up used at the moment it ended")
	}
	if !consume(until.Add(-time.Second)) {
		t.Errorf("valid step-up not used")
	}
	if consume(until.Add(-time.Second)) {
		t.Errorf("step-up used twice")
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.GrantExternalStepUp(ctx, "nobody", until) }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("step-up of a local account: %v, want ErrNotFound", err)
	}
	// Concurrent approvals: one step-up serves one of them.
	tx(t, s, func(tx incident.Tx) error { return tx.GrantExternalStepUp(ctx, a.ID, until) })
	results := make(chan bool, 4)
	for range 4 {
		go func() {
			var ok bool
			err := s.Tx(ctx, func(tx incident.Tx) (err error) { ok, err = tx.ConsumeExternalStepUp(ctx, a.ID, later); return })
			results <- ok && err == nil
		}()
	}
	used := 0
	for range 4 {
		if <-results {
			used++
		}
	}
	if used != 1 {
		t.Errorf("concurrent approvals used one step-up %d times, want once", used)
	}

	// Rolled back with its transaction.
	c := addUser(t, s, "e3")
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx incident.Tx) error {
		if err := tx.CreateExternalIdentity(ctx, incident.ExternalIdentity{Issuer: iss, Subject: "sub-3", UserID: c.ID, CreatedAt: t0, LastSignInAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { _, err := tx.ExternalIdentity(ctx, iss, "sub-3"); return err }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("after rollback: %v, want ErrNotFound", err)
	}
}

// testExternalTokens: the sealed tokens and check time of an identity are
// stored as given, and the identities due for a check are those with a
// session or a live API token, not checked since the cut-off, least
// recently checked first.
func testExternalTokens(t *testing.T, s incident.Store) {
	ctx := context.Background()
	const iss = "https://login.example.org/realms/traeger"
	users := map[string]incident.User{}
	for _, id := range []string{"k-session", "k-token", "k-expired", "k-revoked", "k-none", "k-recent"} {
		users[id] = addUser(t, s, id)
		tx(t, s, func(tx incident.Tx) error {
			return tx.CreateExternalIdentity(ctx, incident.ExternalIdentity{Issuer: iss, Subject: "sub-" + id, UserID: id, CreatedAt: t0, LastSignInAt: t0})
		})
	}
	var got incident.ExternalIdentity
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentity(ctx, iss, "sub-k-none"); return })
	if got.Tokens != (incident.ExternalTokens{}) {
		t.Errorf("tokens of a new identity = %+v, want none", got.Tokens)
	}
	checked := t0.Add(time.Hour)
	want := incident.ExternalTokens{RefreshSealed: "sealed-refresh", IDTokenSealed: "sealed-id", CheckedAt: checked}
	tx(t, s, func(tx incident.Tx) error { return tx.SetExternalTokens(ctx, iss, "sub-k-recent", want) })
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentityOf(ctx, "k-recent"); return })
	if got.Tokens.RefreshSealed != want.RefreshSealed || got.Tokens.IDTokenSealed != want.IDTokenSealed || !got.Tokens.CheckedAt.Equal(checked) {
		t.Errorf("tokens = %+v, want %+v", got.Tokens, want)
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.SetExternalTokens(ctx, iss, "sub-9", want) }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("tokens of an unknown identity: %v, want ErrNotFound", err)
	}
	// Swapped only while unchanged.
	next := incident.ExternalTokens{RefreshSealed: "sealed-refresh-2", IDTokenSealed: "sealed-id", CheckedAt: checked.Add(time.Minute)}
	tx(t, s, func(tx incident.Tx) error { return tx.SwapExternalTokens(ctx, iss, "sub-k-recent", want, next) })
	for name, old := range map[string]incident.ExternalTokens{
		"refresh token changed": want,
		"checked since":         {RefreshSealed: next.RefreshSealed, IDTokenSealed: next.IDTokenSealed, CheckedAt: checked},
		"ID token changed":      {RefreshSealed: next.RefreshSealed, CheckedAt: next.CheckedAt},
	} {
		err := s.Tx(ctx, func(tx incident.Tx) error { return tx.SwapExternalTokens(ctx, iss, "sub-k-recent", old, want) })
		if !errors.Is(err, incident.ErrConflict) {
			t.Errorf("swap when %s: %v, want ErrConflict", name, err)
		}
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.SwapExternalTokens(ctx, iss, "sub-9", want, next) }); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("swap of an unknown identity: %v, want ErrNotFound", err)
	}
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentityOf(ctx, "k-recent"); return })
	if got.Tokens.RefreshSealed != next.RefreshSealed || !got.Tokens.CheckedAt.Equal(next.CheckedAt) {
		t.Errorf("tokens after the swaps = %+v, want %+v", got.Tokens, next)
	}
	// Made in a transaction with its tokens.
	c := addUser(t, s, "k-created")
	tx(t, s, func(tx incident.Tx) error {
		return tx.CreateExternalIdentity(ctx, incident.ExternalIdentity{Issuer: iss, Subject: "sub-k-created", UserID: c.ID, CreatedAt: t0, LastSignInAt: t0, Tokens: want})
	})
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.ExternalIdentityOf(ctx, c.ID); return })
	if got.Tokens.RefreshSealed != want.RefreshSealed || !got.Tokens.CheckedAt.Equal(checked) {
		t.Errorf("tokens given at creation = %+v", got.Tokens)
	}

	now := t0.Add(2 * time.Hour)
	sess := func(id string) {
		tx(t, s, func(tx incident.Tx) error {
			return tx.Accounts().CreateSession(ctx, account.Session{TokenHash: "h-" + id, UserID: id, Stage: account.StageActive, CSRF: "c", CreatedAt: now, LastSeenAt: now})
		})
	}
	token := func(id string, expires time.Time) {
		tx(t, s, func(tx incident.Tx) error {
			return tx.Accounts().CreateAPIToken(ctx, account.APIToken{ID: "t-" + id, UserID: id, Name: "n", TokenHash: "th-" + id, CreatedAt: t0, ExpiresAt: expires})
		})
	}
	sess("k-session")
	sess("k-recent") // checked at t0+1h, after the cut-off below
	token("k-token", now.Add(time.Hour))
	token("k-expired", now)
	token("k-revoked", now.Add(time.Hour))
	tx(t, s, func(tx incident.Tx) error { return tx.Accounts().RevokeUserAPITokens(ctx, "k-revoked", now) })
	tx(t, s, func(tx incident.Tx) error {
		return tx.SetExternalTokens(ctx, iss, "sub-k-token", incident.ExternalTokens{CheckedAt: t0.Add(time.Minute)})
	})

	due := func(cutoff time.Time, limit int) []string {
		var ids []incident.ExternalIdentity
		tx(t, s, func(tx incident.Tx) (err error) {
			ids, err = tx.ExternalIdentitiesToCheck(ctx, now, cutoff, limit)
			return
		})
		var out []string
		for _, id := range ids {
			out = append(out, id.UserID)
		}
		return out
	}
	if got := due(t0.Add(30*time.Minute), 10); !slices.Equal(got, []string{"k-session", "k-token"}) {
		t.Errorf("due before t0+30m = %v, want the never checked session first, then the token", got)
	}
	if got := due(t0.Add(30*time.Minute), 1); !slices.Equal(got, []string{"k-session"}) {
		t.Errorf("due with limit 1 = %v", got)
	}
	if got := due(now, 10); !slices.Equal(got, []string{"k-session", "k-token", "k-recent"}) {
		t.Errorf("due before now = %v", got)
	}
	if got := due(t0, 10); !slices.Equal(got, []string{"k-session"}) {
		t.Errorf("due before t0 = %v, want only the never checked one", got)
	}
}

// testLogoutTokens: a logout token (issuer, jti) is used once; another
// issuer's same jti is another token; expired ones are forgotten; a
// rolled-back use is no use.
func testLogoutTokens(t *testing.T, s incident.Store) {
	ctx := context.Background()
	const iss, other = "https://login.example.org/realms/traeger", "https://sso.example.net"
	exp := t0.Add(2 * time.Minute)
	errRollback := errors.New("roll back")
	tx(t, s, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-1", exp) })
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-1", exp) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Errorf("second use: %v, want ErrDuplicate", err)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, other, "jti-1", exp) })
	tx(t, s, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-later", exp.Add(time.Hour)) })
	if err := s.Tx(ctx, func(tx incident.Tx) error {
		if err := tx.UseLogoutToken(ctx, iss, "jti-rolled-back", exp); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("rolled-back use: %v", err)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-rolled-back", exp) })

	var n int64
	tx(t, s, func(tx incident.Tx) (err error) { n, err = tx.DeleteExpiredLogoutTokens(ctx, exp); return })
	if n != 0 {
		t.Errorf("forgot %d tokens expiring exactly then, want 0", n)
	}
	tx(t, s, func(tx incident.Tx) (err error) {
		n, err = tx.DeleteExpiredLogoutTokens(ctx, exp.Add(time.Microsecond))
		return
	})
	if n != 3 {
		t.Errorf("forgot %d expired tokens, want 3", n)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-1", exp) })
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UseLogoutToken(ctx, iss, "jti-later", exp) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Errorf("a token not yet expired was forgotten: %v", err)
	}
}
