package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiAuditExport downloads the audit entries of one incident or a period
// as CSV or JSON Lines, like the page, and records the export.
func (s *Server) apiAuditExport(c *gin.Context) {
	var f exportForm
	if err := c.ShouldBindQuery(&f); err != nil {
		s.failJSON(c, fmt.Errorf("%w: malformed query", incident.ErrInvalidInput))
		return
	}
	body, ctype, name, err := s.exportTrail(c, f)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, ctype, body)
}
