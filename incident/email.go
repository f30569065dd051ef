package incident

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
)

// MaxEmail bounds an e-mail address (RFC 5321's path limit).
const MaxEmail = 254

// ParseEmail validates an account's e-mail address and returns it
// trimmed; "" (no address) is valid. Only a bare address is accepted —
// no display name, no comments, no line breaks — so that it can go into
// a mail header as it is.
func ParseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > MaxEmail {
		return "", fmt.Errorf("%w: the e-mail address is longer than %d characters", ErrInvalidInput, MaxEmail)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsAny(s, "\r\n\t \"<>()[],;:\\") || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", fmt.Errorf("%w: %q is not an e-mail address such as name@example.org", ErrInvalidInput, clipText(s))
	}
	return s, nil
}

// clipText shortens caller text quoted in an error.
func clipText(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// SetUserEmail sets or clears ("") the address an account's notifications
// go to. Admins set it; the audit entry says only that it changed.
func (s *Service) SetUserEmail(ctx context.Context, a Actor, username, email string) (User, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin); err != nil {
			return User{}, err
		}
	}
	email, err := ParseEmail(email)
	if err != nil {
		return User{}, err
	}
	var u User
	err = s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if u, err = tx.UserByName(ctx, strings.ToLower(strings.TrimSpace(username))); err != nil {
			return err
		}
		if u.Email == email {
			return nil
		}
		u.Email, u.UpdatedAt = email, s.now()
		if err := tx.UpdateUser(ctx, &u); err != nil {
			return fmt.Errorf("failed to update user: %w", err)
		}
		return s.record(ctx, tx, a, ActionUserEmailChanged, "", map[string]string{"user_id": u.ID, "email_set": fmt.Sprint(email != "")})
	})
	return u, err
}
