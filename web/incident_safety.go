package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/policies"
)

// incidentSafety is the first screen of "Neue Meldung": the young
// person's safety first, with the policy's emergency contacts.
func (s *Server) incidentSafety(c *gin.Context) {
	s.render(c, http.StatusOK, "incident_safety", struct{ Contacts []policies.EmergencyContact }{s.policy.EmergencyContacts})
}
