package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// statusOf maps a domain error to its HTTP status. This is the one place
// where that mapping lives.
func statusOf(err error) int {
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, incident.ErrForbidden), errors.Is(err, incident.ErrNotSupervisor), errors.Is(err, incident.ErrSelfApproval),
		errors.Is(err, incident.ErrAffectedAccount), errors.Is(err, incident.ErrWrongPassword):
		return http.StatusForbidden
	case errors.Is(err, incident.ErrInvalidInput), errors.Is(err, incident.ErrReasonRequired), errors.Is(err, account.ErrSealed):
		return http.StatusBadRequest
	case errors.Is(err, incident.ErrExpired), errors.Is(err, incident.ErrAlreadyDecided), errors.Is(err, incident.ErrInvalidTransition),
		errors.Is(err, incident.ErrConflict), errors.Is(err, incident.ErrDuplicate), errors.Is(err, incident.ErrNotSecured),
		errors.Is(err, incident.ErrLegalHold), errors.Is(err, audit.ErrTampered):
		return http.StatusConflict
	case errors.Is(err, incident.ErrBadCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, incident.ErrStorageFull):
		return http.StatusInsufficientStorage
	case errors.Is(err, incident.ErrUnavailable):
		return http.StatusServiceUnavailable
	case errors.As(err, &tooBig), errors.Is(err, incident.ErrUploadTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, incident.ErrContentForbidden):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errWrongCode), errors.Is(err, incident.ErrStepUpFailed):
		return http.StatusForbidden
	case errors.Is(err, incident.ErrStepUpLocked):
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// errUnsupportedMedia: the uploaded file's type, told by its first bytes,
// is not one the policy allows.
var errUnsupportedMedia = incident.ErrUploadType

// errorView is the data of the error page.
type errorView struct {
	Status int
	Title  string // catalog key of the heading
	Text   string // catalog key of what happened
	Detail string // a catalog key naming the domain rule, or ""
	Hint   string // a translated sentence with the facts to go on (allowed file types, the size limit), or ""
	Back   string // the page the refused form came from, or ""
}

// fail renders the error page for err. Unexpected errors are logged with
// the request id; the page then says only that something went wrong.
func (s *Server) fail(c *gin.Context, err error) {
	status := statusOf(err)
	if status == http.StatusInsufficientStorage {
		s.storageFull(c, err)
		s.renderErrorView(c, storageFullView(s.errorView(c, status, "")))
		return
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", st(c).requestID, "route", c.FullPath(), "err", incident.ErrorClass(err))
	}
	v := s.errorView(c, status, detailKey(err))
	l := s.localizer(st(c).lang)
	var tooBig *http.MaxBytesError
	var refused *incident.UploadTypeError
	switch {
	case errors.As(err, &refused):
		v.Detail = "" // the list says it better than "only the policy's types"
		v.Hint = l.T("forms.types_allowed", l.fileKinds(s.policy.UploadTypes))
		if refused.Detected != "" {
			v.Hint += " " + l.T("forms.type_detected", l.fileKind(refused.Detected))
		}
	case errors.As(err, &tooBig):
		v.Hint = l.T("forms.size_limit", l.Size(tooBig.Limit))
	}
	s.renderErrorView(c, v)
}

// failStatus renders the error page for a status without a domain error.
func (s *Server) failStatus(c *gin.Context, status int) { s.renderError(c, status, "") }

// formExpired answers a form whose CSRF token does not match the session:
// the session ended or changed since the page was loaded (signed out,
// signed in again, a server restart of the session store). It is told
// apart from a refusal, with the way back to the form.
func (s *Server) formExpired(c *gin.Context) {
	v := s.errorView(c, http.StatusForbidden, "")
	v.Title, v.Text = "forms.expired", "forms.expired_text"
	s.renderErrorView(c, v)
}

// detailKey names the rule an error broke, for a clearer page.
func detailKey(err error) string {
	for _, d := range []struct {
		err error
		key string
	}{
		{incident.ErrSelfApproval, "error.detail.self_approval"},
		{incident.ErrAffectedAccount, "account.error.affected"},
		{incident.ErrNotSupervisor, "error.detail.not_supervisor"},
		{incident.ErrExpired, "error.detail.expired"},
		{incident.ErrAlreadyDecided, "error.detail.already_decided"},
		{incident.ErrReasonRequired, "error.detail.reason_required"},
		{incident.ErrInvalidTransition, "error.detail.invalid_transition"},
		{incident.ErrConflict, "error.detail.conflict"},
		{incident.ErrDuplicate, "error.detail.duplicate"},
		{incident.ErrInvalidInput, "error.detail.invalid_input"},
		{incident.ErrLegalHold, "error.detail.legal_hold"},
		{audit.ErrTampered, "error.detail.audit_tampered"},
		{incident.ErrContentForbidden, "error.detail.content_forbidden"},
		{errUnsupportedMedia, "error.detail.unsupported_media"},
		{errWrongCode, "error.detail.step_up"},
		{incident.ErrStepUpLocked, "error.detail.step_up_locked"},
	} {
		if errors.Is(err, d.err) {
			return d.key
		}
	}
	return ""
}

// errorView is the error page for a status: its heading and text, and,
// for a refused form, the page to go back to.
func (s *Server) errorView(c *gin.Context, status int, detail string) errorView {
	v := errorView{Status: status, Title: fmt.Sprint("error.", status), Text: fmt.Sprint("error.", status, ".text"), Detail: detail}
	if c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
		v.Back = formPage(c)
	}
	return v
}

func (s *Server) renderError(c *gin.Context, status int, detail string) {
	s.renderErrorView(c, s.errorView(c, status, detail))
}

func (s *Server) renderErrorView(c *gin.Context, v errorView) {
	retryAfter(c, v.Status)
	if v.Back != "" {
		st(c).page = v.Back // the language switch returns to the form, not to its action
	}
	s.render(c, v.Status, "error", v)
	c.Abort()
}

// errorCode names an error for API clients; it refines the status.
func errorCode(err error) string {
	var tooBig *http.MaxBytesError
	for _, d := range []struct {
		err  error
		code string
	}{
		{incident.ErrSelfApproval, "self_approval"},
		{incident.ErrAffectedAccount, "affected_account"},
		{incident.ErrWrongPassword, "wrong_password"},
		{incident.ErrNotSupervisor, "not_supervisor"},
		{incident.ErrForbidden, "forbidden"},
		{incident.ErrNotFound, "not_found"},
		{incident.ErrExpired, "expired"},
		{incident.ErrAlreadyDecided, "already_decided"},
		{incident.ErrReasonRequired, "reason_required"},
		{incident.ErrInvalidTransition, "invalid_transition"},
		{incident.ErrNotSecured, "not_secured"},
		{incident.ErrLegalHold, "legal_hold"},
		{audit.ErrTampered, "audit_tampered"},
		{incident.ErrConflict, "conflict"},
		{incident.ErrDuplicate, "duplicate"},
		{incident.ErrContentForbidden, "content_forbidden"},
		{incident.ErrBadCredentials, "unauthorized"},
		{incident.ErrStorageFull, "storage_full"},
		{incident.ErrUnavailable, "unavailable"},
		{incident.ErrInvalidInput, "invalid_input"},
		{account.ErrSealed, "invalid_input"},
		{errUnsupportedMedia, "unsupported_media_type"},
		{errWrongCode, "step_up_failed"},
		{incident.ErrStepUpLocked, "step_up_locked"},
	} {
		if errors.Is(err, d.err) {
			return d.code
		}
	}
	if errors.As(err, &tooBig) || errors.Is(err, incident.ErrUploadTooLarge) {
		return "too_large"
	}
	return "internal"
}

// apiError is the body of every API error response.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the body field that was wrong, for a client to show the
	// error beside it and keep the rest of what was typed.
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// errorField names the request field an error is about, or "".
func errorField(err error) string {
	switch {
	case errors.Is(err, errWrongCode):
		return "code"
	case errors.Is(err, incident.ErrReasonRequired):
		return "reason"
	}
	return ""
}

// failJSON answers an API call with the error's status and code. Domain
// errors explain themselves; unexpected ones are logged and reported only
// as internal, with the request id.
func (s *Server) failJSON(c *gin.Context, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status == http.StatusInsufficientStorage {
		s.storageFull(c, err)
		c.AbortWithStatusJSON(status, apiError{Error: apiErrorBody{Code: errorCode(err), Message: storageFullMessage, RequestID: st(c).requestID}})
		return
	}
	if status >= 500 {
		s.log.Error("request failed", "request_id", st(c).requestID, "route", c.FullPath(), "err", incident.ErrorClass(err))
		msg = http.StatusText(status)
	}
	retryAfter(c, status)
	c.AbortWithStatusJSON(status, apiError{Error: apiErrorBody{Code: errorCode(err), Message: msg, Field: errorField(err), RequestID: st(c).requestID}})
}

// jsonError writes an error body and stops the chain.
func (s *Server) jsonError(c *gin.Context, status int, code, msg string) {
	retryAfter(c, status)
	c.AbortWithStatusJSON(status, apiError{Error: apiErrorBody{Code: code, Message: msg, RequestID: st(c).requestID}})
}

// unavailableRetry is what a 503 asks clients to wait before trying
// again: a database restart or failover takes seconds.
const unavailableRetry = "10"

// retryAfter tells a client when to try a 503 again.
func retryAfter(c *gin.Context, status int) {
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", unavailableRetry)
	}
}
