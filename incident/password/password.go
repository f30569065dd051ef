// Package password hashes and checks passwords with argon2id.
//
// Hashes are encoded in the PHC string format
// ($argon2id$v=19$m=65536,t=3,p=2$salt$hash) so that parameters can be
// raised later without invalidating stored hashes. Checking takes constant
// time in the hash comparison. Passwords are never logged or stored.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// Default follows RFC 9106's second recommended option, scaled for a
// small server: 64 MiB, 3 passes, 2 lanes.
var Default = Params{Memory: 64 * 1024, Time: 3, Threads: 2}

// MinLength and MaxLength bound accepted passwords (OWASP ASVS 6.2.1/6.2.9:
// at least 8 characters, 64 and more allowed, no composition rules).
const (
	MinLength = 8
	MaxLength = 1024
)

var (
	// ErrMismatch: the password does not match the hash.
	ErrMismatch = errors.New("password does not match")
	// ErrWeak: the password is too short or too long.
	ErrWeak = errors.New("password does not meet the length rules")
	// ErrMalformed: the stored hash cannot be parsed.
	ErrMalformed = errors.New("malformed password hash")
)

// Check validates a new password's length in characters.
func Check(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength {
		return fmt.Errorf("%w: at least %d characters", ErrWeak, MinLength)
	}
	if len(pw) > MaxLength {
		return fmt.Errorf("%w: at most %d bytes", ErrWeak, MaxLength)
	}
	return nil
}

// Hash returns the encoded argon2id hash of pw with a random salt.
func Hash(pw string, p Params, rnd io.Reader) (string, error) {
	if err := Check(pw); err != nil {
		return "", err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return "", fmt.Errorf("failed to read salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks pw against an encoded hash: nil, ErrMismatch or ErrMalformed.
func Verify(pw, encoded string) error {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return ErrMalformed
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return ErrMalformed
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return ErrMalformed
	}
	if p.Memory < 8 || p.Memory > 4<<20 || p.Time < 1 || p.Time > 100 || p.Threads < 1 {
		return ErrMalformed
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return ErrMalformed
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return ErrMalformed
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}
