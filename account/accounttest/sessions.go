package accounttest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
)

func session(hash, user string, at time.Time) account.Session {
	return account.Session{TokenHash: hash, UserID: user, Stage: account.StageSecondFactor, CSRF: "csrf-" + hash, CreatedAt: at, LastSeenAt: at}
}

func testSessionRoundTrip(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	in := session("h1", "u1", t0)
	must(t, h.Store.CreateSession(ctx, in))
	got, err := h.Store.Session(ctx, "h1")
	must(t, err)
	if got != in {
		t.Fatalf("session = %+v, want %+v", got, in)
	}
	in.Stage, in.CSRF, in.LastSeenAt = account.StageActive, "other", t0.Add(time.Minute)
	must(t, h.Store.UpdateSession(ctx, in))
	if got, err = h.Store.Session(ctx, "h1"); err != nil || got != in {
		t.Fatalf("after update: %+v, %v; want %+v", got, err, in)
	}
	if _, err := h.Store.Session(ctx, "nope"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("missing session: %v, want ErrNotFound", err)
	}
	if err := h.Store.UpdateSession(ctx, session("nope", "u1", t0)); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("update missing session: %v, want ErrNotFound", err)
	}
	if err := h.Store.CreateSession(ctx, session("h1", "u1", t0)); !errors.Is(err, account.ErrDuplicate) {
		t.Fatalf("duplicate session: %v, want ErrDuplicate", err)
	}
}

func testSessionRevoke(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	h.AddUser(t, "u2")
	for _, hash := range []string{"a", "b"} {
		must(t, h.Store.CreateSession(ctx, session(hash, "u1", t0)))
	}
	must(t, h.Store.CreateSession(ctx, session("c", "u2", t0)))
	must(t, h.Store.DeleteSession(ctx, "a"))
	must(t, h.Store.DeleteSession(ctx, "a")) // idempotent
	if _, err := h.Store.Session(ctx, "a"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	must(t, h.Store.DeleteUserSessions(ctx, "u1"))
	if _, err := h.Store.Session(ctx, "b"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("user's session survived: %v", err)
	}
	if _, err := h.Store.Session(ctx, "c"); err != nil {
		t.Fatalf("other user's session gone: %v", err)
	}
}

func testSessionStale(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	fresh := session("fresh", "u1", t0)
	idle := session("idle", "u1", t0.Add(-time.Hour))
	old := session("old", "u1", t0.Add(-13*time.Hour))
	old.LastSeenAt = t0
	for _, x := range []account.Session{fresh, idle, old} {
		must(t, h.Store.CreateSession(ctx, x))
	}
	n, err := h.Store.DeleteStaleSessions(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d stale sessions, want 2", n)
	}
	if _, err := h.Store.Session(ctx, "fresh"); err != nil {
		t.Fatalf("fresh session gone: %v", err)
	}
}

func testSecondFactor(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	if _, err := h.Store.SecondFactor(ctx, "u1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("no factor yet: %v", err)
	}
	f := account.SecondFactor{UserID: "u1", SecretSealed: "sealed", LastStep: 0, EnabledAt: t0}
	must(t, h.Store.EnableSecondFactor(ctx, f, []string{"r1", "r2"}))
	got, err := h.Store.SecondFactor(ctx, "u1")
	must(t, err)
	if got != f {
		t.Fatalf("factor = %+v, want %+v", got, f)
	}
	if err := h.Store.EnableSecondFactor(ctx, f, []string{"r3"}); !errors.Is(err, account.ErrDuplicate) {
		t.Fatalf("second enrolment: %v, want ErrDuplicate", err)
	}
	if n, err := h.Store.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 2 {
		t.Fatalf("recovery codes after failed enrolment = %d, %v; want 2", n, err)
	}
	must(t, h.Store.DeleteSecondFactor(ctx, "u1"))
	must(t, h.Store.DeleteSecondFactor(ctx, "u1"))
	if _, err := h.Store.SecondFactor(ctx, "u1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("after reset: %v", err)
	}
	if n, err := h.Store.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 0 {
		t.Fatalf("recovery codes after reset = %d, %v", n, err)
	}
}

func testTOTPStepSingleUse(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	must(t, h.Store.EnableSecondFactor(ctx, account.SecondFactor{UserID: "u1", SecretSealed: "x", EnabledAt: t0}, nil))
	must(t, h.Store.UseTOTPStep(ctx, "u1", 100))
	for _, step := range []int64{100, 99} {
		if err := h.Store.UseTOTPStep(ctx, "u1", step); !errors.Is(err, account.ErrConflict) {
			t.Fatalf("reusing step %d: %v, want ErrConflict", step, err)
		}
	}
	if err := h.Store.UseTOTPStep(ctx, "nobody", 5); !errors.Is(err, account.ErrConflict) {
		t.Fatalf("user without factor: %v, want ErrConflict", err)
	}
	// Concurrent uses of one fresh step: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Store.UseTOTPStep(ctx, "u1", 101); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent uses of one code succeeded, want 1", wins)
	}
}

func testRecoveryCodes(t *testing.T, h Harness) {
	ctx := context.Background()
	h.AddUser(t, "u1")
	must(t, h.Store.EnableSecondFactor(ctx, account.SecondFactor{UserID: "u1", SecretSealed: "x", EnabledAt: t0}, []string{"r1", "r2"}))
	must(t, h.Store.UseRecoveryCode(ctx, "u1", "r1"))
	if err := h.Store.UseRecoveryCode(ctx, "u1", "r1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("reusing a recovery code: %v, want ErrNotFound", err)
	}
	if err := h.Store.UseRecoveryCode(ctx, "u2", "r2"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("another user's code: %v, want ErrNotFound", err)
	}
	if n, err := h.Store.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 1 {
		t.Fatalf("codes left = %d, %v; want 1", n, err)
	}
}

// testSessionsJoinTx: account changes made through a transaction's
// Store commit and roll back with it. A method that bypassed the
// transaction would either survive the rollback or, where the
// transaction holds the only writer connection, wait until the deadline.
func testSessionsJoinTx(t *testing.T, h Harness) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.AddUser(t, "u1")
	must(t, h.Store.CreateSession(ctx, session("h1", "u1", t0)))
	must(t, h.Store.CreateSession(ctx, session("h2", "u1", t0)))
	f := account.SecondFactor{UserID: "u1", SecretSealed: "sealed", EnabledAt: t0}
	change := func(st account.Store) error {
		if err := st.EnableSecondFactor(ctx, f, []string{"r1"}); err != nil {
			return err
		}
		return account.EndAccess(ctx, st, "u1", t0, "h2")
	}
	rolledBack(t, ctx, h, change)
	if _, err := h.Store.SecondFactor(ctx, "u1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("second factor after rollback: %v, want ErrNotFound", err)
	}
	if _, err := h.Store.Session(ctx, "h1"); err != nil {
		t.Fatalf("session after rollback: %v, want it kept", err)
	}
	must(t, h.Tx(ctx, change))
	if _, err := h.Store.SecondFactor(ctx, "u1"); err != nil {
		t.Fatalf("second factor after commit: %v", err)
	}
	if _, err := h.Store.Session(ctx, "h1"); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("session after commit: %v, want ErrNotFound", err)
	}
	if _, err := h.Store.Session(ctx, "h2"); err != nil {
		t.Fatalf("kept session after commit: %v, want it kept", err)
	}
}
