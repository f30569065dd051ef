package incident

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// The upload rule: a file is accepted only when its first bytes — never
// its name or the type a browser claims — show one of the policy's
// upload types, and only up to the policy's size. FlagUpload and
// SubmitUpload check it themselves, so web, API and any other caller are
// held to the same limits; a handler may refuse earlier, never later.

var (
	// ErrUploadType: the file's type, told by its first bytes, is not
	// one of the policy's upload types. The error is an
	// *UploadTypeError naming the type found.
	ErrUploadType = errors.New("the file type is not allowed by the policy")
	// ErrUploadTooLarge: the file is larger than the policy allows. The
	// error is an *UploadTooLargeError naming the limit.
	ErrUploadTooLarge = errors.New("the file is larger than the policy allows")
)

// UploadTypeError is ErrUploadType for one file.
type UploadTypeError struct{ Detected string }

func (e *UploadTypeError) Error() string { return fmt.Sprintf("%v: %s", ErrUploadType, e.Detected) }
func (e *UploadTypeError) Unwrap() error { return ErrUploadType }

// UploadTooLargeError is ErrUploadTooLarge with the limit in bytes.
type UploadTooLargeError struct{ Limit int64 }

func (e *UploadTooLargeError) Error() string {
	return fmt.Sprintf("%v (%d bytes)", ErrUploadTooLarge, e.Limit)
}
func (e *UploadTooLargeError) Unwrap() error { return ErrUploadTooLarge }

// MediaExt is the file extension (".jpg") of a media type Tresor knows,
// "" for others.
func MediaExt(mediaType string) string { return mediaExt[mediaType] }

// checkUpload applies the upload rule to file: it reads the first bytes,
// refuses an empty file, a type the policy does not allow and a declared
// size over the limit, and returns the part as it is sealed: named by its
// type (the sender's name never becomes a path), typed by its bytes, and
// failing with *UploadTooLargeError once more than the limit is read.
func (s *Service) checkUpload(file Part) (Part, error) {
	if file.Content == nil {
		return Part{}, fmt.Errorf("%w: the file is missing", ErrInvalidInput)
	}
	limit := s.policy.UploadMaxBytes
	if file.Size > limit {
		return Part{}, &UploadTooLargeError{Limit: limit}
	}
	br := bufio.NewReaderSize(file.Content, SniffLen)
	head, err := br.Peek(SniffLen)
	switch {
	case len(head) == 0 && (err == nil || errors.Is(err, io.EOF)):
		return Part{}, fmt.Errorf("%w: the file is empty", ErrInvalidInput)
	case err != nil && !errors.Is(err, io.EOF):
		return Part{}, err
	}
	mt := SniffMediaType(head)
	if !slices.Contains(s.policy.UploadTypes, mt) {
		return Part{}, &UploadTypeError{Detected: mt}
	}
	return Part{Name: UploadPartName(mt), MediaType: mt, Size: file.Size, Content: &capReader{r: br, left: limit, limit: limit}}, nil
}

// capReader passes at most limit bytes and then fails with
// *UploadTooLargeError, so that the vault discards what it sealed.
type capReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, &UploadTooLargeError{Limit: c.limit}
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	if int64(n) > c.left {
		n, c.left = int(c.left), -1
		return n, &UploadTooLargeError{Limit: c.limit}
	}
	c.left -= int64(n)
	return n, err
}

// SniffLen is how much of a file decides its type (http.DetectContentType
// reads at most 512 bytes).
const SniffLen = 512

// SniffMediaType tells a file's media type from its first bytes, never from
// the name or the type the browser claims. http.DetectContentType does
// the work; ISO-BMFF brands it does not name (HEIC photos, QuickTime and
// 3GPP videos, M4A audio) and Ogg (WhatsApp voice notes) are refined.
func SniffMediaType(head []byte) string {
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

// mediaExt is the file extension of a media type Tresor knows.
var mediaExt = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif", "image/heic": ".heic",
	"image/bmp": ".bmp", "video/mp4": ".mp4", "video/3gpp": ".3gp", "video/quicktime": ".mov", "video/webm": ".webm",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/wave": ".wav", "application/pdf": ".pdf",
	"text/plain": ".txt",
}

// UploadPartName is the name of the upload inside the bundle: fixed, so that
// the browser's file name never becomes a path anywhere.
func UploadPartName(mediaType string) string {
	if ext, ok := mediaExt[mediaType]; ok {
		return "upload" + ext
	}
	return "upload.bin"
}
