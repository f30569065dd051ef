package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// Sealer encrypts small secrets for the store with AES-256-GCM, bound to
// a purpose and to whom they belong (the additional data), so that a
// sealed value copied to another row or purpose does not open. Factors
// seals TOTP secrets with one; the identity provider's tokens are sealed
// with another, under a key of their own ([DeriveKey]). It is safe for
// concurrent use.
type Sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewSealer returns a Sealer over the 32-byte key; nonces come from rand.
func NewSealer(key []byte, rand io.Reader) (*Sealer, error) {
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
	return &Sealer{aead: aead, rand: rand}, nil
}

// DeriveKey derives a 32-byte key for one use from the server's secret
// key (HKDF-SHA256 with label as its info), so that keys for different
// uses are independent and none is the secret key itself.
func DeriveKey(secret []byte, label string) ([]byte, error) {
	if len(secret) != 32 {
		return nil, fmt.Errorf("%w: the secret key must be 32 bytes, got %d", ErrInvalidInput, len(secret))
	}
	k, err := hkdf.Key(sha256.New, secret, nil, label, 32)
	if err != nil {
		return nil, fmt.Errorf("failed to derive the %s key: %w", label, err)
	}
	return k, nil
}

// Seal encrypts plain for purpose and owner (a user id, or whatever the
// caller binds the secret to).
func (s *Sealer) Seal(plain []byte, purpose, owner string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return "", fmt.Errorf("failed to read nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plain, []byte(purpose+"\x00"+owner))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts what Seal returned for the same purpose and owner, else
// ErrSealed.
func (s *Sealer) Open(sealed, purpose, owner string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return nil, ErrSealed
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(purpose+"\x00"+owner))
	if err != nil {
		return nil, ErrSealed
	}
	return plain, nil
}
