package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// classSentinels are the errors ErrorClass names when err wraps them.
var classSentinels = []struct {
	err  error
	name string
}{
	{ErrNotFound, "not_found"}, {ErrForbidden, "forbidden"}, {ErrSelfApproval, "self_approval"},
	{ErrNotSupervisor, "not_supervisor"}, {ErrExpired, "expired"}, {ErrAlreadyDecided, "already_decided"},
	{ErrReasonRequired, "reason_required"}, {ErrInvalidTransition, "invalid_transition"},
	{ErrNotSecured, "not_secured"}, {ErrInvalidInput, "invalid_input"}, {ErrConflict, "conflict"},
	{ErrDuplicate, "duplicate"}, {ErrUnavailable, "unavailable"}, {ErrNoJob, "no_job"},
	{ErrLegalHold, "legal_hold"}, {ErrPermanent, "permanent"}, {ErrMailHeader, "mail_header"},
	{ErrContentForbidden, "content_forbidden"}, {ErrStorageFull, "storage_full"}, {ErrLogoutReplayed, "logout_replayed"},
	{context.DeadlineExceeded, "deadline_exceeded"}, {context.Canceled, "canceled"},
	{io.ErrUnexpectedEOF, "unexpected_eof"}, {fs.ErrNotExist, "not_exist"}, {fs.ErrPermission, "permission"},
}

// ErrorClass describes err for a log line or a job's last error without
// any text that a caller, a remote server or stored data put into it: an
// error's text may hold a message id, a user name, a file name or the
// recipient address an SMTP server repeats back, and log lines and job
// rows must never carry such text. It names the sentinels err wraps, a
// class an adapter's error reports (an ErrorClass() string method, whose
// contract is a fixed code such as smtp_rcpt_550, never text it was
// given; spaces and line breaks become _), whether it is a timeout, the
// SQLSTATE of a database error,
// the Go types in its chain, and a short hash of the full text so that
// equal failures can be matched. For example:
//
//	unavailable sqlstate=57P01 types=*pgconn.PgError #1c0e5a27
func ErrorClass(err error) string {
	if err == nil {
		return ""
	}
	var parts []string
	for _, s := range classSentinels {
		if errors.Is(err, s.err) {
			parts = append(parts, s.name)
		}
	}
	var classed interface{ ErrorClass() string }
	if errors.As(err, &classed) {
		parts = append(parts, safeToken(classed.ErrorClass()))
	}
	var timeout interface{ Timeout() bool }
	if errors.As(err, &timeout) && timeout.Timeout() {
		parts = append(parts, "timeout")
	}
	var sql interface{ SQLState() string }
	if errors.As(err, &sql) {
		parts = append(parts, "sqlstate="+safeToken(sql.SQLState()))
	}
	if types := chainTypes(err); len(types) > 0 {
		parts = append(parts, "types="+strings.Join(types, ","))
	}
	sum := sha256.Sum256([]byte(err.Error()))
	return strings.Join(append(parts, "#"+hex.EncodeToString(sum[:4])), " ")
}

// chainTypes lists the Go types in err's chain that tell something: not
// the plain and wrapping errors of the errors and fmt packages.
func chainTypes(err error) []string {
	var types []string
	seen := map[string]bool{}
	var walk func(error, int)
	walk = func(e error, depth int) {
		if e == nil || depth > 16 || len(types) >= 6 {
			return
		}
		t := fmt.Sprintf("%T", e)
		switch t {
		case "*errors.errorString", "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
		default:
			if !seen[t] {
				seen[t] = true
				types = append(types, safeToken(t))
			}
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c, depth+1)
			}
		}
	}
	walk(err, 0)
	return types
}

// safeToken keeps letters, digits and the punctuation of Go type names,
// at most 64 bytes: a class or code an adapter reports cannot smuggle
// text into a log line.
func safeToken(s string) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= 64 {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("_.*[]=-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
