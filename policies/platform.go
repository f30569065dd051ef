package policies

import (
	"fmt"
	"strings"
)

// Platform is a device type the deletion walkthrough is written for.
type Platform string

const (
	PlatformAndroid Platform = "android"
	PlatformIPhone  Platform = "iphone"
	PlatformWeb     Platform = "web" // WhatsApp Web and WhatsApp Desktop
)

// Platforms returns every platform, in display order.
func Platforms() []Platform {
	return []Platform{PlatformAndroid, PlatformIPhone, PlatformWeb}
}

// ParsePlatform returns the platform named s ("android", "iphone" or "web",
// case-insensitive). The error for any other value wraps [ErrInvalid].
func ParsePlatform(s string) (Platform, error) {
	p := Platform(strings.ToLower(strings.TrimSpace(s)))
	if !p.valid() {
		return "", fmt.Errorf("unknown platform %q (want android, iphone or web): %w", s, ErrInvalid)
	}
	return p, nil
}

func (p Platform) valid() bool {
	switch p {
	case PlatformAndroid, PlatformIPhone, PlatformWeb:
		return true
	}
	return false
}
