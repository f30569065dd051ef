package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// The JSON API under /api/v1 offers the actions of the pages. A call is
// authenticated either by a personal access token (Authorization: Bearer,
// created on the "API-Tokens" page) or by the session cookie; with the
// cookie, state-changing calls must carry the session's CSRF token in the
// X-CSRF-Token header. Errors are {"error": {"code", "message"}} with the
// status statusOf gives the pages.

const (
	apiPrefix  = "/api/v1/"
	csrfHeader = "X-CSRF-Token"
)

func isAPI(path string) bool {
	return strings.HasPrefix(path, apiPrefix) || path == strings.TrimSuffix(apiPrefix, "/")
}

// apiGuard authenticates an API call and enforces the route's roles.
func (s *Server) apiGuard(r route) gin.HandlerFunc {
	return func(c *gin.Context) {
		if r.access == public {
			c.Next()
			return
		}
		rs := st(c)
		if h := c.GetHeader("Authorization"); h != "" {
			u, t, err := s.bearer(c, h)
			if err != nil {
				if !errors.Is(err, errBadToken) {
					// The token could not be checked (the database is
					// away): say so, never that the token is bad.
					s.failJSON(c, err)
					return
				}
				c.Header("WWW-Authenticate", `Bearer realm="tresor"`)
				s.jsonError(c, http.StatusUnauthorized, "unauthorized", err.Error())
				return
			}
			// The token alone decides; a cookie sent along is ignored.
			rs.session, rs.user, rs.apiToken = nil, u, &t
		} else {
			sess := rs.session
			if sess == nil || sess.Stage != account.StageActive {
				c.Header("WWW-Authenticate", `Bearer realm="tresor"`)
				s.jsonError(c, http.StatusUnauthorized, "unauthorized", "sign in or send a bearer token")
				return
			}
			if unsafe(r.method) && (!s.sameOrigin(c.Request) || !csrfEqual(c.GetHeader(csrfHeader), sess.CSRF)) {
				s.jsonError(c, http.StatusForbidden, "csrf", "send the session's CSRF token in the "+csrfHeader+" header")
				return
			}
		}
		if !slices.Contains(r.roles, rs.user.Role) {
			s.failJSON(c, fmt.Errorf("%w: your role may not do this", incident.ErrForbidden))
			return
		}
		c.Next()
	}
}

var errBadToken = errors.New("unknown, expired or revoked token")

// bearer resolves an Authorization header to the token's user. Any
// failure of the token is the same errBadToken, so the answer tells
// nothing about which tokens exist; a store that cannot answer is its own
// error (a 503, so that a script does not conclude its token was
// revoked).
func (s *Server) bearer(c *gin.Context, header string) (incident.User, account.APIToken, error) {
	scheme, tok, ok := strings.Cut(header, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(tok, apiTokenPrefix) {
		return incident.User{}, account.APIToken{}, errBadToken
	}
	ctx := c.Request.Context()
	t, err := s.accounts.APITokenByHash(ctx, account.HashToken(tok))
	if errors.Is(err, incident.ErrNotFound) {
		return incident.User{}, account.APIToken{}, errBadToken
	}
	if err != nil {
		return incident.User{}, account.APIToken{}, fmt.Errorf("failed to look up api token: %w", err)
	}
	now := s.now()
	if !t.Active(now) {
		return incident.User{}, account.APIToken{}, errBadToken
	}
	u, err := s.svc.User(ctx, incident.System, t.UserID)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return incident.User{}, account.APIToken{}, fmt.Errorf("failed to look up the token's account: %w", err)
	}
	// Like sessions, tokens do not outlive a change to their account.
	if err != nil || u.Disabled || u.UpdatedAt.After(t.CreatedAt) {
		return incident.User{}, account.APIToken{}, errBadToken
	}
	if now.Sub(t.LastUsedAt) >= touchEvery {
		if err := s.accounts.TouchAPIToken(ctx, t.ID, now); err != nil {
			s.log.Error("api token touch", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
		}
	}
	return u, t, nil
}

// decodeJSON reads the request body as exactly one JSON object into v:
// unknown fields, trailing data and other content types are refused; the
// body is already limited by limitBody.
func decodeJSON(c *gin.Context, v any) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return fmt.Errorf("%w: send Content-Type application/json", incident.ErrInvalidInput)
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		return fmt.Errorf("%w: malformed JSON: %v", incident.ErrInvalidInput, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: one JSON object only", incident.ErrInvalidInput)
	}
	return checkText(v)
}

// respond writes v as JSON.
func respond(c *gin.Context, status int, v any) { c.JSON(status, v) }
