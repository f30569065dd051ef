package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// loginSubmit checks user name and password under the domain's sign-in
// rule (Service.SignIn counts, slows down, locks and records) and starts a
// session at the stage the user's second factor calls for.
func (s *Server) loginSubmit(c *gin.Context) {
	var f loginForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	u, err := s.svc.SignIn(ctx, f.Username, f.Password, c.ClientIP())
	var wait *incident.SignInWait
	switch {
	case errors.Is(err, incident.ErrBadCredentials):
		s.render(c, http.StatusUnauthorized, "login", loginView{Error: "login.failed", Username: f.Username})
		return
	case errors.As(err, &wait):
		c.Header("Retry-After", strconv.Itoa(wait.Seconds()))
		v := loginView{Error: "lockout.wait", Seconds: wait.Seconds(), Username: f.Username}
		if v.Seconds == 1 {
			v.Error, v.Seconds = "lockout.wait_one", 0
		}
		s.render(c, http.StatusTooManyRequests, "login", v)
		return
	case errors.Is(err, incident.ErrAccountLocked):
		s.render(c, http.StatusLocked, "login", loginView{Error: "lockout.locked", Username: f.Username})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	stage, err := s.afterFirstFactor(ctx, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := s.startSession(c, u, stage); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, stageHome(stage))
}
