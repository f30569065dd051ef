package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/account/accounttest"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// TestAccountConformance runs the account store suite (sessions, API
// tokens, second factors) on every dialect, outside and inside the
// store's transactions.
func TestAccountConformance(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			accounttest.Run(t, func(t *testing.T) accounttest.Harness {
				s := sqltest.Open(t, d)
				return accounttest.Harness{
					Store: s.Accounts(),
					Tx: func(ctx context.Context, fn func(st account.Store) error) error {
						return s.Tx(ctx, func(tx incident.Tx) error { return fn(tx.Accounts()) })
					},
					AddUser: func(t *testing.T, id string) {
						t.Helper()
						at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
						u := incident.User{ID: id, Username: "u-" + id, DisplayName: "User " + id, Role: incident.RoleWorker,
							PasswordHash: "$argon2id$x", CreatedAt: at, UpdatedAt: at}
						if err := s.Tx(context.Background(), func(tx incident.Tx) error { return tx.CreateUser(context.Background(), &u) }); err != nil {
							t.Fatal(err)
						}
					},
				}
			})
		})
	}
}
