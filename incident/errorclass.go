package incident

import (
	"context"
	"errors"
)

// ErrorClass names the kind of err for logs and metrics: one of a fixed
// set of words, never the error's text, which may quote what a caller
// typed or what WhatsApp or a mail server answered.
func ErrorClass(err error) string {
	switch {
	case err == nil:
		return "none"
	case errors.Is(err, ErrStorageFull):
		return "storage_full"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrConflict):
		return "conflict"
	case errors.Is(err, ErrNotFound):
		return "not_found"
	case errors.Is(err, ErrPermanent):
		return "permanent"
	case errors.Is(err, ErrInvalidInput):
		return "invalid_input"
	case errors.Is(err, ErrInvalidTransition):
		return "invalid_transition"
	}
	return "other"
}
