package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tresor-evidence/tresor/account"
)

// accounts implements account.Store on a GORM handle: the store's pools,
// each call on its own, or one transaction (tx.Accounts), whose
// connection every call then uses.
type accounts struct {
	db     *gorm.DB // writes, and reads that must see them
	reader *gorm.DB // reads of sessions, which need no writer
}

var _ account.Store = accounts{}

// Accounts returns the account store outside any transaction.
func (s *Store) Accounts() account.Store { return s.accounts }

// Accounts returns the account store inside t.
func (t *tx) Accounts() account.Store { return accounts{db: t.db, reader: t.db} }

type sessionRow struct {
	TokenHash  string `gorm:"primaryKey"`
	UserID     string
	Stage      string
	CSRF       string `gorm:"column:csrf"`
	CreatedAt  int64  `gorm:"autoCreateTime:false"`
	LastSeenAt int64
}

func (sessionRow) TableName() string { return "sessions" }

func (r sessionRow) session() account.Session {
	return account.Session{TokenHash: r.TokenHash, UserID: r.UserID, Stage: account.SessionStage(r.Stage), CSRF: r.CSRF,
		CreatedAt: fromUS(r.CreatedAt), LastSeenAt: fromUS(r.LastSeenAt)}
}

type secondFactorRow struct {
	UserID       string `gorm:"primaryKey"`
	SecretSealed string
	LastStep     int64
	EnabledAt    int64
}

func (secondFactorRow) TableName() string { return "second_factors" }

type recoveryCodeRow struct {
	UserID   string `gorm:"primaryKey"`
	CodeHash string `gorm:"primaryKey"`
}

func (recoveryCodeRow) TableName() string { return "recovery_codes" }

// CreateSession stores a new session.
func (a accounts) CreateSession(ctx context.Context, sess account.Session) error {
	r := sessionRow{TokenHash: sess.TokenHash, UserID: sess.UserID, Stage: string(sess.Stage), CSRF: sess.CSRF,
		CreatedAt: us(sess.CreatedAt), LastSeenAt: us(sess.LastSeenAt)}
	if err := a.db.WithContext(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create session: %w", translate(err))
	}
	return nil
}

// Session returns the session with the token hash.
func (a accounts) Session(ctx context.Context, tokenHash string) (account.Session, error) {
	var r sessionRow
	if err := a.reader.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return account.Session{}, fmt.Errorf("session: %w", account.ErrNotFound)
		}
		return account.Session{}, fmt.Errorf("failed to read session: %w", translate(err))
	}
	return r.session(), nil
}

// UpdateSession stores a session's stage, CSRF token and last use.
func (a accounts) UpdateSession(ctx context.Context, sess account.Session) error {
	res := a.db.WithContext(ctx).Model(&sessionRow{}).Where("token_hash = ?", sess.TokenHash).
		Updates(map[string]any{"stage": string(sess.Stage), "csrf": sess.CSRF, "last_seen_at": us(sess.LastSeenAt)})
	if res.Error != nil {
		return fmt.Errorf("failed to update session: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("session: %w", account.ErrNotFound)
	}
	return nil
}

// DeleteSession revokes one session.
func (a accounts) DeleteSession(ctx context.Context, tokenHash string) error {
	if err := a.db.WithContext(ctx).Where("token_hash = ?", tokenHash).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("failed to delete session: %w", translate(err))
	}
	return nil
}

// DeleteUserSessions revokes every session of a user but those kept.
func (a accounts) DeleteUserSessions(ctx context.Context, userID string, keep ...string) error {
	q := a.db.WithContext(ctx).Where("user_id = ?", userID)
	if len(keep) > 0 {
		q = q.Where("token_hash NOT IN ?", keep)
	}
	if err := q.Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("failed to delete sessions: %w", translate(err))
	}
	return nil
}

// DeleteUserSessionsBefore revokes the user's sessions created before t.
func (a accounts) DeleteUserSessionsBefore(ctx context.Context, userID string, t time.Time) error {
	if err := a.db.WithContext(ctx).Where("user_id = ? AND created_at < ?", userID, us(t)).Delete(&sessionRow{}).Error; err != nil {
		return fmt.Errorf("failed to delete sessions: %w", translate(err))
	}
	return nil
}

// DeleteStaleSessions removes idle and too old sessions.
func (a accounts) DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) (int64, error) {
	res := a.db.WithContext(ctx).Where("last_seen_at < ? OR created_at < ?", us(idleBefore), us(createdBefore)).Delete(&sessionRow{})
	if res.Error != nil {
		return 0, fmt.Errorf("failed to delete stale sessions: %w", translate(res.Error))
	}
	return res.RowsAffected, nil
}

// SecondFactor returns a user's TOTP enrolment.
func (a accounts) SecondFactor(ctx context.Context, userID string) (account.SecondFactor, error) {
	var r secondFactorRow
	if err := a.db.WithContext(ctx).Where("user_id = ?", userID).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return account.SecondFactor{}, fmt.Errorf("second factor of user %s: %w", userID, account.ErrNotFound)
		}
		return account.SecondFactor{}, fmt.Errorf("failed to read second factor: %w", translate(err))
	}
	return account.SecondFactor{UserID: r.UserID, SecretSealed: r.SecretSealed, LastStep: r.LastStep, EnabledAt: fromUS(r.EnabledAt)}, nil
}

// EnableSecondFactor stores a factor and its recovery codes together.
func (a accounts) EnableSecondFactor(ctx context.Context, f account.SecondFactor, recoveryHashes []string) error {
	err := a.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		r := secondFactorRow{UserID: f.UserID, SecretSealed: f.SecretSealed, LastStep: f.LastStep, EnabledAt: us(f.EnabledAt)}
		if err := db.Create(&r).Error; err != nil {
			return fmt.Errorf("failed to store second factor: %w", translate(err))
		}
		if err := db.Where("user_id = ?", f.UserID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return fmt.Errorf("failed to replace recovery codes: %w", translate(err))
		}
		for _, h := range recoveryHashes {
			if err := db.Create(&recoveryCodeRow{UserID: f.UserID, CodeHash: h}).Error; err != nil {
				return fmt.Errorf("failed to store recovery code: %w", translate(err))
			}
		}
		return nil
	})
	return translate(err)
}

// UseTOTPStep advances LastStep if step is later.
func (a accounts) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	res := a.db.WithContext(ctx).Model(&secondFactorRow{}).Where("user_id = ? AND last_step < ?", userID, step).Update("last_step", step)
	if res.Error != nil {
		return fmt.Errorf("failed to record code use: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("code of step %d already used or no second factor: %w", step, account.ErrConflict)
	}
	return nil
}

// UseRecoveryCode removes one recovery code.
func (a accounts) UseRecoveryCode(ctx context.Context, userID, codeHash string) error {
	res := a.db.WithContext(ctx).Where("user_id = ? AND code_hash = ?", userID, codeHash).Delete(&recoveryCodeRow{})
	if res.Error != nil {
		return fmt.Errorf("failed to use recovery code: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("recovery code: %w", account.ErrNotFound)
	}
	return nil
}

// RecoveryCodesLeft counts unused recovery codes.
func (a accounts) RecoveryCodesLeft(ctx context.Context, userID string) (int, error) {
	var n int64
	if err := a.db.WithContext(ctx).Model(&recoveryCodeRow{}).Where("user_id = ?", userID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("failed to count recovery codes: %w", translate(err))
	}
	return int(n), nil
}

// DeleteSecondFactor removes a user's factor and recovery codes.
func (a accounts) DeleteSecondFactor(ctx context.Context, userID string) error {
	err := a.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		if err := db.Where("user_id = ?", userID).Delete(&recoveryCodeRow{}).Error; err != nil {
			return fmt.Errorf("failed to delete recovery codes: %w", translate(err))
		}
		if err := db.Where("user_id = ?", userID).Delete(&secondFactorRow{}).Error; err != nil {
			return fmt.Errorf("failed to delete second factor: %w", translate(err))
		}
		return nil
	})
	return translate(err)
}
