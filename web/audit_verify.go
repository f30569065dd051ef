package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// verifyView is the result of verifying the audit log.
type verifyView struct {
	Done     bool
	OK       bool
	Result   audit.Result
	Root     string
	Tampered *audit.TamperError
	// Checkpoints is the signed-checkpoint block.
	Checkpoints checkpointView
}

// auditVerify checks the whole audit log and shows the result.
func (s *Server) auditVerify(c *gin.Context) {
	cps, err := s.checkpoints(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.svc.VerifyAudit(c.Request.Context())
	var te *audit.TamperError
	switch {
	case errors.As(err, &te):
		s.render(c, http.StatusOK, "audit_index", verifyView{Done: true, Tampered: te, Checkpoints: cps})
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "audit_index", verifyView{Done: true, OK: true, Result: res, Root: res.Tree.Hash.String(), Checkpoints: cps})
}
