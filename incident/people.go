package incident

import (
	"context"
	"errors"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// Person is how a trail names an account: its display name (the user
// name when it has none) and role. The audit log itself keeps only ids.
type Person struct {
	ID   string
	Name string
	Role Role
}

// people looks up every account acting in entries. The system actor and
// ids without an account (none, unless the database was edited) are left
// out; the page then shows them as such.
func people(ctx context.Context, tx Tx, entries []audit.Entry) (map[string]Person, error) {
	out := map[string]Person{}
	for _, e := range entries {
		if _, done := out[e.Actor]; done || e.Actor == System.ID {
			continue
		}
		u, err := tx.User(ctx, e.Actor)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		name := u.DisplayName
		if name == "" {
			name = u.Username
		}
		out[e.Actor] = Person{ID: u.ID, Name: name, Role: u.Role}
	}
	return out, nil
}
