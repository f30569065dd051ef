package incident

import (
	"fmt"
	"strings"
	"time"
)

// RequestKind is what a four-eyes request asks for.
type RequestKind string

const (
	RequestSecure  RequestKind = "secure"  // copy the evidence into the vault
	RequestRelease RequestKind = "release" // hand the evidence over
	RequestDestroy RequestKind = "destroy" // destroy the evidence before its retention ends
)

// RequestState is a request's life: pending until approved, rejected or expired.
type RequestState string

const (
	RequestPending  RequestState = "pending"
	RequestApproved RequestState = "approved"
	RequestRejected RequestState = "rejected"
	RequestExpired  RequestState = "expired"
)

// Decision is one supervisor's approval or rejection, with the reason given.
type Decision struct {
	ActorID string
	Approve bool
	Reason  string
	At      time.Time
}

// Request asks for a step that needs a second person's approval.
type Request struct {
	ID          string
	IncidentID  string
	Kind        RequestKind
	RequesterID string
	Reason      string // why the requester asks
	// Purpose, Recipient and LegalBasis are set for release requests.
	Purpose    string
	Recipient  string
	LegalBasis string

	State             RequestState
	RequiredApprovals int
	Decisions         []Decision
	CreatedAt         time.Time
	ExpiresAt         time.Time
	DecidedAt         *time.Time
	// HandedOverAt and HandoverNote are set when a supervisor records that
	// released evidence was handed over.
	HandedOverAt *time.Time
	HandedOverBy string
	HandoverNote string
	// Download* describe the current single-use link to download the
	// released bundle: the SHA-256 of its token, when it expires, and
	// when it was used.
	DownloadTokenHash string
	DownloadExpiresAt *time.Time
	DownloadUsedAt    *time.Time
	// DownloadLinks counts the links issued for this request; the
	// policy's four_eyes.download_links bounds it.
	DownloadLinks int
	Version       int64
}

// Approvals counts the approving decisions.
func (r *Request) Approvals() int {
	n := 0
	for _, d := range r.Decisions {
		if d.Approve {
			n++
		}
	}
	return n
}

// decidedBy reports whether the user with id already decided r.
func (r *Request) decidedBy(id string) bool {
	for _, d := range r.Decisions {
		if d.ActorID == id {
			return true
		}
	}
	return false
}

// decide applies one decision under the four-eyes rules. It changes r only
// when it returns nil.
func (r *Request) decide(a Actor, approve bool, reason string, now time.Time) error {
	if r.State != RequestPending {
		return fmt.Errorf("%w: request %s is %s", ErrAlreadyDecided, r.ID, r.State)
	}
	if !now.Before(r.ExpiresAt) {
		return fmt.Errorf("%w: request %s expired at %s", ErrExpired, r.ID, r.ExpiresAt.UTC().Format(time.RFC3339))
	}
	if a.Role != RoleSupervisor {
		return fmt.Errorf("%w: %s has role %q", ErrNotSupervisor, a.ID, a.Role)
	}
	if a.ID == r.RequesterID {
		return fmt.Errorf("%w: request %s", ErrSelfApproval, r.ID)
	}
	if r.decidedBy(a.ID) {
		return fmt.Errorf("%w: %s already decided request %s", ErrAlreadyDecided, a.ID, r.ID)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return fmt.Errorf("%w: a decision needs a reason", ErrReasonRequired)
	}
	r.Decisions = append(r.Decisions, Decision{ActorID: a.ID, Approve: approve, Reason: reason, At: now})
	switch {
	case !approve:
		r.State = RequestRejected
		r.DecidedAt = &now
	case r.Approvals() >= r.RequiredApprovals:
		r.State = RequestApproved
		r.DecidedAt = &now
	}
	return nil
}
