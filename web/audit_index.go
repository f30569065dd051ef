package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// auditIndex is the auditor's start page: verify the log, export trails.
func (s *Server) auditIndex(c *gin.Context) {
	cps, err := s.checkpoints(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "audit_index", verifyView{Checkpoints: cps})
}
