package web

import (
	"mime"
	"net/http"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sniffLen is how much of a file decides its type (http.DetectContentType
// reads at most 512 bytes).
const sniffLen = 512

// sniffType tells a file's media type from its first bytes, never from
// the name or the type the browser claims. http.DetectContentType does
// the work; ISO-BMFF brands it does not name (HEIC photos, QuickTime and
// 3GPP videos, M4A audio) and Ogg (WhatsApp voice notes) are refined.
func sniffType(head []byte) string {
	if len(head) >= 12 && string(head[4:8]) == "ftyp" {
		switch brand := string(head[8:12]); {
		case brand == "heic" || brand == "heix" || brand == "heim" || brand == "heis" || brand == "mif1" || brand == "msf1":
			return "image/heic"
		case brand == "qt  ":
			return "video/quicktime"
		case strings.HasPrefix(brand, "3gp") || strings.HasPrefix(brand, "3g2"):
			return "video/3gpp"
		case brand == "M4A " || brand == "M4B ":
			return "audio/mp4"
		}
	}
	ct := http.DetectContentType(head)
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
	}
	if mt == "application/ogg" {
		return "audio/ogg"
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// partExt names the bundle part by the sniffed type.
var partExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif", "image/heic": ".heic",
	"image/bmp": ".bmp", "video/mp4": ".mp4", "video/3gpp": ".3gp", "video/quicktime": ".mov", "video/webm": ".webm",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/wave": ".wav", "application/pdf": ".pdf",
	"text/plain": ".txt",
}

// partName is the name of the upload inside the bundle: fixed, so that
// the browser's file name never becomes a path anywhere.
func partName(mediaType string) string {
	if ext, ok := partExt[mediaType]; ok {
		return "upload" + ext
	}
	return "upload.bin"
}

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
