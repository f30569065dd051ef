package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/policies"
)

// recordView is the record of processing activities (Art. 30 GDPR) with
// its headings.
type recordView struct {
	Record policies.Record
	Labels policies.RecordHeadings
}

// processingRecord shows the record of processing activities generated
// from the policy, for the data-protection officer; it prints.
func (s *Server) processingRecord(c *gin.Context) {
	s.render(c, http.StatusOK, "processing_record", recordView{Record: s.policy.RecordOfProcessing(), Labels: policies.RecordLabels})
}
