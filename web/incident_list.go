package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// listView is the incident list: a worker's own ("Meine Meldungen"),
// everyone's for supervisors and auditors.
type listView struct {
	Incidents []incident.Incident
	Own       bool
	CanFlag   bool
	Names     map[string]policies.Text // category names by id
}

// incidentList lists the incidents the user may see, newest first.
func (s *Server) incidentList(c *gin.Context) {
	a := actor(c)
	incs, err := s.svc.Incidents(c.Request.Context(), a, incident.IncidentFilter{Limit: 500})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "incident_list", listView{Incidents: incs, Own: a.Role == incident.RoleWorker,
		CanFlag: a.Role == incident.RoleWorker || a.Role == incident.RoleSupervisor, Names: s.categoryNames()})
}

// categoryNames maps category ids to their names.
func (s *Server) categoryNames() map[string]policies.Text {
	out := map[string]policies.Text{}
	for _, c := range s.policy.Categories {
		out[c.ID] = c.Name
	}
	return out
}
