package incident

import (
	"fmt"
	"strings"
)

// knownID returns ErrNotFound for an id in a form Tresor never issues
// (see newID: 32 lowercase hex digits), so that whatever a caller puts
// in a path or a field ends here and reaches no query, no log line and
// no audit entry. Such an id cannot name anything that exists.
func knownID(kind, id string) error {
	if len(id) != 32 {
		return fmt.Errorf("%w: %s", ErrNotFound, kind)
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %s", ErrNotFound, kind)
		}
	}
	return nil
}

// knownUsername returns ErrNotFound for a name no account can have
// (names are compared in lower case, as AddUser stores them).
func knownUsername(name string) error {
	if !usernamePattern.MatchString(strings.ToLower(strings.TrimSpace(name))) {
		return fmt.Errorf("%w: user", ErrNotFound)
	}
	return nil
}

// MaxMessageIDLength bounds a WhatsApp message id (WhatsApp's are 16 to
// 32 characters; 128 leaves room for other forms).
const MaxMessageIDLength = 128

// checkMessageID refuses a message id that is not 1 to 128 ASCII letters
// and digits, as WhatsApp's are. A message id enters the audit log (the
// incident.flagged entry) and log lines, which must never carry text a
// caller wrote: a name or a phone number typed into the id field is
// invalid input, never stored. The error does not repeat the id.
func checkMessageID(id string) error {
	if id == "" || len(id) > MaxMessageIDLength {
		return fmt.Errorf("%w: the message id must be 1 to %d letters and digits", ErrInvalidInput, MaxMessageIDLength)
	}
	for i := range len(id) {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return fmt.Errorf("%w: the message id must be 1 to %d letters and digits", ErrInvalidInput, MaxMessageIDLength)
		}
	}
	return nil
}

// checkFileHash refuses a stated file hash that is not a SHA-256 in hex
// (it enters the audit log as it is).
func checkFileHash(h string) error {
	if h == "" {
		return nil
	}
	if len(h) != 64 {
		return fmt.Errorf("%w: the file hash must be a SHA-256 in hex (64 characters)", ErrInvalidInput)
	}
	for i := range len(h) {
		if c := h[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return fmt.Errorf("%w: the file hash must be a SHA-256 in hex (64 characters)", ErrInvalidInput)
		}
	}
	return nil
}
