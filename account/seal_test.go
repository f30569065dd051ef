package account_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/tresor-evidence/tresor/account"
)

// TestSealer: a sealed secret opens only for its purpose and owner and
// under its key; keys derived for different labels are different, stable
// and not the secret key.
func TestSealer(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	k1, err := account.DeriveKey(secret, "tresor/oidc-tokens/v1")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := account.DeriveKey(secret, "tresor/oidc-tokens/v1")
	other, _ := account.DeriveKey(secret, "tresor/other/v1")
	if len(k1) != 32 || !bytes.Equal(k1, again) || bytes.Equal(k1, other) || bytes.Equal(k1, secret) {
		t.Errorf("derived keys: stable %t, per label %t, not the secret %t", bytes.Equal(k1, again), !bytes.Equal(k1, other), !bytes.Equal(k1, secret))
	}
	if _, err := account.DeriveKey(secret[:16], "x"); !errors.Is(err, account.ErrInvalidInput) {
		t.Errorf("DeriveKey of a short secret: %v", err)
	}
	if _, err := account.NewSealer(secret[:31], rand.Reader); !errors.Is(err, account.ErrInvalidInput) {
		t.Errorf("NewSealer with a short key: %v", err)
	}

	s1, err := account.NewSealer(k1, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := account.NewSealer(other, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("refresh-token-value")
	sealed, err := s1.Seal(plain, "oidc-refresh", "iss\x00sub")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(sealed), plain) {
		t.Errorf("sealed value holds the plain text")
	}
	if got, err := s1.Open(sealed, "oidc-refresh", "iss\x00sub"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// A character in the middle: the last one may hold only padding
	// bits, which a lenient base64 decoder ignores.
	mid := len(sealed) / 2
	flip := "A"
	if sealed[mid] == 'A' {
		flip = "B"
	}
	changed := sealed[:mid] + flip + sealed[mid+1:]
	for name, open := range map[string]func() ([]byte, error){
		"other purpose": func() ([]byte, error) { return s1.Open(sealed, "oidc-id-token", "iss\x00sub") },
		"other owner":   func() ([]byte, error) { return s1.Open(sealed, "oidc-refresh", "iss\x00sub2") },
		"other key":     func() ([]byte, error) { return s2.Open(sealed, "oidc-refresh", "iss\x00sub") },
		"changed":       func() ([]byte, error) { return s1.Open(changed, "oidc-refresh", "iss\x00sub") },
		"garbage":       func() ([]byte, error) { return s1.Open("!", "oidc-refresh", "iss\x00sub") },
	} {
		if _, err := open(); !errors.Is(err, account.ErrSealed) {
			t.Errorf("%s: %v, want ErrSealed", name, err)
		}
	}
}
