package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Purposes a secret is sealed for; a secret sealed for one does not open
// for another.
const (
	PurposeTOTP   = "totp"   // an enabled second factor, in the store
	PurposeEnroll = "enroll" // a secret offered for enrolment, in the form
)

// RecoveryCount is how many recovery codes an enrolment gives.
const RecoveryCount = 10

// ErrSealed: a sealed secret does not open (wrong key, user or purpose,
// or changed).
var ErrSealed = errors.New("sealed secret does not open")

// Factors checks and enrols second factors. It seals TOTP secrets with
// AES-256-GCM under the server's secret key ([Sealer]), bound to a
// purpose and user id (the additional data), so a sealed secret copied to
// another user or purpose does not open. It is safe for concurrent use.
type Factors struct {
	*Sealer
	rand io.Reader
	now  func() time.Time
}

// NewFactors returns Factors over the 32-byte secret key; nonces and
// recovery codes come from rand, the TOTP time from now. Seal and Open
// take the user id as the owner.
func NewFactors(key []byte, rand io.Reader, now func() time.Time) (*Factors, error) {
	s, err := NewSealer(key, rand)
	if err != nil {
		return nil, err
	}
	return &Factors{Sealer: s, rand: rand, now: now}, nil
}

// Check verifies a TOTP code (or, when allowRecovery, a recovery code) of
// the user and consumes it through st, so that it works once. A wrong or
// used code, or a user without a second factor, gives ErrWrongCode;
// recovery says a recovery code was used.
func (f *Factors) Check(ctx context.Context, st Store, userID, code string, allowRecovery bool) (recovery bool, err error) {
	sf, err := st.SecondFactor(ctx, userID)
	if errors.Is(err, ErrNotFound) {
		return false, ErrWrongCode
	}
	if err != nil {
		return false, err
	}
	key, err := f.Open(sf.SecretSealed, PurposeTOTP, userID)
	if err != nil {
		return false, fmt.Errorf("failed to open the second factor of user %s: %w", userID, err)
	}
	if step, ok := VerifyTOTP(key, code, f.now()); ok {
		err := st.UseTOTPStep(ctx, userID, step)
		if errors.Is(err, ErrConflict) {
			return false, ErrWrongCode
		}
		return false, err
	}
	if !allowRecovery {
		return false, ErrWrongCode
	}
	norm := normalizeRecovery(code)
	if len(norm) != 12 {
		return false, ErrWrongCode
	}
	err = st.UseRecoveryCode(ctx, userID, HashToken(norm))
	if errors.Is(err, ErrNotFound) {
		return false, ErrWrongCode
	}
	return err == nil, err
}

func normalizeRecovery(code string) string {
	return strings.ToLower(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(code)))
}

// NewRecoveryCodes returns codes to show once and their hashes to store.
func (f *Factors) NewRecoveryCodes() (codes, hashes []string, err error) {
	for range RecoveryCount {
		var b [8]byte
		if _, err := io.ReadFull(f.rand, b[:]); err != nil {
			return nil, nil, fmt.Errorf("failed to read random bytes: %w", err)
		}
		raw := strings.ToLower(B32.EncodeToString(b[:]))[:12]
		codes = append(codes, raw[:4]+"-"+raw[4:8]+"-"+raw[8:])
		hashes = append(hashes, HashToken(raw))
	}
	return codes, hashes, nil
}
