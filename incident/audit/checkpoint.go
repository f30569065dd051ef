package audit

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// CheckpointOrigin is the first line of every checkpoint.
const CheckpointOrigin = "tresor audit log"

var (
	// ErrCheckpointSignature is matched by errors from [OpenCheckpoint] when
	// the note is not validly signed by the expected key.
	ErrCheckpointSignature = errors.New("checkpoint signature not valid")
	// ErrMalformedCheckpoint is matched by errors from [OpenCheckpoint] when
	// the message is not a signed note or its text is not a checkpoint.
	ErrMalformedCheckpoint = errors.New("malformed checkpoint")
)

// FormatCheckpoint returns the checkpoint text of t (C2SP tlog-checkpoint
// style, without extension lines):
//
//	tresor audit log
//	<N in decimal>
//	<root hash in standard base64>
func FormatCheckpoint(t tlog.Tree) string {
	var b strings.Builder
	b.Grow(len(CheckpointOrigin) + 1 + 20 + 1 + 44 + 1)
	b.WriteString(CheckpointOrigin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(t.N, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(t.Hash[:]))
	b.WriteByte('\n')
	return b.String()
}

// ParseCheckpoint parses checkpoint text as written by [FormatCheckpoint].
// It does not check any signature; use [OpenCheckpoint] for signed notes.
func ParseCheckpoint(text string) (tlog.Tree, error) {
	lines := strings.Split(text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		return tlog.Tree{}, fmt.Errorf("%w: want 3 lines ending in newlines, got %q", ErrMalformedCheckpoint, truncate(text))
	}
	if lines[0] != CheckpointOrigin {
		return tlog.Tree{}, fmt.Errorf("%w: origin is %q, want %q", ErrMalformedCheckpoint, truncate(lines[0]), CheckpointOrigin)
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return tlog.Tree{}, fmt.Errorf("%w: tree size %q is not a non-negative decimal number", ErrMalformedCheckpoint, truncate(lines[1]))
	}
	h, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("%w: root hash %q is not %d bytes in base64", ErrMalformedCheckpoint, truncate(lines[2]), tlog.HashSize)
	}
	t := tlog.Tree{N: n}
	copy(t.Hash[:], h)
	return t, nil
}

func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

// SignCheckpoint returns the checkpoint of t as a note signed by s.
func SignCheckpoint(t tlog.Tree, s note.Signer) ([]byte, error) {
	if s == nil {
		return nil, errors.New("failed to sign checkpoint: nil signer")
	}
	if t.N < 0 {
		return nil, fmt.Errorf("failed to sign checkpoint: negative tree size %d", t.N)
	}
	msg, err := note.Sign(&note.Note{Text: FormatCheckpoint(t)}, s)
	if err != nil {
		return nil, fmt.Errorf("failed to sign checkpoint: %w", err)
	}
	return msg, nil
}

// OpenCheckpoint checks that msg is a note signed by v and returns the tree
// in its text. Errors match [ErrCheckpointSignature] (not signed by v, or the
// signature does not match the text — the text was altered) or
// [ErrMalformedCheckpoint].
func OpenCheckpoint(msg []byte, v note.Verifier) (tlog.Tree, error) {
	if v == nil {
		return tlog.Tree{}, errors.New("failed to open checkpoint: nil verifier")
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return tlog.Tree{}, fmt.Errorf("failed to open checkpoint: %w: no signature by key %s+%08x: %w", ErrCheckpointSignature, v.Name(), v.KeyHash(), err)
		case errors.As(err, &invalid):
			return tlog.Tree{}, fmt.Errorf("failed to open checkpoint: %w: signature does not match the text (text or signature altered): %w", ErrCheckpointSignature, err)
		default:
			return tlog.Tree{}, fmt.Errorf("failed to open checkpoint: %w: %w", ErrMalformedCheckpoint, err)
		}
	}
	t, err := ParseCheckpoint(n.Text)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("failed to open checkpoint: %w", err)
	}
	return t, nil
}

// GenerateKey generates a checkpoint signing key pair for the given key
// name (non-empty, no spaces or '+'), using rand (crypto/rand if nil).
// skey is secret; vkey is given to auditors.
func GenerateKey(rand io.Reader, name string) (skey, vkey string, err error) {
	if name == "" || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsSpace) >= 0 || strings.Contains(name, "+") {
		return "", "", fmt.Errorf("failed to generate checkpoint key: invalid key name %q: must be non-empty UTF-8 without spaces or '+'", name)
	}
	skey, vkey, err = note.GenerateKey(rand, name)
	if err != nil {
		return "", "", fmt.Errorf("failed to generate checkpoint key: %w", err)
	}
	return skey, vkey, nil
}

// NewSigner parses a signer key from [GenerateKey]. Errors never contain the key.
func NewSigner(skey string) (note.Signer, error) {
	s, err := note.NewSigner(strings.TrimSpace(skey))
	if err != nil {
		return nil, fmt.Errorf("failed to parse checkpoint signer key: %w", err)
	}
	return s, nil
}

// NewVerifier parses a verifier key from [GenerateKey].
func NewVerifier(vkey string) (note.Verifier, error) {
	v, err := note.NewVerifier(strings.TrimSpace(vkey))
	if err != nil {
		return nil, fmt.Errorf("failed to parse checkpoint verifier key %q: %w", truncate(vkey), err)
	}
	return v, nil
}
