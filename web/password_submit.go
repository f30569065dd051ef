package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// passwordSubmit changes the user's own password (incident.Service.
// ChangePassword ends every session and API token of the account) and
// signs this browser in again with a fresh session.
func (s *Server) passwordSubmit(c *gin.Context) {
	var f passwordForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	rs := st(c)
	again := func(key string) {
		s.render(c, http.StatusUnprocessableEntity, "account_password", passwordView{Forced: rs.user.MustChangePassword, Error: key})
	}
	if f.New != f.Confirm {
		again("account.password.mismatch")
		return
	}
	u, err := s.svc.ChangePassword(c.Request.Context(), rs.user.Actor(), f.Current, f.New)
	switch {
	case errors.Is(err, incident.ErrWrongPassword):
		again("account.password.wrong")
		return
	case errors.Is(err, incident.ErrInvalidInput):
		again("account.password.weak")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	rs.session = nil // ended with the change
	if err := s.startSession(c, u, account.StageActive); err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/account/password?done=account_password_changed")
}
