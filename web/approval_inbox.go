package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// inboxView is the supervisor's work: pending requests with the incident's
// category, description, metadata and hashes (never content), approved
// releases waiting for the handover, and overdue walkthrough steps.
type inboxView struct {
	Pending   []inboxItem
	Handovers []inboxItem
	Overdue   []overdueItem
	// StepUp is the viewer's step-up; StepUpAbove shows its confirmation
	// once above the requests instead of in each decision form.
	StepUp       stepUpView
	StepUpAbove  bool
	ConfirmAgain bool // a decision came back for want of a confirmation
}

type inboxItem struct {
	Req   requestView
	Inc   incident.Incident
	Label string // the incident for people: category and date
}

type overdueItem struct {
	Inc   incident.Incident
	Label string
	Step  incident.Step
}

// approvalInbox lists what waits for a supervisor.
func (s *Server) approvalInbox(c *gin.Context) {
	v, err := s.inbox(c, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "approval_inbox", v)
}

// inbox gathers the supervisor's work. A decision to show again (a wrong
// code) is put into its request's form.
func (s *Server) inbox(c *gin.Context, retry *decideRetry) (inboxView, error) {
	ctx := c.Request.Context()
	a := actor(c)
	now := s.now()
	l := s.localizer(st(c).lang)
	names := s.categoryLabels(l)
	var v inboxView
	su, err := s.stepUp(c)
	if err != nil {
		return inboxView{}, err
	}
	for _, sel := range []struct {
		state incident.RequestState
		into  *[]inboxItem
	}{{incident.RequestPending, &v.Pending}, {incident.RequestApproved, &v.Handovers}} {
		reqs, err := s.svc.Requests(ctx, a, incident.RequestFilter{State: sel.state, Limit: 500})
		if err != nil {
			return inboxView{}, err
		}
		for _, r := range reqs {
			rv := s.requestView(st(c).user, r, now).retrying(retry)
			rv.StepUp, rv.StepUpShown = su, true
			v.StepUpAbove = v.StepUpAbove || su.AtProvider && rv.CanDecide
			if sel.state == incident.RequestApproved && !rv.CanHandOver {
				continue
			}
			inc, err := s.svc.Incident(ctx, a, r.IncidentID)
			if err != nil {
				return inboxView{}, err
			}
			*sel.into = append(*sel.into, inboxItem{Req: rv, Inc: inc, Label: s.incidentLabel(l, names, inc)})
		}
	}
	v.StepUp, v.ConfirmAgain = su, retry != nil && retry.ConfirmAgain
	walking, err := s.svc.Incidents(ctx, a, incident.IncidentFilter{States: []incident.State{incident.StateWalkthrough}, Limit: 500})
	if err != nil {
		return inboxView{}, err
	}
	for _, inc := range walking {
		steps, err := s.svc.Steps(ctx, a, inc.ID)
		if err != nil {
			return inboxView{}, err
		}
		for _, st := range steps {
			if st.State == incident.StepOpen && st.DueAt.Before(now) {
				v.Overdue = append(v.Overdue, overdueItem{Inc: inc, Label: s.incidentLabel(l, names, inc), Step: st})
			}
		}
	}
	return v, nil
}
