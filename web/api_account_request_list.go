package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiAccountRequestList lists the pending account requests.
func (s *Server) apiAccountRequestList(c *gin.Context) {
	reqs, err := s.svc.AccountRequests(c.Request.Context(), actor(c), incident.AccountRequestFilter{State: incident.RequestPending})
	if err != nil {
		s.failJSON(c, err)
		return
	}
	out := []apiAccountRequest{}
	for _, r := range reqs {
		if r.State == incident.RequestPending {
			out = append(out, toAPIAccountRequest(r))
		}
	}
	respond(c, http.StatusOK, out)
}
