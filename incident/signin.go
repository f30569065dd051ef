package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The sign-in rule. Failed attempts are counted in the store (throttles),
// per account and per client address, so that the counts hold across
// restarts and processes. Neither count ever mixes accounts: one person's
// typos never keep a colleague at the same address out.
//
//   - Per account: from SignInSlowAfter failures within SignInWindow on,
//     each attempt opens a refusal window that doubles with every further
//     failure, up to SignInMaxWait; an attempt inside the window is refused
//     unchecked (ErrSignInThrottled). At SignInLockFailures failures within
//     SignInWindow the account is locked (ErrAccountLocked) for
//     SignInLockDuration or until an admin unlocks it; the lock is audited
//     and told by mail to the account's owner and every admin. A right
//     password outside a window clears the account's count.
//   - Per address: from AddressSlowAfter failures within SignInWindow on,
//     every attempt from the address is answered later, by a delay that
//     doubles up to AddressMaxDelay. It never refuses: a right password of
//     an account that is not itself locked always signs in. A right
//     password does not clear the address's count, so one known account
//     cannot hide guessing at others.
//
// Unknown names are counted and locked like accounts, so the answers tell
// no account names apart. Throttle keys and audit entries hold hashes of
// names and no addresses at all.
const (
	SignInWindow       = 15 * time.Minute
	SignInSlowAfter    = 5
	SignInMaxWait      = 30 * time.Second
	SignInLockFailures = 20
	SignInLockDuration = time.Hour
	AddressSlowAfter   = 10
	AddressMaxDelay    = 5 * time.Second
)

var (
	// ErrSignInThrottled: too many recent failures for this account;
	// the error's text says how many seconds to wait.
	ErrSignInThrottled = errors.New("too many failed sign-ins for this account; wait before the next attempt")
	// ErrAccountLocked: the account is locked after SignInLockFailures
	// failures; an admin can unlock it.
	ErrAccountLocked = errors.New("account locked after too many failed sign-ins")
)

// SignInWait is the error of a refused attempt: errors.Is it
// ErrSignInThrottled, and Wait says how long until the next attempt is
// checked.
type SignInWait struct{ Wait time.Duration }

func (e *SignInWait) Error() string {
	return fmt.Sprintf("%v (%d s)", ErrSignInThrottled, e.Seconds())
}

// Seconds is Wait in whole seconds, rounded up.
func (e *SignInWait) Seconds() int { return int((e.Wait + time.Second - 1) / time.Second) }

func (e *SignInWait) Is(target error) bool { return target == ErrSignInThrottled }

// accountKey is the throttle key of a user name: a hash of the name as
// Authenticate normalises it.
func accountKey(username string) string {
	return "sign-in:account:" + digest(strings.ToLower(strings.TrimSpace(username)))
}

// addressKey is the throttle key of a client address, hashed.
func addressKey(addr string) string { return "sign-in:address:" + digest(addr) }

// doubling is base doubled n times, capped at limit.
func doubling(base time.Duration, n int, limit time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// accountWait is the refusal window after the n-th failure in a window.
func accountWait(n int) time.Duration {
	if n < SignInSlowAfter {
		return 0
	}
	return doubling(time.Second, n-SignInSlowAfter, SignInMaxWait)
}

// addressDelay is the answer delay for an address with n failures.
func addressDelay(n int) time.Duration {
	if n < AddressSlowAfter {
		return 0
	}
	return doubling(time.Second/2, n-AddressSlowAfter, AddressMaxDelay)
}

// accountLocked reports whether t is an account lock (not a refusal
// window) at now.
func accountLocked(t Throttle, now time.Time) bool {
	return t.Locked(now) && t.Failures >= SignInLockFailures
}

// WithWait replaces the timer that delays answers to a throttled client
// address (tests record the delays instead of sleeping). wait returns
// early with ctx's error.
func WithWait(wait func(ctx context.Context, d time.Duration) error) Option {
	return func(s *Service) { s.wait = wait }
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// SignIn checks a user name and password from a client address under the
// sign-in rule above, and records the attempt (Authenticate). It returns
// ErrBadCredentials, ErrSignInThrottled (a *SignInWait) or
// ErrAccountLocked. addr is only hashed, never stored. A refused attempt
// is not checked and not audited (refusals would flood the log); every
// checked one is (auth.failed, auth.succeeded).
func (s *Service) SignIn(ctx context.Context, username, pw, addr string) (User, error) {
	akey, ckey := accountKey(username), addressKey(addr)
	var delay time.Duration
	var refusal error
	locking := false // this attempt is the one that reached the lock
	// Count the attempt before checking it, in a transaction of its own,
	// so that parallel guesses cannot together slip into one window.
	err := s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		c, err := tx.Throttle(ctx, ckey)
		if err != nil {
			return err
		}
		if now.Sub(c.WindowStart) < SignInWindow {
			delay = addressDelay(c.Failures)
		}
		t, err := tx.Throttle(ctx, akey)
		if err != nil {
			return err
		}
		switch {
		case accountLocked(t, now):
			refusal = ErrAccountLocked
			return nil
		case t.Locked(now):
			refusal = &SignInWait{Wait: t.LockedUntil.Sub(now)}
			return nil
		}
		if now.Sub(t.WindowStart) >= SignInWindow || t.Failures >= SignInLockFailures {
			t = Throttle{Key: akey, WindowStart: now}
		}
		t.Failures++ // counted now; cleared again by a right password
		switch {
		case t.Failures >= SignInLockFailures:
			t.LockedUntil, locking = now.Add(SignInLockDuration), true
		case accountWait(t.Failures) > 0:
			t.LockedUntil = now.Add(accountWait(t.Failures))
		default:
			t.LockedUntil = time.Time{}
		}
		return tx.SetThrottle(ctx, t)
	})
	if err != nil {
		return User{}, err
	}
	if delay > 0 {
		if err := s.wait(ctx, delay); err != nil {
			return User{}, fmt.Errorf("sign-in delayed: %w", err)
		}
	}
	if refusal != nil {
		return User{}, refusal
	}
	u, err := s.Authenticate(ctx, username, pw)
	switch {
	case err == nil:
		err := s.store.Tx(ctx, func(tx Tx) error {
			return tx.SetThrottle(ctx, Throttle{Key: akey, WindowStart: s.now()})
		})
		if err != nil {
			return User{}, err
		}
		return u, nil
	case errors.Is(err, ErrBadCredentials):
		return User{}, errors.Join(err, s.signInFailed(ctx, username, akey, ckey, locking))
	default:
		return User{}, err
	}
}

// signInFailed counts a failure for the address and, if this attempt
// locked the account, audits the lock and tells the owner and the admins.
func (s *Service) signInFailed(ctx context.Context, username, akey, ckey string, locking bool) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		now := s.now()
		c, err := tx.Throttle(ctx, ckey)
		if err != nil {
			return err
		}
		if now.Sub(c.WindowStart) >= SignInWindow {
			c = Throttle{Key: ckey, WindowStart: now}
		}
		c.Failures++
		if err := tx.SetThrottle(ctx, c); err != nil {
			return err
		}
		if !locking {
			return nil
		}
		t, err := tx.Throttle(ctx, akey)
		if err != nil || !accountLocked(t, now) {
			return err // unlocked by an admin meanwhile
		}
		return s.accountLockedNow(ctx, tx, username, t)
	})
}
