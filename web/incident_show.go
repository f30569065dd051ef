package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// showView is an incident page: state, receipt (hashes and sizes, never
// content), walkthrough, requests, deadlines and, for auditors and
// supervisors, the audit trail.
type showView struct {
	Inc incident.Incident
	// Label names the incident for people (category and date); its id
	// stays in the technical details and the printed report.
	Label      string
	Category   *policies.Category
	Steps      []stepView
	Requests   []requestView
	Trail      []trailRow
	ShowTrail  bool
	CanReport  bool // an auditor may print the deletion-trail report
	CanWalk    bool // the reporter works through the steps
	CanSubmit  bool // the reporter completes a phone flag
	CanRelease bool // evidence in the vault may be asked for
	CanHold    bool // a supervisor may set or lift the legal hold
	CanDestroy bool // a supervisor may ask to destroy the evidence early
	Categories []policies.Category
	Platforms  []policies.PlatformGuide
	// PlatformName names the incident's platform; nil when the policy no
	// longer has it.
	PlatformName *policies.Text
	// Restricted: suspected CSAM; the page leads with what not to do.
	Restricted bool
	// Form holds what the worker typed into the choice form for an
	// uncaptured message when it comes back with FormError (a catalog key).
	Form      submitForm
	FormError string
}

type stepView struct {
	incident.Step
	Overdue bool
	// Guide says how to do the step; nil when the policy no longer has it.
	Guide *policies.Step
	// Current is the first open step: its instructions start unfolded.
	Current bool
	// Together is the practical help on the step with the young person:
	// every platform's steps worded for going through them together.
	Together []togetherView
}

// togetherView is one platform's steps to go through with the young person.
type togetherView struct {
	Name  policies.Text
	Steps []policies.Step
}

type requestView struct {
	incident.Request
	CanDecide   bool
	CanHandOver bool
	CanDownload bool
	Retry       *decideRetry // the decision form as sent, when it must be sent again
	StepUp      stepUpView   // how the viewer steps up for the decision
	StepUpShown bool         // its confirmation is shown once for the page, not in the form
	// Warnings are why the viewer should think twice before approving:
	// signs that they and the requester may be one person.
	Warnings []incident.ApproverWarning
}

// incidentShow shows one incident the user may see; others' give 404.
func (s *Server) incidentShow(c *gin.Context) {
	s.renderIncident(c, http.StatusOK, submitForm{}, "")
}

// renderIncident renders the incident page, with the choice form filled
// in from form and the error formError when they are set.
func (s *Server) renderIncident(c *gin.Context, status int, form submitForm, formError string) {
	v, err := s.showIncident(c, c.Param("id"), nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	v.Form, v.FormError = form, formError
	s.render(c, status, "incident_show", v)
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
		Categories: s.policy.Categories, Platforms: s.policy.Platforms()}
	if a.Role == incident.RoleSupervisor && inc.Evidence == incident.EvidenceSecured && inc.DestroyedAt == nil {
		v.CanHold, v.CanDestroy = true, !inc.LegalHold
	}
	if cat, err := s.policy.Category(inc.Category); err == nil {
		v.Category, v.Restricted = &cat, cat.Restricted
	} else if !errors.Is(err, policies.ErrUnknownCategory) {
		return showView{}, err
	}
	if g, err := s.policy.Guide(inc.Platform); err == nil {
		v.PlatformName = &g.Name
	}
	l := s.localizer(st(c).lang)
	v.Label = s.incidentLabel(l, s.categoryLabels(l), inc)
	v.Steps = s.stepViews(inc, steps, now)
	su, err := s.stepUp(c)
	if err != nil {
		return showView{}, err
	}
	for _, r := range reqs {
		rv := s.requestView(st(c).user, r, now).retrying(retry)
		rv.StepUp = su
		v.Requests = append(v.Requests, rv)
	}
	if a.Role == incident.RoleAuditor || a.Role == incident.RoleSupervisor {
		v.Trail, v.ShowTrail = trailRows(l, d.Trail, d.People, steps), true
		v.CanReport = a.Role == incident.RoleAuditor
	}
	return v, nil
}

// requestView says what the user me may do with a request.
func (s *Server) requestView(me incident.User, r incident.Request, now time.Time) requestView {
	a := me.Actor()
	decided := false
	for _, d := range r.Decisions {
		decided = decided || d.ActorID == a.ID
	}
	sup := a.Role == incident.RoleSupervisor
	v := requestView{Request: r,
		CanDecide:   sup && r.State == incident.RequestPending && r.RequesterID != a.ID && !decided && now.Before(r.ExpiresAt),
		CanHandOver: sup && r.Kind == incident.RequestRelease && r.State == incident.RequestApproved && r.HandedOverAt == nil,
		CanDownload: sup && s.bundles != nil && s.svc.DownloadLinksLeft(r) > 0,
	}
	if v.CanDecide {
		v.Warnings = incident.ApproverWarnings(me, r.RequesterID, r.CreatedAt)
	}
	return v
}

// stepViews pairs each step with the policy's instructions for it.
func (s *Server) stepViews(inc incident.Incident, steps []incident.Step, now time.Time) []stepView {
	out := make([]stepView, 0, len(steps))
	current := false
	for _, st := range steps {
		sv := stepView{Step: st, Overdue: st.State == incident.StepOpen && st.DueAt.Before(now)}
		if st.State == incident.StepOpen && !current {
			sv.Current, current = true, true
		}
		if g, ok := incident.StepGuide(s.policy, inc.Category, st); ok {
			sv.Guide = &g
			if g.WithYoungPerson {
				sv.Together = s.togetherViews()
			}
		}
		out = append(out, sv)
	}
	return out
}

// togetherViews lists, per platform, the steps the policy words for going
// through together with the young person.
func (s *Server) togetherViews() []togetherView {
	var out []togetherView
	for _, g := range s.policy.Platforms() {
		tv := togetherView{Name: g.Name}
		for _, st := range g.Steps {
			if st.Together.DE != "" || st.Together.EN != "" {
				tv.Steps = append(tv.Steps, st)
			}
		}
		if len(tv.Steps) > 0 {
			out = append(out, tv)
		}
	}
	return out
}
