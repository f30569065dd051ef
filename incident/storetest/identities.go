package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

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
