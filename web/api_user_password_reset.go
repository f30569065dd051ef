package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiUserResetPassword sets a one-time password for an account and
// answers it once; for an account that approves, it works only after a
// second person approves the account request in the answer.
func (s *Server) apiUserResetPassword(c *gin.Context) {
	ch, err := s.svc.ResetPassword(c.Request.Context(), actor(c), c.Param("name"))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := apiPasswordReset{User: toAPIUser(ch.User), OneTimePassword: ch.Password}
	if ch.Pending() {
		r := toAPIAccountRequest(*ch.Request)
		out.AccountRequest = &r
	}
	respond(c, http.StatusOK, out)
}
