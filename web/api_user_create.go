package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiUserCreate adds an account with a role and an initial password.
func (s *Server) apiUserCreate(c *gin.Context) {
	var b apiUserBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	role, err := incident.ParseRole(b.Role)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	u, err := s.svc.AddUser(c.Request.Context(), actor(c), incident.NewUser{Username: b.Username, DisplayName: b.DisplayName, Role: role, Password: b.Password, Email: b.Email})
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusCreated, toAPIUser(u))
}
