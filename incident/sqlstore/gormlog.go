package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// slowQuery is the duration above which a statement is logged as slow.
const slowQuery = time.Second

// gormLog writes GORM's log into the service's structured log: failed
// statements as errors and slow ones as warnings, each with its SQL text
// and never the values bound to it — they may be what a caller typed or
// personal data. ParamsFilter keeps GORM from inlining them; as a second
// guard (gorm's Scan records its SQL through a logger of its own, which
// does inline them) quoted literals are blanked before anything is
// written, and database errors are reduced to their code and a message
// with quoted parts blanked (PostgreSQL quotes the rejected value in some
// messages).
type gormLog struct {
	log     *slog.Logger
	level   logger.LogLevel
	dialect Dialect
	slow    time.Duration // statements taking longer are logged as slow
}

func newGormLog(l *slog.Logger, d Dialect) *gormLog {
	return &gormLog{log: l.With("component", "database"), level: logger.Warn, dialect: d, slow: slowQuery}
}

func (l *gormLog) LogMode(level logger.LogLevel) logger.Interface {
	c := *l
	c.level = level
	return &c
}

// Info, Warn and Error carry GORM's own messages (migrator notes and the
// like). Their arguments are not written: only the message's pattern.
func (l *gormLog) Info(ctx context.Context, msg string, _ ...any) {
	if l.level >= logger.Info {
		l.log.InfoContext(ctx, "gorm: "+msg)
	}
}

func (l *gormLog) Warn(ctx context.Context, msg string, _ ...any) {
	if l.level >= logger.Warn {
		l.log.WarnContext(ctx, "gorm: "+msg)
	}
}

func (l *gormLog) Error(ctx context.Context, msg string, _ ...any) {
	if l.level >= logger.Error {
		l.log.ErrorContext(ctx, "gorm: "+msg)
	}
}

// ParamsFilter drops the bound values, so that GORM logs the statement
// with its placeholders.
func (l *gormLog) ParamsFilter(_ context.Context, sql string, _ ...any) (string, []any) {
	return sql, nil
}

func (l *gormLog) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if l.level <= logger.Silent {
		return
	}
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) && l.level >= logger.Error:
		sql, rows := fc()
		l.log.ErrorContext(ctx, "database statement failed", "sql", l.blank(sql), "rows", rows,
			"duration_ms", elapsed.Milliseconds(), "error", dbErrorText(err))
	case elapsed > l.slow && l.level >= logger.Warn:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow database statement", "sql", l.blank(sql), "rows", rows, "duration_ms", elapsed.Milliseconds())
	case l.level >= logger.Info:
		sql, rows := fc()
		l.log.DebugContext(ctx, "database statement", "sql", l.blank(sql), "rows", rows, "duration_ms", elapsed.Milliseconds())
	}
}

var (
	singleQuoted = regexp.MustCompile(`'(?:[^']|'')*'`)
	doubleQuoted = regexp.MustCompile(`"(?:[^"]|"")*"`)
)

// blank replaces quoted literals in sql with '?'. On SQLite GORM quotes
// names with backticks and inlines strings in double quotes; on
// PostgreSQL names are double-quoted and strings single-quoted.
func (l *gormLog) blank(sql string) string {
	sql = singleQuoted.ReplaceAllLiteralString(sql, "'?'")
	if l.dialect == SQLite {
		sql = doubleQuoted.ReplaceAllLiteralString(sql, `"?"`)
	}
	return sql
}

// dbErrorText describes a database error without the values in it: a
// PostgreSQL error by its SQLSTATE, its message with quoted parts
// blanked and the constraint it names; other errors by their message
// with quoted parts blanked.
func dbErrorText(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		s := fmt.Sprintf("%s (SQLSTATE %s)", blankAll(pgErr.Message), pgErr.Code)
		if pgErr.ConstraintName != "" {
			s += " constraint " + pgErr.ConstraintName
		}
		return s
	}
	return blankAll(err.Error())
}

func blankAll(s string) string {
	return doubleQuoted.ReplaceAllLiteralString(singleQuoted.ReplaceAllLiteralString(s, "'?'"), `"?"`)
}
