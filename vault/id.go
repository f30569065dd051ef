package vault

import (
	"encoding/hex"
	"fmt"
	"io"
)

// idBytes is the number of random bytes in a generated bundle id.
const idBytes = 16

// ValidID reports whether id is a valid bundle id: 16 to 64 characters, each
// a lowercase ASCII letter or digit. Such ids are safe as path components and
// object keys. Generated ids are 32 lowercase hex digits.
func ValidID(id string) bool {
	if len(id) < 16 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func checkID(id string) error {
	if !ValidID(id) {
		if len(id) > 80 {
			id = id[:80] + "…"
		}
		return fmt.Errorf("%w: %q", ErrInvalidID, id)
	}
	return nil
}

func newID(rand io.Reader) (string, error) {
	b := make([]byte, idBytes)
	if _, err := io.ReadFull(rand, b); err != nil {
		return "", fmt.Errorf("failed to generate bundle id: %w", err)
	}
	return hex.EncodeToString(b), nil
}
