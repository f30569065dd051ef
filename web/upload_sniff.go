package web

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFileName bounds the original file name kept as metadata.
const maxFileName = 120

// safeFileName reduces the browser's file name to its last element,
// without control or invisible characters, at most maxFileName bytes. It
// is kept as metadata only.
func safeFileName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == "/" || name == ".." {
		return ""
	}
	for len(name) > maxFileName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}
