package web

import (
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// accountRequestsView lists account changes waiting for a second person,
// and those that expired lately without a decision.
type accountRequestsView struct {
	Requests []accountRequestItem
	// Expired are the requests that expired undecided in the last
	// expiredShownFor, newest first: the requester's mail links here.
	Expired []accountRequestItem
	// Retry is a decision sent again after a wrong code, kept as typed.
	Retry *accountDecideRetry
	// StepUp is how the viewer steps up for decisions.
	StepUp stepUpView
}

// expiredShownFor is how long the page still shows a request that
// expired undecided.
const expiredShownFor = 7 * 24 * time.Hour

type accountRequestItem struct {
	incident.AccountRequest
	Subject   incident.User
	Requester incident.User
	// CanDecide: the viewer may decide it (AccountRequest.DecidableBy).
	CanDecide bool
	// Warnings are why the viewer should think twice before approving.
	Warnings []incident.ApproverWarning
}

// ConfirmAgainFor reports whether the decision on request id came back
// for want of a confirmation at the identity provider.
func (v accountRequestsView) ConfirmAgainFor(id string) bool {
	return v.Retry != nil && v.Retry.RequestID == id && v.Retry.ConfirmAgain
}

// accountDecideRetry is a decision form shown again with its error.
type accountDecideRetry struct {
	RequestID string
	Decision  string
	Reason    string
	Error     string // catalog key
	// ConfirmAgain: no confirmation at the identity provider served it.
	ConfirmAgain bool
}

// accountRequestList shows the pending account requests with their
// decision forms.
func (s *Server) accountRequestList(c *gin.Context) {
	v, err := s.accountRequests(c, nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "account_requests", v)
}

// accountRequests builds the page's data, for the viewer.
func (s *Server) accountRequests(c *gin.Context, retry *accountDecideRetry) (accountRequestsView, error) {
	ctx := c.Request.Context()
	a := actor(c)
	var reqs []incident.AccountRequest
	for _, st := range []incident.RequestState{incident.RequestPending, incident.RequestExpired} {
		rs, err := s.svc.AccountRequests(ctx, a, incident.AccountRequestFilter{State: st})
		if err != nil {
			return accountRequestsView{}, err
		}
		reqs = append(reqs, rs...)
	}
	users, err := s.svc.Users(ctx, incident.System)
	if err != nil {
		return accountRequestsView{}, err
	}
	byID := map[string]incident.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	me := byID[a.ID]
	v := accountRequestsView{Retry: retry}
	since := s.now().Add(-expiredShownFor)
	if v.StepUp, err = s.stepUp(c); err != nil {
		return accountRequestsView{}, err
	}
	for _, r := range reqs {
		item := accountRequestItem{AccountRequest: r, Subject: byID[r.SubjectID], Requester: byID[r.RequesterID]}
		switch {
		case r.State == incident.RequestPending:
			item.CanDecide = r.DecidableBy(a)
			item.Warnings = incident.ApproverWarnings(me, r.RequesterID, r.CreatedAt)
			v.Requests = append(v.Requests, item)
		case r.ExpiresAt.After(since): // expired, also when not yet swept
			v.Expired = append(v.Expired, item)
		}
	}
	slices.SortStableFunc(v.Expired, func(x, y accountRequestItem) int { return y.ExpiresAt.Compare(x.ExpiresAt) })
	return v, nil
}
