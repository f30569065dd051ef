package sqlstore

import (
	"errors"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// sqliteFull is SQLITE_FULL, the result code of a write that found the
// disk (or the file size limit) full.
const sqliteFull = 13

// diskFull reports whether err says the database's disk is full:
// PostgreSQL's disk_full (SQLSTATE 53100), SQLite's SQLITE_FULL
// ("database or disk is full"), or the system's ENOSPC where a driver
// passes it on. The statement did not commit; the transaction rolled
// back, so nothing is half-written.
func diskFull(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "53100"
	}
	var coded interface{ Code() int }
	if errors.As(err, &coded) && coded.Code()&0xff == sqliteFull {
		return true
	}
	return errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "database or disk is full")
}
