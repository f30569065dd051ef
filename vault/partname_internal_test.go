package vault

import (
	"errors"
	"strings"
	"testing"
)

// Part names: Unicode in NFC, nothing that is a path, hidden or
// unportable.
func TestCheckPartName(t *testing.T) {
	for name, ok := range map[string]bool{
		"photo.jpg": true, "Beweis-Übersicht.jpg": true, "Чат 1.txt": true, "日本語.png": true, "a b.jpg": true,
		strings.Repeat("ü", 64): true, // 128 bytes
		strings.Repeat("ü", 65): false,
		"":                      false, ".hidden": false, manifestName: false, " lead.jpg": false, "trail.jpg ": false, "dot.": false,
		"a/b.jpg": false, `a\b.jpg`: false, "..": false, "a:b.jpg": false, "a*b": false, "a?b": false, `a"b`: false, "a|b": false, "a<b>": false,
		"Beweis-U\u0308bersicht.jpg": false, // NFD
		"a\x00b":                     false, "a\nb": false, "a\x7fb": false, "evil\u202egpj.exe": false, "a\u200bb": false, "a\u2028b": false,
		"a\xffb": false, "a\ue000b": false,
	} {
		err := checkPartName(name)
		if ok != (err == nil) || err != nil && !errors.Is(err, ErrInvalidManifest) {
			t.Errorf("checkPartName(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
