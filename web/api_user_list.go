package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiUserList lists every account.
func (s *Server) apiUserList(c *gin.Context) {
	us, err := s.svc.Users(c.Request.Context(), actor(c))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := make([]apiUser, 0, len(us))
	for _, u := range us {
		out = append(out, toAPIUser(u))
	}
	respond(c, http.StatusOK, gin.H{"users": out})
}
