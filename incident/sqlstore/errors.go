package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/tresor-evidence/tresor/incident"
)

// translate maps driver and GORM errors onto the domain's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("%w", incident.ErrNotFound)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", incident.ErrDuplicate, err)
	case diskFull(err):
		// Before the network errors: syscall.Errno, ENOSPC too, is a net.Error.
		return fmt.Errorf("%w: database: %w", incident.ErrStorageFull, err)
	case errors.Is(err, driver.ErrBadConn), errors.As(err, &netErr), errors.As(err, &connErr):
		return fmt.Errorf("%w: database: %v", incident.ErrUnavailable, err)
	case isConnectionLoss(err):
		return fmt.Errorf("%w: database: %v", incident.ErrUnavailable, err)
	case errors.As(err, &pgErr) && pgUnavailable(pgErr.Code):
		return fmt.Errorf("%w: database: %v", incident.ErrUnavailable, err)
	}
	return err
}

// pgUnavailable reports whether a PostgreSQL error code means the server
// cannot serve now (it is starting, stopping, or out of connections),
// rather than that the statement was wrong: connection exceptions (class
// 08), admin_shutdown, crash_shutdown, cannot_connect_now and
// too_many_connections.
func pgUnavailable(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03", "53300":
		return true
	}
	return strings.HasPrefix(code, "08")
}

// isConnectionLoss recognises errors the drivers report as text only.
func isConnectionLoss(err error) bool {
	msg := err.Error()
	for _, s := range []string{"connection refused", "conn closed", "broken pipe", "server closed the connection",
		"the database system is shutting down", "terminating connection", "database is closed"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
