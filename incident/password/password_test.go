package password

import (
	"errors"
	"strings"
	"testing"
)

// fast keeps the tests quick; the format and checks are the same.
var fast = Params{Memory: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery", fast, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("unexpected encoding %q", h)
	}
	if err := Verify("correct horse battery", h); err != nil {
		t.Fatalf("Verify(right) = %v", err)
	}
	if err := Verify("correct horse batterz", h); !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify(wrong) = %v, want ErrMismatch", err)
	}
	h2, err := Hash("correct horse battery", fast, nil)
	if err != nil {
		t.Fatal(err)
	}
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		weak bool
	}{
		{"", true},
		{"1234567", true},
		{"12345678", false},
		{"äöüäöüäö", false},
		{strings.Repeat("x", 64), false},
		{strings.Repeat("x", MaxLength+1), true},
	} {
		err := Check(tc.pw)
		if got := errors.Is(err, ErrWeak); got != tc.weak {
			t.Errorf("Check(%d chars) = %v, want weak=%v", len(tc.pw), err, tc.weak)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	for _, enc := range []string{
		"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=999999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
	} {
		if err := Verify("whatever1", enc); !errors.Is(err, ErrMalformed) {
			t.Errorf("Verify(%q) = %v, want ErrMalformed", enc, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
	f.Fuzz(func(t *testing.T, pw, enc string) {
		_ = Verify(pw, enc) // must not panic
	})
}
