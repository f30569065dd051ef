package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// apiAuditVerify checks the whole audit log. A tampered log is a result
// (ok: false, with the problem), not an error.
func (s *Server) apiAuditVerify(c *gin.Context) {
	res, err := s.svc.VerifyAudit(c.Request.Context())
	var te *audit.TamperError
	switch {
	case errors.As(err, &te):
		respond(c, http.StatusOK, apiVerifyResult{OK: false, Problem: te.Error()})
		return
	case err != nil:
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, apiVerifyResult{OK: true, Entries: res.Entries, Head: res.Head.String(), TreeHash: res.Tree.Hash.String()})
}
