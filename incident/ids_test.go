package incident

import (
	"errors"
	"strings"
	"testing"
)

func TestKnownID(t *testing.T) {
	for _, tt := range []struct {
		id string
		ok bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{strings.Repeat("f", 32), true},
		{"", false},
		{strings.Repeat("a", 31), false},
		{strings.Repeat("a", 33), false},
		{"0123456789ABCDEF0123456789abcdef", false}, // never issued in upper case
		{"0123456789abcdef0123456789abcdeg", false},
		{"0123456789abcdef0123456789abcde\x00", false},
		{"0123456789abcdef0123456789abcd\xff\xfe", false},
		{"Max Mustermann, Tel 0171 1234567", false},
	} {
		err := knownID("incident", tt.id)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrNotFound) {
			t.Errorf("knownID(%q) = %v, want ok=%v", tt.id, err, tt.ok)
		}
		if err != nil && tt.id != "" && strings.Contains(err.Error(), tt.id) {
			t.Errorf("knownID(%q): the error repeats the caller's text: %v", tt.id, err)
		}
	}
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"susi", true}, {" Susi ", true}, {"s", false}, {"susi\x00", false}, {"sü", false}, {strings.Repeat("a", 64), false},
	} {
		if err := knownUsername(tt.name); (err == nil) != tt.ok {
			t.Errorf("knownUsername(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
