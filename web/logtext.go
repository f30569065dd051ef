package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/tresor-evidence/tresor/incident"
)

// Log lines carry ids Tresor issued, route patterns, counts and error
// classes (incident.ErrorClass), never text from a request: a panic's
// message may quote a form value just as an error's text may.

// panicClass describes a recovered panic value for the log: an error's
// class, or the value's Go type and a short hash of its text.
func panicClass(v any) string {
	if err, ok := v.(error); ok {
		return incident.ErrorClass(err)
	}
	sum := sha256.Sum256(fmt.Append(nil, v))
	return fmt.Sprintf("%T #%s", v, hex.EncodeToString(sum[:4]))
}

// logMethod is the request's method for the access log when it is one of
// HTTP's own, else "OTHER": a client chooses the method's text.
func logMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}
