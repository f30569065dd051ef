package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiIncidentList lists the incidents the caller may see, newest first;
// ?state= narrows, ?limit= bounds (default and maximum 500).
func (s *Server) apiIncidentList(c *gin.Context) {
	f := incident.IncidentFilter{Limit: 500}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			s.failJSON(c, fmt.Errorf("%w: limit is 1 to 500", incident.ErrInvalidInput))
			return
		}
		f.Limit = n
	}
	for _, v := range c.QueryArray("state") {
		f.States = append(f.States, incident.State(v))
	}
	incs, err := s.svc.Incidents(c.Request.Context(), actor(c), f)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := make([]apiIncident, 0, len(incs))
	for _, inc := range incs {
		out = append(out, toAPIIncident(inc))
	}
	respond(c, http.StatusOK, gin.H{"incidents": out})
}
