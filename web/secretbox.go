package web

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
)

// secretBox encrypts TOTP secrets with AES-256-GCM under the server's
// secret key, bound to a purpose and user id (the additional data), so a
// sealed secret copied to another user or purpose does not open.
type secretBox struct {
	aead cipher.AEAD
	rand io.Reader
}

var errSealed = errors.New("sealed secret does not open")

func newSecretBox(key []byte, rand io.Reader) (*secretBox, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("web: the secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("web: secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("web: secret key: %w", err)
	}
	return &secretBox{aead: aead, rand: rand}, nil
}

func (b *secretBox) seal(plain []byte, purpose, userID string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := io.ReadFull(b.rand, nonce); err != nil {
		return "", fmt.Errorf("failed to read nonce: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, plain, []byte(purpose+"\x00"+userID))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

func (b *secretBox) open(sealed, purpose, userID string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < b.aead.NonceSize() {
		return nil, errSealed
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(purpose+"\x00"+userID))
	if err != nil {
		return nil, errSealed
	}
	return plain, nil
}
