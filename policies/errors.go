package policies

import (
	"errors"
	"strconv"
)

// ErrUnknownCategory is wrapped by [Policy.Category] when no category has the
// requested id.
var ErrUnknownCategory = errors.New("unknown category")

// ErrInvalid is wrapped by every error that reports a malformed or invalid
// policy, and by [Policy.ParsePlatform], [Policy.Guide] and [Policy.Steps] for an unknown platform.
var ErrInvalid = errors.New("invalid policy")

// Error is a validation or syntax error located in a policy file.
//
// Line is 1-based; it is 0 when the YAML parser did not report a line.
// Every Error wraps [ErrInvalid].
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
	}
	return e.File + ": " + e.Msg
}

// Unwrap returns [ErrInvalid].
func (e *Error) Unwrap() error { return ErrInvalid }
