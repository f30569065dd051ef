package policies

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestOIDCCheckInterval: oidc.offboarding_check_interval is a duration
// between 1m and 24h; absent, it is 0 (the service's default).
func TestOIDCCheckInterval(t *testing.T) {
	const base = "oidc:\n  claim: roles\n  roles: {a: worker}\n"
	for _, tc := range []struct {
		value string
		want  time.Duration
		msg   string // the error names this; "" for none
	}{
		{"", 0, ""},
		{"15m", 15 * time.Minute, ""},
		{"1m", time.Minute, ""},
		{"24h", 24 * time.Hour, ""},
		{"1d", 24 * time.Hour, ""},
		{"59s", 0, `oidc.offboarding_check_interval "59s" must be between 1m and 24h`},
		{"25h", 0, `oidc.offboarding_check_interval "25h" must be between 1m and 24h`},
		{"2d", 0, `oidc.offboarding_check_interval "2d" must be between 1m and 24h`},
		{"0s", 0, "oidc.offboarding_check_interval must be positive"},
		{"-5m", 0, "oidc.offboarding_check_interval must be positive"},
		{"often", 0, `oidc.offboarding_check_interval: invalid duration "often"`},
		{"[15m]", 0, "oidc.offboarding_check_interval must be"},
	} {
		t.Run(tc.value, func(t *testing.T) {
			in := base
			if tc.value != "" {
				in += "  offboarding_check_interval: " + tc.value + "\n"
			}
			p, err := Parse("t.yaml", []byte(in))
			if tc.msg == "" {
				if err != nil || p.OIDC.CheckInterval != tc.want {
					t.Fatalf("Parse = %v, interval %v; want %v", err, p.OIDC.CheckInterval, tc.want)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.msg) || pe.Line != 4 {
				t.Errorf("Parse = %v, want an error at line 4 naming %q", err, tc.msg)
			}
		})
	}
}
