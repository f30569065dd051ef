package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// apiUserUnlock ends an account's lock after many failed sign-ins and
// says whether it was locked.
func (s *Server) apiUserUnlock(c *gin.Context) {
	locked, err := s.svc.UnlockAccount(c.Request.Context(), actor(c), c.Param("name"))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, apiUnlocked{WasLocked: locked})
}

// apiUnlocked is the answer to an unlock.
type apiUnlocked struct {
	WasLocked bool `json:"was_locked"`
}
