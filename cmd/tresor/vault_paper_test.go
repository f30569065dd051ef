package main

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/vault/threshold"
)

// FuzzKeyFromPaper: whatever is typed, key-from-paper never panics, and
// what it accepts is a holder key (or a well-formed protected file).
func FuzzKeyFromPaper(f *testing.F) {
	_, holders, err := threshold.Generate(2, 3, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	id := holders[0].String()
	f.Add(id)
	f.Add(groupForTyping(strings.ToLower(id), false))
	f.Add("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n")
	f.Add("-----END AGE ENCRYPTED FILE----- BEGIN AGE ENCRYPTED FILE-----")
	f.Add("")
	f.Fuzz(func(t *testing.T, typed string) {
		content, err := keyFromPaper(typed)
		if err != nil {
			return
		}
		if isAgeEncrypted([]byte(content)) {
			return
		}
		lines := strings.Split(strings.TrimSpace(content), "\n")
		if _, err := threshold.ParseIdentity(lines[len(lines)-1]); err != nil {
			t.Fatalf("accepted %q as %q: %v", typed, content, err)
		}
	})
}

func TestKeyFromPaperRoundTrip(t *testing.T) {
	_, holders, err := threshold.Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := holders[1].String()
	typed := groupForTyping(strings.ToLower(id), false)
	if !strings.Contains(typed, " ") || !strings.Contains(typed, "\n") {
		t.Fatalf("not grouped: %q", typed)
	}
	content, err := keyFromPaper(typed)
	if err != nil || !strings.Contains(content, id+"\n") || !strings.Contains(content, "holder 2 of 3") {
		t.Fatalf("restored %q, %v", content, err)
	}
	text, err := protect("# holder\n"+id+"\n", "a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	// Typed without line breaks: the armor is rebuilt.
	got, err := keyFromPaper(strings.Join(strings.Fields(text), " "))
	if err != nil || got != text {
		t.Fatalf("protected paper: %q, %v\nwant %q", got, err, text)
	}
}
