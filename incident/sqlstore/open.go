package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
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
	// accounts serves account.Store outside transactions (Accounts).
	accounts
	db      *gorm.DB
	dialect Dialect
	// reader serves read-only transactions. On SQLite it is a second pool
	// of query-only connections, so that reads run side by side with
	// each other and with the one writer (WAL); on PostgreSQL it is db.
	reader *gorm.DB
	// localLocks are the WhatsApp device locks on SQLite (see LockDevice).
	localLocks *localLocks
	// lockDB holds the connections that keep PostgreSQL device locks, a
	// pool of its own so that linked devices never use up db's.
	lockDB *gorm.DB
}

// Options tune Open.
type Options struct {
	// Log receives slow queries and errors, without parameters, as
	// text lines. Nil discards them. Logger, when set, is used instead.
	Log io.Writer
	// Logger receives slow queries (warnings) and failed statements
	// (errors) as structured records, with the SQL's placeholders and
	// never the values bound to them (see gormLog).
	Logger *slog.Logger
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
	var dial, readDial gorm.Dialector
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
		if err := privateFile(path); err != nil {
			return nil, err
		}
		// secure_delete zeroes deleted rows, also in free pages, so that
		// purged captures and whatsmeow's purged rows do not linger.
		const common = "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=secure_delete(1)"
		dial = sqlite.Open("file:" + path + common + "&_pragma=synchronous(FULL)&_txlock=immediate")
		readDial = sqlite.Open("file:" + path + common + "&_pragma=query_only(1)")
	}
	w := opts.Log
	if w == nil {
		w = io.Discard
	}
	var gl logger.Interface = logger.New(log.New(w, "database: ", log.LstdFlags), logger.Config{
		SlowThreshold:             slowQuery,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true, // never log values: they may be personal data
	})
	if opts.Logger != nil {
		gl = newGormLog(opts.Logger, dialect)
	}
	cfg := &gorm.Config{
		TranslateError:         true,
		Logger:                 gl,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		SkipDefaultTransaction: true,
	}
	writers := 1 // SQLite: one writer at a time (see openPool)
	if dialect == Postgres {
		writers = 20
	}
	db, err := openPool(ctx, dialect, dial, cfg, writers)
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, dialect: dialect, reader: db, localLocks: &localLocks{}}
	if dialect == Postgres {
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		}
		// One connection per linked device, held while it is connected.
		if s.lockDB, err = openPool(ctx, dialect, dial, cfg, 0); err != nil {
			return nil, errors.Join(err, s.closeWriter())
		}
		s.accounts = accounts{db: s.db, reader: s.reader}
		return s, nil
	}
	// Readers keep their statements prepared: parsing SQL is a good part
	// of a small query's cost in the pure-Go SQLite. Eight connections
	// serve the web's requests in flight (2 per CPU on two cores) without
	// most of them waiting for a connection.
	readCfg := *cfg
	readCfg.PrepareStmt = true
	if s.reader, err = openPool(ctx, dialect, readDial, &readCfg, 8); err != nil {
		return nil, errors.Join(err, s.closeWriter())
	}
	s.accounts = accounts{db: s.db, reader: s.reader}
	return s, nil
}

// openPool opens and pings one connection pool of at most conns
// connections (0: no limit).
func openPool(ctx context.Context, dialect Dialect, dial gorm.Dialector, cfg *gorm.Config, conns int) (*gorm.DB, error) {
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to open %s database: %w", dialect, translate(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("failed to open %s database: %w", dialect, err)
	}
	// SQLite allows one writer at a time; one connection for writes
	// avoids SQLITE_BUSY. Readers get a few connections of their own.
	sqlDB.SetMaxOpenConns(conns)
	// Keep them all open between requests: database/sql keeps only two
	// idle by default and closes the rest, so under load every query
	// would open a connection again (a new PostgreSQL backend; for
	// SQLite, reading the schema anew). The unlimited lock pool keeps its
	// connections while they hold locks and needs no idle ones.
	if conns > 0 {
		sqlDB.SetMaxIdleConns(conns)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close() // the ping error is the one to report
		return nil, fmt.Errorf("failed to connect to %s database: %w", dialect, translate(err))
	}
	return db, nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes the connection pools.
func (s *Store) Close() error {
	err := s.closeWriter()
	if s.lockDB != nil {
		if sqlDB, lerr := s.lockDB.DB(); lerr != nil {
			err = errors.Join(err, lerr)
		} else {
			err = errors.Join(err, sqlDB.Close())
		}
	}
	if s.reader != s.db {
		if sqlDB, rerr := s.reader.DB(); rerr != nil {
			err = errors.Join(err, rerr)
		} else {
			err = errors.Join(err, sqlDB.Close())
		}
	}
	return err
}

func (s *Store) closeWriter() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// privateFile creates the SQLite database file readable by its owner
// only, or narrows an existing one to that, with its -wal and -shm
// files. SQLite gives the -wal and -shm files it creates later the mode
// of the database file, so they follow. (The folder is 0700 already;
// this keeps the files private when someone loosens the folder, or
// copies it with its modes.)
func privateFile(path string) error {
	if strings.HasPrefix(path, ":memory:") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open database file: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		return errors.Join(fmt.Errorf("failed to make database file private: %w", err), f.Close())
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to open database file: %w", err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Chmod(path+side, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("failed to make database file private: %w", err)
		}
	}
	return nil
}
