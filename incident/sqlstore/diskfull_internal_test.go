package sqlstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tresor-evidence/tresor/incident"
)

// sqliteErr has the shape of the SQLite driver's error: a result code.
type sqliteErr struct{ code int }

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", e.code) }
func (e sqliteErr) Code() int     { return e.code }

// Errors that say the database's disk is full map to ErrStorageFull, and
// only those.
func TestTranslateDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"postgres disk_full", &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"}, incident.ErrStorageFull},
		{"postgres out of memory", &pgconn.PgError{Code: "53200"}, nil},
		{"postgres too many connections", &pgconn.PgError{Code: "53300"}, incident.ErrUnavailable},
		{"postgres unique violation", &pgconn.PgError{Code: "23505"}, nil},
		{"sqlite full", sqliteErr{13}, incident.ErrStorageFull},
		{"sqlite full, extended code", sqliteErr{13 | 1<<8}, incident.ErrStorageFull},
		{"sqlite full as text", errors.New("database or disk is full (13)"), incident.ErrStorageFull},
		{"sqlite busy", sqliteErr{5}, nil},
		{"sqlite i/o error", sqliteErr{10}, nil},
		{"no space from the system", &os.PathError{Op: "write", Path: "db", Err: syscall.ENOSPC}, incident.ErrStorageFull},
	} {
		got := translate(fmt.Errorf("insert: %w", tc.err))
		switch {
		case tc.want != nil && !errors.Is(got, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		case tc.want == nil && (errors.Is(got, incident.ErrStorageFull) || errors.Is(got, incident.ErrUnavailable)):
			t.Errorf("%s: %v, want no sentinel", tc.name, got)
		}
	}
}
