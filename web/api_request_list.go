package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiRequestList lists the requests the caller may see; ?state= and
// ?incident= narrow.
func (s *Server) apiRequestList(c *gin.Context) {
	f := incident.RequestFilter{State: incident.RequestState(c.Query("state")), IncidentID: c.Query("incident"), Limit: 500}
	switch f.State {
	case "", incident.RequestPending, incident.RequestApproved, incident.RequestRejected, incident.RequestExpired:
	default:
		s.failJSON(c, fmt.Errorf("%w: state is pending, approved, rejected or expired", incident.ErrInvalidInput))
		return
	}
	if f.IncidentID != "" && !idPattern.MatchString(f.IncidentID) {
		s.failJSON(c, fmt.Errorf("incident %q: %w", f.IncidentID, incident.ErrNotFound))
		return
	}
	rs, err := s.svc.Requests(c.Request.Context(), actor(c), f)
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := make([]apiRequest, 0, len(rs))
	for _, r := range rs {
		out = append(out, toAPIRequest(r))
	}
	respond(c, http.StatusOK, gin.H{"requests": out})
}
