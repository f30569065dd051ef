package incident_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/mailtest"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

const (
	office   = "198.51.100.7" // the address a whole office signs in from
	stranger = "203.0.113.66"
)

// waits records the answer delays a service asked for, instead of
// sleeping.
type waits struct {
	mu sync.Mutex
	ds []time.Duration
}

func (r *waits) wait(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = append(r.ds, d)
	return nil
}

func (r *waits) all() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ds)
}

// signInService is the world's service over store with a memory mailer,
// recorded delays and an address for every account.
func signInService(w *world, store incident.Store, mem *mailtest.Memory, rec *waits) *incident.Service {
	w.t.Helper()
	svc := incident.NewService(store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now),
		incident.WithPasswordParams(cheap), incident.WithMailer(mem, publicURL), incident.WithWait(rec.wait))
	return svc
}

func setEmails(w *world) {
	w.t.Helper()
	for _, name := range []string{"wanda", "otto", "susi", "sven", "anna", "adam"} {
		if _, err := w.svc.SetUserEmail(w.ctx, incident.System, name, name+"@example.org"); err != nil {
			w.t.Fatal(err)
		}
	}
}

// failUntilLocked signs in as name with a wrong password until the
// account locks, waiting out every refusal window as a patient guesser
// would, and returns how many wrong passwords were checked.
func failUntilLocked(w *world, svc *incident.Service, name, addr string) int {
	w.t.Helper()
	checked := 0
	for range 100 {
		_, err := svc.SignIn(w.ctx, name, "wrong", addr)
		var wait *incident.SignInWait
		switch {
		case errors.Is(err, incident.ErrAccountLocked):
			return checked
		case errors.As(err, &wait):
			if wait.Wait <= 0 || wait.Wait > incident.SignInMaxWait {
				w.t.Fatalf("refusal window %v", wait.Wait)
			}
			w.clock.Advance(wait.Wait)
		case errors.Is(err, incident.ErrBadCredentials):
			checked++
		default:
			w.t.Fatalf("attempt after %d failures: %v", checked, err)
		}
	}
	w.t.Fatalf("no lock after %d failures", checked)
	return 0
}

func authEntries(w *world, svc *incident.Service, action incident.Action) []audit.Entry {
	w.t.Helper()
	es, err := svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []audit.Entry
	for _, e := range es {
		if e.Action == string(action) {
			out = append(out, e)
		}
	}
	return out
}

func TestSignInLocksAfterManyFailuresAndAdminUnlocks(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		mem, rec := &mailtest.Memory{}, &waits{}
		setEmails(w)
		svc := signInService(w, w.store, mem, rec)
		start := w.clock.Now()
		if n := failUntilLocked(w, svc, "otto", office); n != 20 {
			t.Fatalf("locked after %d checked failures, want 20", n)
		}
		if took := w.clock.Now().Sub(start); took >= 15*time.Minute {
			t.Fatalf("a patient guesser needed %v for 20 failures; the lock must be reachable within 15 minutes", took)
		}
		// The owner's right password is refused now, unchecked.
		_, err := svc.SignIn(w.ctx, "otto", "correct horse otto", stranger)
		wantErr(t, err, incident.ErrAccountLocked)
		// A colleague at the same address signs in: the office's
		// failures slow its answers down, never refuse a right password.
		if _, err := svc.SignIn(w.ctx, "wanda", "correct horse wanda", office); err != nil {
			t.Fatalf("colleague at the locked account's address: %v", err)
		}
		if ds := rec.all(); len(ds) == 0 || ds[len(ds)-1] <= 0 {
			t.Fatalf("the office's answers were not slowed down: %v", ds)
		}

		// Audited once, by id, with no name and no address.
		locks := authEntries(w, svc, incident.ActionAccountLocked)
		if len(locks) != 1 || locks[0].Details["user_id"] != w.other.ID {
			t.Fatalf("lock entries: %+v", locks)
		}
		for _, e := range locks {
			if s := fmt.Sprint(e.Details); strings.Contains(s, "otto") || strings.Contains(s, office) {
				t.Fatalf("lock entry carries a name or address: %s", s)
			}
		}

		// Its owner and the admin are told, with a link and nothing else.
		for ran := true; ran; {
			if ran, err = svc.RunDue(w.ctx); err != nil {
				t.Fatal(err)
			}
		}
		sent := mem.Sent()
		if got, want := recipients(sent), []string{"adam@example.org", "otto@example.org"}; !slices.Equal(got, want) {
			t.Fatalf("lock told %v, want %v", got, want)
		}
		for _, m := range sent {
			link := publicURL + "/login\n"
			if m.To == "adam@example.org" {
				link = publicURL + "/admin/users\n"
			}
			if !strings.Contains(m.Text, link) || !strings.Contains(m.Text, "gesperrt") {
				t.Errorf("mail to %s lacks the lock or the link %q:\n%s", m.To, link, m.Text)
			}
			if strings.Contains(m.Subject+m.Text, office) || strings.Contains(m.Subject+m.Text, "otto") {
				t.Errorf("mail to %s carries the address or the name:\n%s", m.To, m.Text)
			}
		}
		if strings.Contains(mailTo(sent, "otto@example.org").Text, "IT") == false {
			t.Errorf("the owner's mail does not say to contact IT:\n%s", mailTo(sent, "otto@example.org").Text)
		}

		// A restart (a new service, a new connection) keeps the lock.
		store2 := sqltest.OpenURL(t, w.dbURL)
		svc2 := signInService(w, store2, mem, rec)
		_, err = svc2.SignIn(w.ctx, "otto", "correct horse otto", stranger)
		wantErr(t, err, incident.ErrAccountLocked)

		// Only an admin unlocks; unlocking is audited and signs in again.
		_, err = svc2.UnlockAccount(w.ctx, w.worker, "otto")
		wantErr(t, err, incident.ErrForbidden)
		locked, err := svc2.AccountLocks(w.ctx, w.admin)
		if err != nil || !locked[w.other.ID].After(w.clock.Now()) || len(locked) != 1 {
			t.Fatalf("locks %v, %v", locked, err)
		}
		if was, err := svc2.UnlockAccount(w.ctx, w.admin, "otto"); err != nil || !was {
			t.Fatalf("unlock: %v, %v", was, err)
		}
		if was, err := svc2.UnlockAccount(w.ctx, w.admin, "otto"); err != nil || was {
			t.Fatalf("second unlock: %v, %v", was, err)
		}
		if es := authEntries(w, svc2, incident.ActionAccountUnlocked); len(es) != 1 || es[0].Actor != w.admin.ID || es[0].Details["user_id"] != w.other.ID {
			t.Fatalf("unlock entries: %+v", es)
		}
		if _, err := svc2.SignIn(w.ctx, "otto", "correct horse otto", office); err != nil {
			t.Fatalf("after unlock: %v", err)
		}
		w.verify()
	})
}

func mailTo(ms []incident.Mail, to string) incident.Mail {
	for _, m := range ms {
		if m.To == to {
			return m
		}
	}
	return incident.Mail{}
}

// A lock ends by itself after SignInLockDuration, and a name without an
// account locks like one (so the answers tell no names apart), audited
// by its hash and told to nobody.
func TestSignInLockEndsAndUnknownNamesLockAlike(t *testing.T) {
	w := newWorld(t, sqltest.Dialects()[0])
	mem, rec := &mailtest.Memory{}, &waits{}
	setEmails(w)
	svc := signInService(w, w.store, mem, rec)
	if n := failUntilLocked(w, svc, "nobody", stranger); n != 20 {
		t.Fatalf("unknown name locked after %d failures", n)
	}
	locks := authEntries(w, svc, incident.ActionAccountLocked)
	if len(locks) != 1 || locks[0].Details["username_sha256"] == "" || locks[0].Details["user_id"] != "" {
		t.Fatalf("lock of an unknown name: %+v", locks)
	}
	if n := w.runJobs(); n != 0 || len(mem.Sent()) != 0 {
		t.Fatalf("an unknown name's lock queued %d jobs, sent %d mails", n, len(mem.Sent()))
	}

	failUntilLocked(w, svc, "susi", office)
	w.clock.Advance(incident.SignInLockDuration)
	if _, err := svc.SignIn(w.ctx, "susi", "correct horse susi", office); err != nil {
		t.Fatalf("after the lock's time: %v", err)
	}
}

// The slow-down: a few typos cost nothing; from SignInSlowAfter on each
// attempt opens a refusal window for that account alone, which a right
// password clears once it is waited out.
func TestSignInRefusalWindowIsPerAccount(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		rec := &waits{}
		svc := signInService(w, w.store, &mailtest.Memory{}, rec)
		for i := 1; i < incident.SignInSlowAfter; i++ {
			_, err := svc.SignIn(w.ctx, "otto", "wrong", office)
			wantErr(t, err, incident.ErrBadCredentials)
		}
		if _, err := svc.SignIn(w.ctx, "otto", "correct horse otto", office); err != nil {
			t.Fatalf("after %d typos: %v", incident.SignInSlowAfter-1, err)
		}
		for range incident.SignInSlowAfter {
			_, err := svc.SignIn(w.ctx, "otto", "wrong", office)
			wantErr(t, err, incident.ErrBadCredentials)
		}
		_, err := svc.SignIn(w.ctx, "otto", "correct horse otto", office)
		var wait *incident.SignInWait
		if !errors.As(err, &wait) || !errors.Is(err, incident.ErrSignInThrottled) {
			t.Fatalf("right password inside the window: %v", err)
		}
		// Colleagues are not in otto's window.
		for _, name := range []string{"wanda", "susi"} {
			if _, err := svc.SignIn(w.ctx, name, "correct horse "+name, office); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		w.clock.Advance(wait.Wait)
		if _, err := svc.SignIn(w.ctx, "otto", "correct horse otto", office); err != nil {
			t.Fatalf("after the window: %v", err)
		}
		if len(rec.all()) != 0 {
			t.Fatalf("%d failures from the office already slowed it down: %v", 2*incident.SignInSlowAfter-1, rec.all())
		}
		// The right password cleared the count: one typo opens no window.
		_, err = svc.SignIn(w.ctx, "otto", "wrong", office)
		wantErr(t, err, incident.ErrBadCredentials)
		if _, err := svc.SignIn(w.ctx, "otto", "correct horse otto", office); err != nil {
			t.Fatalf("count not cleared: %v", err)
		}
	})
}

// Guessing many names from one address slows that address down, growing
// to AddressMaxDelay, but never refuses a right password there.
func TestSignInAddressSlowsNeverRefuses(t *testing.T) {
	w := newWorld(t, sqltest.Dialects()[0])
	rec := &waits{}
	svc := signInService(w, w.store, &mailtest.Memory{}, rec)
	for i := range 3 * incident.AddressSlowAfter {
		_, err := svc.SignIn(w.ctx, fmt.Sprintf("guess%02d", i), "wrong", stranger)
		wantErr(t, err, incident.ErrBadCredentials)
	}
	ds := rec.all()
	if len(ds) != 2*incident.AddressSlowAfter {
		t.Fatalf("%d of %d attempts delayed, want all after the first %d", len(ds), 3*incident.AddressSlowAfter, incident.AddressSlowAfter)
	}
	if !slices.IsSorted(ds) || ds[0] <= 0 || ds[len(ds)-1] != incident.AddressMaxDelay {
		t.Fatalf("delays %v: want growing up to %v", ds, incident.AddressMaxDelay)
	}
	if _, err := svc.SignIn(w.ctx, "wanda", "correct horse wanda", stranger); err != nil {
		t.Fatalf("a right password at a slowed address: %v", err)
	}
	// Another address is not slowed.
	before := len(rec.all())
	if _, err := svc.SignIn(w.ctx, "otto", "correct horse otto", office); err != nil || len(rec.all()) != before {
		t.Fatalf("other address: %v, delays %v", err, rec.all()[before:])
	}
	// The window passes.
	w.clock.Advance(incident.SignInWindow)
	before = len(rec.all())
	if _, err := svc.SignIn(w.ctx, "wanda", "correct horse wanda", stranger); err != nil || len(rec.all()) != before {
		t.Fatalf("after the window: %v, delays %v", err, rec.all()[before:])
	}
}

// The throttle sweep forgets only what counts nothing any more: a lock
// still running survives it (the account stays locked), the throttles
// of names guessed a day ago are deleted.
func TestSweepThrottlesKeepsRunningLocks(t *testing.T) {
	w := newWorld(t, sqltest.Dialects()[0])
	mem, rec := &mailtest.Memory{}, &waits{}
	setEmails(w)
	svc := signInService(w, w.store, mem, rec)
	for _, name := range []string{"nobody-1", "nobody-2"} {
		if _, err := svc.SignIn(w.ctx, name, "guess", stranger); !errors.Is(err, incident.ErrBadCredentials) {
			t.Fatalf("guess at %s: %v", name, err)
		}
	}
	w.clock.Advance(incident.ThrottleKeep + time.Minute)
	failUntilLocked(w, svc, "susi", office)
	n, err := svc.SweepThrottles(w.ctx)
	// Swept: the two guessed names and the stranger's address (counted a
	// day ago); kept: susi's running lock and the office address.
	if err != nil || n != 3 {
		t.Fatalf("SweepThrottles = %d, %v; want the 3 throttles of a day ago", n, err)
	}
	if _, err := svc.SignIn(w.ctx, "susi", "correct horse susi", office); !errors.Is(err, incident.ErrAccountLocked) {
		t.Fatalf("after the sweep susi's lock is gone: %v", err)
	}
}
