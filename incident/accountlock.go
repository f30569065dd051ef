package incident

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// accountLockedNow audits an account's lock in tx and queues a mail to
// its owner and one to every active admin. A locked name that belongs to
// no account is audited by its hash and told to nobody.
func (s *Service) accountLockedNow(ctx context.Context, tx Tx, username string, t Throttle) error {
	name := strings.ToLower(strings.TrimSpace(username))
	until := t.LockedUntil.Format(time.RFC3339)
	err := knownUsername(name) // a name no account can have is not looked up
	var u User
	if err == nil {
		u, err = tx.UserByName(ctx, name)
	}
	if errors.Is(err, ErrNotFound) {
		return s.record(ctx, tx, System, ActionAccountLocked, "", map[string]string{"username_sha256": digest(name), "until": until})
	}
	if err != nil {
		return err
	}
	if err := s.record(ctx, tx, System, ActionAccountLocked, "", map[string]string{"user_id": u.ID, "until": until}); err != nil {
		return err
	}
	keyPart := "lock:" + u.ID + ":" + strconv.FormatInt(t.WindowStart.UnixMicro(), 10)
	if err := s.notifyUsers(ctx, tx, NoticeAccountLocked, "", "", keyPart, []User{u}); err != nil {
		return err
	}
	users, err := tx.Users(ctx)
	if err != nil {
		return err
	}
	var admins []User
	for _, a := range users {
		if a.Role == RoleAdmin && !a.Disabled && a.ID != u.ID {
			admins = append(admins, a)
		}
	}
	return s.notifyUsers(ctx, tx, NoticeAccountLockedAdmin, "", "", keyPart, admins)
}

// UnlockAccount ends an account's sign-in lock and clears its count of
// failures (admins only). It returns whether the account was locked;
// unlocking an account that is not locked changes nothing and records
// nothing.
func (s *Service) UnlockAccount(ctx context.Context, a Actor, username string) (bool, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin); err != nil {
			return false, err
		}
	}
	if err := knownUsername(username); err != nil {
		return false, err
	}
	locked := false
	err := s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByName(ctx, strings.ToLower(strings.TrimSpace(username)))
		if err != nil {
			return err
		}
		key := accountKey(u.Username)
		t, err := tx.Throttle(ctx, key)
		if err != nil {
			return err
		}
		now := s.now()
		if locked = accountLocked(t, now); !locked {
			return nil
		}
		if err := tx.SetThrottle(ctx, Throttle{Key: key, WindowStart: now}); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionAccountUnlocked, "", map[string]string{"user_id": u.ID})
	})
	return locked, err
}

// AccountLocks returns, per user id, until when each locked account is
// locked (admins and auditors).
func (s *Service) AccountLocks(ctx context.Context, a Actor) (map[string]time.Time, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin, RoleAuditor); err != nil {
			return nil, err
		}
	}
	out := map[string]time.Time{}
	err := s.store.View(ctx, func(tx Tx) error {
		users, err := tx.Users(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		for _, u := range users {
			t, err := tx.Throttle(ctx, accountKey(u.Username))
			if err != nil {
				return err
			}
			if accountLocked(t, now) {
				out[u.ID] = t.LockedUntil
			}
		}
		return nil
	})
	return out, err
}
