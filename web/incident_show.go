package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/policies"
)

// showView is an incident page: state, receipt (hashes and sizes, never
// content), walkthrough, requests, deadlines and, for auditors and
// supervisors, the audit trail.
type showView struct {
	Inc        incident.Incident
	Category   *policies.Category
	Steps      []stepView
	Requests   []requestView
	Trail      []audit.Entry
	ShowTrail  bool
	CanWalk    bool // the reporter works through the steps
	CanSubmit  bool // the reporter completes a phone flag
	CanRelease bool // evidence in the vault may be asked for
	CanHold    bool // a supervisor may set or lift the legal hold
	CanDestroy bool // a supervisor may ask to destroy the evidence early
	Categories []policies.Category
	Platforms  []policies.Platform
}

type stepView struct {
	incident.Step
	Overdue bool
}

type requestView struct {
	incident.Request
	CanDecide   bool
	CanHandOver bool
	CanDownload bool
	Retry       *decideRetry // the decision form as sent, when it must be sent again
}

// incidentShow shows one incident the user may see; others' give 404.
func (s *Server) incidentShow(c *gin.Context) {
	v, err := s.showIncident(c, c.Param("id"), nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "incident_show", v)
}

// showIncident gathers an incident's page. A decision to show again (a
// wrong code) is put into its request's form.
func (s *Server) showIncident(c *gin.Context, id string, retry *decideRetry) (showView, error) {
	ctx := c.Request.Context()
	a := actor(c)
	d, err := s.svc.IncidentDetail(ctx, a, id)
	if err != nil {
		return showView{}, err
	}
	inc, steps, reqs := d.Incident, d.Steps, d.Requests
	now := s.now()
	reporter := inc.ReporterID == a.ID
	v := showView{Inc: inc, CanWalk: reporter && inc.State == incident.StateWalkthrough,
		CanSubmit:  reporter && inc.State == incident.StateFlagged,
		CanRelease: (reporter || a.Role == incident.RoleSupervisor) && inc.Evidence == incident.EvidenceSecured && inc.DestroyedAt == nil,
		Categories: s.policy.Categories, Platforms: policies.Platforms()}
	if a.Role == incident.RoleSupervisor && inc.Evidence == incident.EvidenceSecured && inc.DestroyedAt == nil {
		v.CanHold, v.CanDestroy = true, !inc.LegalHold
	}
	if cat, err := s.policy.Category(inc.Category); err == nil {
		v.Category = &cat
	} else if !errors.Is(err, policies.ErrUnknownCategory) {
		return showView{}, err
	}
	for _, st := range steps {
		v.Steps = append(v.Steps, stepView{Step: st, Overdue: st.State == incident.StepOpen && st.DueAt.Before(now)})
	}
	for _, r := range reqs {
		v.Requests = append(v.Requests, s.requestView(a, r, now).retrying(retry))
	}
	if a.Role == incident.RoleAuditor || a.Role == incident.RoleSupervisor {
		v.Trail, v.ShowTrail = d.Trail, true
	}
	return v, nil
}

// requestView says what the user may do with a request.
func (s *Server) requestView(a incident.Actor, r incident.Request, now time.Time) requestView {
	decided := false
	for _, d := range r.Decisions {
		decided = decided || d.ActorID == a.ID
	}
	sup := a.Role == incident.RoleSupervisor
	return requestView{Request: r,
		CanDecide:   sup && r.State == incident.RequestPending && r.RequesterID != a.ID && !decided && now.Before(r.ExpiresAt),
		CanHandOver: sup && r.Kind == incident.RequestRelease && r.State == incident.RequestApproved && r.HandedOverAt == nil,
		CanDownload: sup && s.bundles != nil && r.Kind == incident.RequestRelease && r.State == incident.RequestApproved,
	}
}
