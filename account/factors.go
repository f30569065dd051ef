package account

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
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
// AES-256-GCM under the server's secret key, bound to a purpose and user
// id (the additional data), so a sealed secret copied to another user or
// purpose does not open. It is safe for concurrent use.
type Factors struct {
	aead cipher.AEAD
	rand io.Reader
	now  func() time.Time
}

// NewFactors returns Factors over the 32-byte secret key; nonces and
// recovery codes come from rand, the TOTP time from now.
func NewFactors(key []byte, rand io.Reader, now func() time.Time) (*Factors, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: the secret key must be 32 bytes, got %d", ErrInvalidInput, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Factors{aead: aead, rand: rand, now: now}, nil
}

// Seal encrypts plain for purpose and userID.
func (f *Factors) Seal(plain []byte, purpose, userID string) (string, error) {
	nonce := make([]byte, f.aead.NonceSize())
	if _, err := io.ReadFull(f.rand, nonce); err != nil {
		return "", fmt.Errorf("failed to read nonce: %w", err)
	}
	out := f.aead.Seal(nonce, nonce, plain, []byte(purpose+"\x00"+userID))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned for the same purpose and userID, else
// ErrSealed.
func (f *Factors) Open(sealed, purpose, userID string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < f.aead.NonceSize() {
		return nil, ErrSealed
	}
	n := f.aead.NonceSize()
	plain, err := f.aead.Open(nil, raw[:n], raw[n:], []byte(purpose+"\x00"+userID))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
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
