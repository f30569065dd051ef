package web

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
	totpPeriod  = 30
	totpDigits  = 6
	totpSkew    = 1 // steps accepted before and after the current one
	totpKeySize = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// hotp is RFC 4226's HOTP value of counter with digits digits.
func hotp(key []byte, counter uint64, digits int) string {
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

// totpStep is the RFC 6238 time step of t.
func totpStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// verifyTOTP checks code against the steps around now and returns the
// step it matched. The caller must record the step as used so that the
// code works once.
func verifyTOTP(key []byte, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != totpDigits {
		return 0, false
	}
	cur := totpStep(now)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		step := cur + d
		if step < 0 {
			continue
		}
		if hmac.Equal([]byte(hotp(key, uint64(step), totpDigits)), []byte(code)) {
			return step, true
		}
	}
	return 0, false
}

// otpauthURI is the key URI authenticator apps import.
func otpauthURI(key []byte, account string) string {
	v := url.Values{}
	v.Set("secret", b32.EncodeToString(key))
	v.Set("issuer", "Tresor")
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(totpDigits))
	v.Set("period", fmt.Sprint(totpPeriod))
	return "otpauth://totp/" + url.PathEscape("Tresor:"+account) + "?" + v.Encode()
}

// groupKey writes the base32 secret in groups of four for typing.
func groupKey(key []byte) string {
	s := b32.EncodeToString(key)
	var parts []string
	for len(s) > 4 {
		parts = append(parts, s[:4])
		s = s[4:]
	}
	return strings.Join(append(parts, s), " ")
}
