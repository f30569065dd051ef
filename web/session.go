package web

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

const (
	idleTimeout     = 30 * time.Minute
	absoluteTimeout = 12 * time.Hour
	// touchEvery limits writes: LastSeenAt is refreshed at most this often.
	touchEvery = time.Minute
)

// cookieName is the session cookie's name; __Host- pins it to this
// host and path / under TLS.
func (s *Server) cookieName(base string) string {
	if s.tls {
		return "__Host-" + base
	}
	return base
}

func (s *Server) setCookie(c *gin.Context, base, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteStrictMode})
}

// token returns n random bytes in URL-safe base64.
func (s *Server) token(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", fmt.Errorf("failed to read random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadSession finds the request's session and user, and its language.
func (s *Server) loadSession(c *gin.Context) {
	rs := st(c)
	rs.lang = s.language(c)
	if isProbe(c) {
		c.Next()
		return
	}
	err := s.resolveSession(c, rs)
	if err == nil && rs.session != nil && !isAPI(c.Request.URL.Path) {
		err = s.allowProviderSignOut(c, rs)
	}
	if err != nil {
		if isAPI(c.Request.URL.Path) {
			s.failJSON(c, err)
		} else {
			s.fail(c, err)
		}
		c.Abort()
		return
	}
	c.Next()
}

// allowProviderSignOut sets the page's CSP to let forms lead to the
// identity provider's end-session endpoint when the session's sign-out
// goes on there: the account is linked to the provider (the domain's
// rule) and the provider's end-session origin is known (discovered).
func (s *Server) allowProviderSignOut(c *gin.Context, rs *reqState) error {
	if s.idp == nil {
		return nil
	}
	origin := s.idp.EndSessionOrigin()
	if origin == "" {
		return nil
	}
	out, err := s.svc.ProviderSignOut(c.Request.Context(), rs.user.ID)
	if err != nil || !out.AtProvider {
		return err
	}
	rs.formOrigin = origin
	c.Header("Content-Security-Policy", s.pageCSP(c, false))
	return nil
}

func (s *Server) resolveSession(c *gin.Context, rs *reqState) error {
	tok, err := c.Cookie(s.cookieName("tresor"))
	if err != nil || tok == "" {
		return nil
	}
	ctx := c.Request.Context()
	sess, err := s.accounts.Session(ctx, account.HashToken(tok))
	if errors.Is(err, incident.ErrNotFound) {
		s.setCookie(c, "tresor", "", -1)
		return nil
	}
	if err != nil {
		return err
	}
	now := s.now()
	if now.Sub(sess.LastSeenAt) > idleTimeout || now.Sub(sess.CreatedAt) > absoluteTimeout {
		return s.endSession(c, sess.TokenHash)
	}
	u, err := s.svc.User(ctx, incident.System, sess.UserID)
	// A session does not outlive a change to its account (role, disabled):
	// even if revoking the sessions failed after the change, they end here.
	if errors.Is(err, incident.ErrNotFound) || (err == nil && (u.Disabled || u.UpdatedAt.After(sess.CreatedAt))) {
		return s.endSession(c, sess.TokenHash)
	}
	if err != nil {
		return err
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		sess.LastSeenAt = now
		if err := s.accounts.UpdateSession(ctx, sess); err != nil {
			return err
		}
	}
	rs.session, rs.user = &sess, u
	return nil
}

// endSession revokes a session and clears the cookie.
func (s *Server) endSession(c *gin.Context, tokenHash string) error {
	s.setCookie(c, "tresor", "", -1)
	return s.accounts.DeleteSession(c.Request.Context(), tokenHash)
}

// startSession creates a fresh session for u at stage, replacing any the
// request had (a new token at every privilege change).
func (s *Server) startSession(c *gin.Context, u incident.User, stage account.SessionStage) error {
	ctx := c.Request.Context()
	rs := st(c)
	if rs.session != nil {
		if err := s.accounts.DeleteSession(ctx, rs.session.TokenHash); err != nil {
			return err
		}
	}
	tok, err := s.token(32)
	if err != nil {
		return err
	}
	csrf, err := s.token(32)
	if err != nil {
		return err
	}
	now := s.now()
	sess := account.Session{TokenHash: account.HashToken(tok), UserID: u.ID, Stage: stage, CSRF: csrf, CreatedAt: now, LastSeenAt: now}
	if err := s.accounts.CreateSession(ctx, sess); err != nil {
		return err
	}
	s.setCookie(c, "tresor", tok, int(absoluteTimeout/time.Second))
	rs.session, rs.user = &sess, u
	return nil
}

// needsSecondFactor says whether the role must sign in with TOTP.
func needsSecondFactor(r incident.Role) bool { return r != incident.RoleWorker }

// afterFirstFactor is the stage a session starts at once u proved the
// first factor (a password, or the identity provider's sign-in when it
// does not stand for the second): the second factor if u has one, its
// set-up if u's role needs one, else active.
func (s *Server) afterFirstFactor(ctx context.Context, u incident.User) (account.SessionStage, error) {
	_, err := s.accounts.SecondFactor(ctx, u.ID)
	switch {
	case err == nil:
		return account.StageSecondFactor, nil
	case !errors.Is(err, incident.ErrNotFound):
		return "", err
	case needsSecondFactor(u.Role):
		return account.StageEnroll, nil
	}
	return account.StageActive, nil
}

// stageHome is the page a session at stage goes to first.
func stageHome(stage account.SessionStage) string {
	switch stage {
	case account.StageSecondFactor:
		return "/login/second-factor"
	case account.StageEnroll:
		return "/account/second-factor"
	}
	return "/"
}
