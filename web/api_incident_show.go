package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// apiIncidentShow returns one incident with its steps and requests.
func (s *Server) apiIncidentShow(c *gin.Context) {
	d, err := s.incidentDetail(c, c.Param("id"))
	if err != nil {
		s.failJSON(c, err)
		return
	}
	respond(c, http.StatusOK, d)
}

// incidentDetail loads what apiIncidentShow and the state-changing calls
// answer with.
func (s *Server) incidentDetail(c *gin.Context, id string) (apiIncidentDetail, error) {
	ctx := c.Request.Context()
	a := actor(c)
	inc, err := s.svc.Incident(ctx, a, id)
	if err != nil {
		return apiIncidentDetail{}, err
	}
	steps, err := s.svc.Steps(ctx, a, inc.ID)
	if err != nil {
		return apiIncidentDetail{}, err
	}
	reqs, err := s.svc.Requests(ctx, a, incident.RequestFilter{IncidentID: inc.ID})
	if err != nil {
		return apiIncidentDetail{}, err
	}
	d := apiIncidentDetail{Incident: toAPIIncident(inc), Steps: []apiStep{}, Requests: []apiRequest{}}
	for _, step := range steps {
		d.Steps = append(d.Steps, toAPIStep(step, st(c).lang))
	}
	for _, r := range reqs {
		d.Requests = append(d.Requests, toAPIRequest(r))
	}
	return d, nil
}
