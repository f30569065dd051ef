package wa

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
)

// SealerKeySize is the size of a Sealer key: AES-256.
const SealerKeySize = 32

// ErrSealed: a sealed record does not open with the key and context given:
// wrong key, tampered bytes, or a record moved to another worker or message.
var ErrSealed = errors.New("sealed record does not open")

// Sealer encrypts captured messages at rest with AES-256-GCM. Each record
// is bound to its worker and message id (additional data), so that rows
// cannot be swapped in the database unnoticed.
type Sealer struct {
	aead cipher.AEAD
	rand io.Reader
}

// NewSealer returns a Sealer over a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != SealerKeySize {
		return nil, fmt.Errorf("capture key must be %d bytes, got %d", SealerKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("failed to create capture cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("failed to create capture cipher: %w", err)
	}
	return &Sealer{aead: aead, rand: rand.Reader}, nil
}

// LoadSealer reads a key file (32 bytes as hex or base64, or raw) and
// returns its Sealer. The file is what TRESOR_WA_CAPTURE_KEY_FILE or a
// secret mount names; keep it out of database backups.
func LoadSealer(path string) (*Sealer, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read capture key: %w", err)
	}
	key, err := parseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("capture key %s: %w", path, err)
	}
	return NewSealer(key)
}

// GenerateSealerKey writes a new random key, base64-encoded, to path with
// mode 0600. It fails if the file exists, so a key is never overwritten.
func GenerateSealerKey(path string) error {
	key := make([]byte, SealerKeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("failed to generate capture key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create capture key: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("failed to write capture key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to write capture key: %w", err)
	}
	return nil
}

func parseKey(raw []byte) ([]byte, error) {
	if len(raw) == SealerKeySize {
		return raw, nil
	}
	text := bytes.TrimSpace(raw)
	if len(text) == hex.EncodedLen(SealerKeySize) {
		if k, err := hex.DecodeString(string(text)); err == nil {
			return k, nil
		}
	}
	if k, err := base64.StdEncoding.DecodeString(string(text)); err == nil && len(k) == SealerKeySize {
		return k, nil
	}
	return nil, fmt.Errorf("want %d bytes, raw or as hex or base64", SealerKeySize)
}

// Seal encrypts plaintext bound to context: nonce || ciphertext+tag.
func (s *Sealer) Seal(plaintext, context []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, fmt.Errorf("failed to generate nonce: %w", err)
	}
	return s.aead.Seal(nonce, nonce, plaintext, context), nil
}

// Open decrypts what Seal returned for the same context.
func (s *Sealer) Open(sealed, context []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, fmt.Errorf("%w: too short", ErrSealed)
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], context)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSealed, err)
	}
	return plain, nil
}
