package policies

import (
	"errors"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Platform
	}{
		{"android", PlatformAndroid},
		{"iphone", PlatformIPhone},
		{"web", PlatformWeb},
		{" Web ", PlatformWeb},
	} {
		got, err := ParsePlatform(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParsePlatform(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "ios", "windows", "android2"} {
		if _, err := ParsePlatform(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePlatform(%q) error = %v, want ErrInvalid", in, err)
		}
	}
}
