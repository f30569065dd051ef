package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiUserSetEmail sets or clears ("") where an account's notifications go.
func (s *Server) apiUserSetEmail(c *gin.Context) {
	var b apiEmailBody
	if err := decodeJSON(c, &b); err != nil {
		s.failJSON(c, err)
		return
	}
	if b.Email == nil {
		s.failJSON(c, fmt.Errorf("%w: email is required (\"\" clears it)", incident.ErrInvalidInput))
		return
	}
	u, err := s.svc.SetUserEmail(c.Request.Context(), actor(c), c.Param("name"), *b.Email)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, toAPIUser(u))
}
