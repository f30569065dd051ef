package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// reportView is the printable deletion-trail report of one incident, for
// the provider's files: what happened, who did it and when, never the
// description or the message's content.
type reportView struct {
	Inc        incident.Incident
	Category   *policies.Category
	Controller policies.Text
	Reporter   string
	Steps      []reportStep
	Requests   []reportRequest
	Trail      []trailRow
	Made       time.Time
	MadeBy     string
}

type reportStep struct {
	incident.Step
	DoneBy string
}

type reportRequest struct {
	incident.Request
	Requester string
	Deciders  []reportDecision
}

type reportDecision struct {
	Who     string
	Approve bool
	At      time.Time
}

// incidentReport shows the report; reading it is recorded as an export.
func (s *Server) incidentReport(c *gin.Context) {
	a := actor(c)
	d, err := s.svc.IncidentReport(c.Request.Context(), a, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	l := s.localizer(st(c).lang)
	u := st(c).user
	v := reportView{Inc: d.Incident, Controller: s.policy.Processing.Controller, Made: s.now(),
		Reporter: personLabel(l, d.Incident.ReporterID, d.People),
		MadeBy:   personLabel(l, u.ID, map[string]incident.Person{u.ID: {ID: u.ID, Name: displayName(u), Role: u.Role}}),
		Trail:    trailRows(l, d.Trail, d.People, d.Steps)}
	if cat, err := s.policy.Category(d.Incident.Category); err == nil {
		v.Category = &cat
	} else if !errors.Is(err, policies.ErrUnknownCategory) {
		s.fail(c, err)
		return
	}
	for _, step := range d.Steps {
		rs := reportStep{Step: step}
		if step.DoneBy != "" {
			rs.DoneBy = personLabel(l, step.DoneBy, d.People)
		}
		v.Steps = append(v.Steps, rs)
	}
	for _, r := range d.Requests {
		rr := reportRequest{Request: r, Requester: personLabel(l, r.RequesterID, d.People)}
		for _, dec := range r.Decisions {
			rr.Deciders = append(rr.Deciders, reportDecision{Who: personLabel(l, dec.ActorID, d.People), Approve: dec.Approve, At: dec.At})
		}
		v.Requests = append(v.Requests, rr)
	}
	s.render(c, http.StatusOK, "incident_report", v)
}

// displayName is how pages name a user.
func displayName(u incident.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}
