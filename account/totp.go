package account

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP parameters (RFC 6238 defaults that every authenticator app knows).
const (
	TOTPPeriod  = 30
	TOTPDigits  = 6
	TOTPSkew    = 1 // steps accepted before and after the current one
	TOTPKeySize = 20
)

// B32 is the base32 alphabet of TOTP secrets, without padding.
var B32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP is RFC 4226's HOTP value of counter with digits digits.
func HOTP(key []byte, counter uint64, digits int) string {
	mac := hmac.New(sha1.New, key)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TOTPStep is the RFC 6238 time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// TOTPCode is the code of key at step.
func TOTPCode(key []byte, step int64) string { return HOTP(key, uint64(step), TOTPDigits) }

// VerifyTOTP checks code against the steps around now and returns the
// step it matched. The caller must record the step as used
// (Store.UseTOTPStep) so that the code works once.
func VerifyTOTP(key []byte, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != TOTPDigits {
		return 0, false
	}
	cur := TOTPStep(now)
	for d := int64(-TOTPSkew); d <= TOTPSkew; d++ {
		step := cur + d
		if step < 0 {
			continue
		}
		if hmac.Equal([]byte(TOTPCode(key, step)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}

// OTPAuthURI is the key URI authenticator apps import.
func OTPAuthURI(key []byte, account string) string {
	v := url.Values{}
	v.Set("secret", B32.EncodeToString(key))
	v.Set("issuer", "Tresor")
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(TOTPDigits))
	v.Set("period", fmt.Sprint(TOTPPeriod))
	return "otpauth://totp/" + url.PathEscape("Tresor:"+account) + "?" + v.Encode()
}

// GroupKey writes the base32 secret in groups of four for typing.
func GroupKey(key []byte) string {
	s := B32.EncodeToString(key)
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}
