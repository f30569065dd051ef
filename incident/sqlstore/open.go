package sqlstore

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database kind.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the GORM implementation of incident.Store.
type Store struct {
	db      *gorm.DB
	dialect Dialect
}

// Options tune Open.
type Options struct {
	// Log receives slow queries and errors, without parameters. Nil
	// discards them.
	Log io.Writer
}

// ParseURL tells which database a URL names: postgres:// or postgresql://
// for PostgreSQL; sqlite:PATH, file:PATH or a plain path for SQLite.
func ParseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", fmt.Errorf("malformed database url: %w", err)
		}
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite:"):
		return SQLite, strings.TrimPrefix(strings.TrimPrefix(raw, "sqlite:"), "//"), nil
	case strings.HasPrefix(raw, "file:"):
		return SQLite, strings.TrimPrefix(raw, "file:"), nil
	case raw == "":
		return "", "", fmt.Errorf("empty database url")
	case strings.Contains(raw, "://"):
		return "", "", fmt.Errorf("unsupported database url scheme in %q (want postgres:// or sqlite:PATH)", redact(raw))
	default:
		return SQLite, raw, nil
	}
}

// redact hides a URL's password for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Open connects to the database the URL names and checks it answers. It
// does not migrate: call Migrate, or CheckSchema before serving.
func Open(ctx context.Context, rawURL string, opts Options) (*Store, error) {
	dialect, dsn, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var dial gorm.Dialector
	switch dialect {
	case Postgres:
		dial = postgres.Open(dsn)
	case SQLite:
		path := dsn
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("failed to create database directory: %w", err)
			}
		}
		dial = sqlite.Open("file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)" +
			"&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	db, err := gorm.Open(dial, &gorm.Config{
		TranslateError: true,
		Logger: logger.New(log.New(w, "database: ", log.LstdFlags), logger.Config{
			SlowThreshold:             time.Second,
			LogLevel:                  logger.Warn,
			IgnoreRecordNotFoundError: true,
			ParameterizedQueries:      true, // never log values: they may be personal data
		}),
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to open %s database: %w", dialect, translate(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("failed to open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		sqlDB.SetMaxOpenConns(1)
	} else {
		sqlDB.SetMaxOpenConns(20)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close() // the ping error is the one to report
		return nil, fmt.Errorf("failed to connect to %s database: %w", dialect, translate(err))
	}
	return &Store{db: db, dialect: dialect}, nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}
