package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// secondFactorSubmit completes the sign-in with a TOTP or recovery code.
// Repeated wrong codes end the half-open session and lock the account's
// second factor for a while.
func (s *Server) secondFactorSubmit(c *gin.Context) {
	var f codeForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	rs := st(c)
	u := rs.user
	key := "2fa:" + u.ID
	if s.limiter.locked(key) {
		s.lockedOut(c)
		return
	}
	recovery, err := s.checkSecondFactor(ctx, u.ID, f.Code, true)
	if errors.Is(err, errWrongCode) {
		if err := s.svc.RecordAuthEvent(ctx, u.Actor(), incident.AuthSecondFactorFailed, u.ID); err != nil {
			s.fail(c, err)
			return
		}
		if s.limiter.fail(key) {
			if err := s.svc.RecordAuthEvent(ctx, incident.System, incident.AuthLockedOut, u.ID); err != nil {
				s.fail(c, err)
				return
			}
			s.lockedOut(c)
			return
		}
		s.render(c, http.StatusUnauthorized, "second_factor", codeView{Error: "second_factor.wrong"})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.limiter.reset(key)
	ev := incident.AuthSecondFactorSucceeded
	if recovery {
		ev = incident.AuthRecoveryCodeUsed
	}
	if err := s.svc.RecordAuthEvent(ctx, u.Actor(), ev, u.ID); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.startSession(c, u, account.StageActive); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/")
}

// lockedOut ends the half-open session and shows the lockout.
func (s *Server) lockedOut(c *gin.Context) {
	if sess := st(c).session; sess != nil {
		if err := s.endSession(c, sess.TokenHash); err != nil {
			s.fail(c, err)
			return
		}
		st(c).session = nil
	}
	s.render(c, http.StatusTooManyRequests, "login", loginView{Error: "login.locked"})
}
