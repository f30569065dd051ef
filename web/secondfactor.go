package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tresor-evidence/tresor/incident"
)

// errWrongCode: the second-factor code is wrong, used already, or the user
// has no second factor.
var errWrongCode = errors.New("wrong or used code")

const (
	purposeTOTP   = "totp"
	purposeEnroll = "enroll"
	recoveryCount = 10
)

// checkSecondFactor verifies a TOTP code (or, when allowRecovery, a
// recovery code) of the user and consumes it, so it works once.
func (s *Server) checkSecondFactor(ctx context.Context, userID, code string, allowRecovery bool) (recovery bool, err error) {
	f, err := s.sessions.SecondFactor(ctx, userID)
	if errors.Is(err, incident.ErrNotFound) {
		return false, errWrongCode
	}
	if err != nil {
		return false, err
	}
	key, err := s.box.open(f.SecretSealed, purposeTOTP, userID)
	if err != nil {
		return false, fmt.Errorf("failed to open the second factor of user %s: %w", userID, err)
	}
	if step, ok := verifyTOTP(key, code, s.now()); ok {
		err := s.sessions.UseTOTPStep(ctx, userID, step)
		if errors.Is(err, incident.ErrConflict) {
			return false, errWrongCode
		}
		return false, err
	}
	if !allowRecovery {
		return false, errWrongCode
	}
	norm := normalizeRecovery(code)
	if len(norm) != 12 {
		return false, errWrongCode
	}
	err = s.sessions.UseRecoveryCode(ctx, userID, hashToken(norm))
	if errors.Is(err, incident.ErrNotFound) {
		return false, errWrongCode
	}
	return err == nil, err
}

func normalizeRecovery(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// newRecoveryCodes returns codes to show once and their hashes to store.
func (s *Server) newRecoveryCodes() (codes, hashes []string, err error) {
	for range recoveryCount {
		var b [8]byte
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return nil, nil, fmt.Errorf("failed to read random bytes: %w", err)
		}
		raw := strings.ToLower(b32.EncodeToString(b[:]))[:12]
		codes = append(codes, raw[:4]+"-"+raw[4:8]+"-"+raw[8:])
		hashes = append(hashes, hashToken(raw))
	}
	return codes, hashes, nil
}
