package incident

import (
	"errors"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func pending(required int) Request {
	return Request{ID: "r", RequesterID: "alice", State: RequestPending, RequiredApprovals: required,
		CreatedAt: now.Add(-time.Hour), ExpiresAt: now.Add(23 * time.Hour)}
}

func TestDecideRules(t *testing.T) {
	sup := func(id string) Actor { return Actor{ID: id, Role: RoleSupervisor} }
	for _, tc := range []struct {
		name      string
		req       func() Request
		actor     Actor
		approve   bool
		reason    string
		at        time.Time
		wantErr   error
		wantState RequestState
	}{
		{"approve by other supervisor", func() Request { return pending(1) }, sup("bob"), true, "ok", now, nil, RequestApproved},
		{"reject by other supervisor", func() Request { return pending(1) }, sup("bob"), false, "no", now, nil, RequestRejected},
		{"self approval", func() Request { return pending(1) }, sup("alice"), true, "ok", now, ErrSelfApproval, RequestPending},
		{"self rejection", func() Request { return pending(1) }, sup("alice"), false, "no", now, ErrSelfApproval, RequestPending},
		{"worker", func() Request { return pending(1) }, Actor{ID: "bob", Role: RoleWorker}, true, "ok", now, ErrNotSupervisor, RequestPending},
		{"admin", func() Request { return pending(1) }, Actor{ID: "bob", Role: RoleAdmin}, true, "ok", now, ErrNotSupervisor, RequestPending},
		{"auditor", func() Request { return pending(1) }, Actor{ID: "bob", Role: RoleAuditor}, true, "ok", now, ErrNotSupervisor, RequestPending},
		{"at expiry", func() Request { return pending(1) }, sup("bob"), true, "ok", now.Add(23 * time.Hour), ErrExpired, RequestPending},
		{"after expiry", func() Request { return pending(1) }, sup("bob"), true, "ok", now.Add(48 * time.Hour), ErrExpired, RequestPending},
		{"no reason", func() Request { return pending(1) }, sup("bob"), true, "  ", now, ErrReasonRequired, RequestPending},
		{"already approved", func() Request { r := pending(1); r.State = RequestApproved; return r }, sup("carol"), true, "ok", now, ErrAlreadyDecided, RequestApproved},
		{"already rejected", func() Request { r := pending(1); r.State = RequestRejected; return r }, sup("carol"), true, "ok", now, ErrAlreadyDecided, RequestRejected},
		{"expired state", func() Request { r := pending(1); r.State = RequestExpired; return r }, sup("carol"), true, "ok", now, ErrAlreadyDecided, RequestExpired},
		{"first of two approvals", func() Request { return pending(2) }, sup("bob"), true, "ok", now, nil, RequestPending},
		{"second of two approvals", func() Request {
			r := pending(2)
			r.Decisions = []Decision{{ActorID: "bob", Approve: true, Reason: "ok", At: now}}
			return r
		}, sup("carol"), true, "ok", now, nil, RequestApproved},
		{"same approver twice", func() Request {
			r := pending(2)
			r.Decisions = []Decision{{ActorID: "bob", Approve: true, Reason: "ok", At: now}}
			return r
		}, sup("bob"), true, "again", now, ErrAlreadyDecided, RequestPending},
		{"one rejection ends it after an approval", func() Request {
			r := pending(2)
			r.Decisions = []Decision{{ActorID: "bob", Approve: true, Reason: "ok", At: now}}
			return r
		}, sup("carol"), false, "no", now, nil, RequestRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req()
			before := len(r.Decisions)
			err := r.decide(tc.actor, tc.approve, tc.reason, tc.at)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("decide = %v, want %v", err, tc.wantErr)
			}
			if r.State != tc.wantState {
				t.Fatalf("state = %s, want %s", r.State, tc.wantState)
			}
			if err != nil && len(r.Decisions) != before {
				t.Fatal("a refused decision was recorded")
			}
			if err == nil && r.State != RequestPending && r.DecidedAt == nil {
				t.Fatal("decided request has no DecidedAt")
			}
		})
	}
}

func TestTransitions(t *testing.T) {
	all := []State{StateFlagged, StateAwaitingApproval, StateSecuring, StateRevoking, StateWalkthrough, StateClosed}
	allowed := map[[2]State]bool{
		{StateFlagged, StateAwaitingApproval}:  true,
		{StateFlagged, StateSecuring}:          true,
		{StateFlagged, StateRevoking}:          true, // not securable, no approval needed
		{StateAwaitingApproval, StateSecuring}: true,
		{StateAwaitingApproval, StateRevoking}: true, // securing rejected
		{StateAwaitingApproval, StateFlagged}:  true, // request expired
		{StateSecuring, StateRevoking}:         true,
		{StateSecuring, StateFlagged}:          true, // content gone for good: the worker chooses
		{StateRevoking, StateWalkthrough}:      true,
		{StateWalkthrough, StateClosed}:        true,
	}
	for _, from := range all {
		for _, to := range all {
			want := allowed[[2]State{from, to}]
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
			inc := Incident{ID: "i", State: from}
			err := inc.moveTo(to)
			if want != (err == nil) || (!want && !errors.Is(err, ErrInvalidTransition)) {
				t.Errorf("moveTo(%s → %s) = %v", from, to, err)
			}
		}
	}
}

func TestMayRevoke(t *testing.T) {
	for _, tc := range []struct {
		name string
		inc  Incident
		ok   bool
	}{
		{"pending", Incident{Evidence: EvidencePending}, false},
		{"secured without receipt", Incident{Evidence: EvidenceSecured}, false},
		{"secured", Incident{Evidence: EvidenceSecured, Receipt: &Receipt{BundleID: "b"}}, true},
		{"decided not to secure", Incident{Evidence: EvidenceNotSecured}, true},
	} {
		err := tc.inc.mayRevoke()
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrNotSecured)) {
			t.Errorf("%s: mayRevoke = %v", tc.name, err)
		}
	}
}

func TestVisibility(t *testing.T) {
	inc := Incident{ReporterID: "w1"}
	for _, tc := range []struct {
		a    Actor
		want bool
	}{
		{Actor{ID: "w1", Role: RoleWorker}, true},
		{Actor{ID: "w2", Role: RoleWorker}, false},
		{Actor{ID: "s", Role: RoleSupervisor}, true},
		{Actor{ID: "a", Role: RoleAuditor}, true},
		{Actor{ID: "x", Role: RoleAdmin}, false},
		{System, true},
	} {
		if got := inc.visibleTo(tc.a); got != tc.want {
			t.Errorf("visibleTo(%+v) = %v, want %v", tc.a, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n <= MaxAttempts; n++ {
		d := backoff(n)
		if d < prev || d > time.Hour || d <= 0 {
			t.Fatalf("backoff(%d) = %v after %v", n, d, prev)
		}
		prev = d
	}
	if backoff(1) != 5*time.Second || backoff(MaxAttempts) != time.Hour {
		t.Fatalf("backoff bounds: %v .. %v", backoff(1), backoff(MaxAttempts))
	}
}
