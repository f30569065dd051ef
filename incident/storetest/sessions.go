package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// SessionBackend is a store that also keeps web sessions.
type SessionBackend interface {
	incident.Store
	incident.SessionStore
}

// RunSessions runs the suite for incident.SessionStore. open must return
// a new, empty, migrated store.
func RunSessions(t *testing.T, open func(t *testing.T) SessionBackend) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s SessionBackend)
	}{
		{"SessionRoundTrip", testSessionRoundTrip},
		{"SessionRevoke", testSessionRevoke},
		{"SessionStale", testSessionStale},
		{"SecondFactor", testSecondFactor},
		{"TOTPStepSingleUse", testTOTPStepSingleUse},
		{"RecoveryCodes", testRecoveryCodes},
		{"JoinsBoundTransaction", testSessionsJoinTx},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func session(hash, user string, at time.Time) incident.Session {
	return incident.Session{TokenHash: hash, UserID: user, Stage: incident.StageSecondFactor, CSRF: "csrf-" + hash, CreatedAt: at, LastSeenAt: at}
}

func testSessionRoundTrip(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	in := session("h1", "u1", t0)
	must(t, s.CreateSession(ctx, in))
	got, err := s.Session(ctx, "h1")
	must(t, err)
	if got != in {
		t.Fatalf("session = %+v, want %+v", got, in)
	}
	in.Stage, in.CSRF, in.LastSeenAt = incident.StageActive, "other", t0.Add(time.Minute)
	must(t, s.UpdateSession(ctx, in))
	if got, err = s.Session(ctx, "h1"); err != nil || got != in {
		t.Fatalf("after update: %+v, %v; want %+v", got, err, in)
	}
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("missing session: %v, want ErrNotFound", err)
	}
	if err := s.UpdateSession(ctx, session("nope", "u1", t0)); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("update missing session: %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, session("h1", "u1", t0)); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("duplicate session: %v, want ErrDuplicate", err)
	}
}

func testSessionRevoke(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	addUser(t, s, "u2")
	for _, h := range []string{"a", "b"} {
		must(t, s.CreateSession(ctx, session(h, "u1", t0)))
	}
	must(t, s.CreateSession(ctx, session("c", "u2", t0)))
	must(t, s.DeleteSession(ctx, "a"))
	must(t, s.DeleteSession(ctx, "a")) // idempotent
	if _, err := s.Session(ctx, "a"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("deleted session: %v", err)
	}
	must(t, s.DeleteUserSessions(ctx, "u1"))
	if _, err := s.Session(ctx, "b"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("user's session survived: %v", err)
	}
	if _, err := s.Session(ctx, "c"); err != nil {
		t.Fatalf("other user's session gone: %v", err)
	}
}

func testSessionStale(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	fresh := session("fresh", "u1", t0)
	idle := session("idle", "u1", t0.Add(-time.Hour))
	old := session("old", "u1", t0.Add(-13*time.Hour))
	old.LastSeenAt = t0
	for _, x := range []incident.Session{fresh, idle, old} {
		must(t, s.CreateSession(ctx, x))
	}
	n, err := s.DeleteStaleSessions(ctx, t0.Add(-30*time.Minute), t0.Add(-12*time.Hour))
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d stale sessions, want 2", n)
	}
	if _, err := s.Session(ctx, "fresh"); err != nil {
		t.Fatalf("fresh session gone: %v", err)
	}
}

func testSecondFactor(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	if _, err := s.SecondFactor(ctx, "u1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("no factor yet: %v", err)
	}
	f := incident.SecondFactor{UserID: "u1", SecretSealed: "sealed", LastStep: 0, EnabledAt: t0}
	must(t, s.EnableSecondFactor(ctx, f, []string{"r1", "r2"}))
	got, err := s.SecondFactor(ctx, "u1")
	must(t, err)
	if got != f {
		t.Fatalf("factor = %+v, want %+v", got, f)
	}
	if err := s.EnableSecondFactor(ctx, f, []string{"r3"}); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("second enrolment: %v, want ErrDuplicate", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 2 {
		t.Fatalf("recovery codes after failed enrolment = %d, %v; want 2", n, err)
	}
	must(t, s.DeleteSecondFactor(ctx, "u1"))
	must(t, s.DeleteSecondFactor(ctx, "u1"))
	if _, err := s.SecondFactor(ctx, "u1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("after reset: %v", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 0 {
		t.Fatalf("recovery codes after reset = %d, %v", n, err)
	}
}

func testTOTPStepSingleUse(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	must(t, s.EnableSecondFactor(ctx, incident.SecondFactor{UserID: "u1", SecretSealed: "x", EnabledAt: t0}, nil))
	must(t, s.UseTOTPStep(ctx, "u1", 100))
	for _, step := range []int64{100, 99} {
		if err := s.UseTOTPStep(ctx, "u1", step); !errors.Is(err, incident.ErrConflict) {
			t.Fatalf("reusing step %d: %v, want ErrConflict", step, err)
		}
	}
	if err := s.UseTOTPStep(ctx, "nobody", 5); !errors.Is(err, incident.ErrConflict) {
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
			if err := s.UseTOTPStep(ctx, "u1", 101); err == nil {
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

func testRecoveryCodes(t *testing.T, s SessionBackend) {
	ctx := context.Background()
	addUser(t, s, "u1")
	must(t, s.EnableSecondFactor(ctx, incident.SecondFactor{UserID: "u1", SecretSealed: "x", EnabledAt: t0}, []string{"r1", "r2"}))
	must(t, s.UseRecoveryCode(ctx, "u1", "r1"))
	if err := s.UseRecoveryCode(ctx, "u1", "r1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("reusing a recovery code: %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx, "u2", "r2"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("another user's code: %v, want ErrNotFound", err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, "u1"); err != nil || n != 1 {
		t.Fatalf("codes left = %d, %v; want 1", n, err)
	}
}

var errRollback = errors.New("roll back")

// rolledBack runs change in a transaction that then fails.
func rolledBack(t *testing.T, ctx context.Context, s incident.Store, change func(incident.Tx) error) {
	t.Helper()
	if err := s.Tx(ctx, func(tx incident.Tx) error {
		if err := change(tx); err != nil {
			return err
		}
		return errRollback
	}); !errors.Is(err, errRollback) {
		t.Fatalf("Tx: %v, want the rollback error", err)
	}
}

// testSessionsJoinTx: account changes made with a context bound to a
// transaction (Tx.Bind) commit and roll back with it. A method that
// bypassed the transaction would either survive the rollback or, where
// the transaction holds the only writer connection, wait until the
// deadline.
func testSessionsJoinTx(t *testing.T, s SessionBackend) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	addUser(t, s, "u1")
	must(t, s.CreateSession(ctx, session("h1", "u1", t0)))
	f := incident.SecondFactor{UserID: "u1", SecretSealed: "sealed", EnabledAt: t0}
	change := func(tx incident.Tx) error {
		bctx := tx.Bind(ctx)
		if err := s.EnableSecondFactor(bctx, f, []string{"r1"}); err != nil {
			return err
		}
		return s.DeleteUserSessions(bctx, "u1")
	}
	rolledBack(t, ctx, s, change)
	if _, err := s.SecondFactor(ctx, "u1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("second factor after rollback: %v, want ErrNotFound", err)
	}
	if _, err := s.Session(ctx, "h1"); err != nil {
		t.Fatalf("session after rollback: %v, want it kept", err)
	}
	must(t, s.Tx(ctx, change))
	if _, err := s.SecondFactor(ctx, "u1"); err != nil {
		t.Fatalf("second factor after commit: %v", err)
	}
	if _, err := s.Session(ctx, "h1"); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("session after commit: %v, want ErrNotFound", err)
	}
}
