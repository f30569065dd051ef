package wa

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/policies"
)

// viewOnce is whatsmeow's event for a view-once message sent to the
// account: the phone gets it, linked devices get an <unavailable
// type="view_once"> node and no ciphertext (message.go, decryptMessages).
func viewOnce(id string) *events.UndecryptableMessage {
	return &events.UndecryptableMessage{
		Info: types.MessageInfo{
			MessageSource: types.MessageSource{Chat: youthLID, Sender: youthLID, SenderAlt: youthPN, AddressingMode: types.AddressingModeLID},
			ID:            id, Timestamp: t0.Add(-5 * time.Minute), Type: "media",
		},
		IsUnavailable: true, UnavailableType: events.UnavailableTypeViewOnce,
	}
}

func (e *env) linkedAt(at time.Time) {
	e.t.Helper()
	if err := e.store.PutDevice(context.Background(), incident.LinkedDevice{WorkerID: e.worker.ID, JID: ownDev.String(),
		Status: incident.DeviceConnected, LinkedAt: at, UpdatedAt: at}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) incidentOf(id string) incident.Incident {
	e.t.Helper()
	for _, inc := range e.incidents() {
		if inc.Message.ID == id {
			inc, err := e.svc.Incident(context.Background(), e.worker.Actor(), inc.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			return inc
		}
	}
	e.t.Fatalf("message %s not flagged", id)
	return incident.Incident{}
}

// TestUncapturedStarSaysWhy: a star on a message Tresor holds no content
// of opens the incident marked with the reason the worker is shown.
func TestUncapturedStarSaysWhy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		linkedAt time.Time // zero: no device row
		events   []any
		want     incident.CaptureGap
	}{
		{"linked an hour ago", t0.Add(-time.Hour), nil, incident.GapBeforeLinking},
		{"linked ten days ago", t0.Add(-10 * 24 * time.Hour), nil, incident.GapOutsideWindow},
		{"no device row", time.Time{}, nil, incident.GapOutsideWindow},
		{"view-once", t0.Add(-10 * 24 * time.Hour), []any{viewOnce("3A00000000000000V1")}, incident.GapViewOnce},
		{"unavailable of another kind", t0.Add(-10 * 24 * time.Hour),
			[]any{&events.UndecryptableMessage{Info: viewOnce("x").Info, IsUnavailable: true, UnavailableType: "bot"}}, incident.GapLost},
		// A message that failed to decrypt is retried by whatsmeow and
		// arrives again as events.Message: nothing is kept of the failure.
		{"decrypt failure", t0.Add(-10 * 24 * time.Hour),
			[]any{&events.UndecryptableMessage{Info: viewOnce("x").Info}}, incident.GapOutsideWindow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if !tc.linkedAt.IsZero() {
				e.linkedAt(tc.linkedAt)
			}
			for _, evt := range tc.events {
				if u, ok := evt.(*events.UndecryptableMessage); ok {
					u.Info.ID = "3A00000000000000V1"
				}
				e.handle(evt)
			}
			e.handle(star(youthPN, types.EmptyJID, "3A00000000000000V1", false, true))
			inc := e.incidentOf("3A00000000000000V1")
			if inc.NotCaptured != tc.want || inc.State != incident.StateFlagged {
				t.Fatalf("not captured = %q, state %s; want %q", inc.NotCaptured, inc.State, tc.want)
			}
			if tc.want == incident.GapViewOnce && (inc.Message.Sender != youthLID.String() || !inc.Message.SentAt.Equal(t0.Add(-5*time.Minute))) {
				t.Fatalf("view-once metadata = %+v, want the sender and time WhatsApp named", inc.Message)
			}
			_, err := e.ad.FetchContent(context.Background(), inc)
			if !errors.Is(err, ErrNotCaptured) || !errors.Is(err, incident.ErrPermanent) {
				t.Fatalf("FetchContent = %v, want a permanent ErrNotCaptured", err)
			}
			recent, err := e.ad.RecentMessages(context.Background())
			if err != nil || len(recent) != 0 {
				t.Fatalf("recent messages = %+v, %v; a message without content is not offered", recent, err)
			}
		})
	}
}

// TestViewOnceIsKeptSealed: the view-once record holds the identity only,
// sealed like every capture, and is purged with the window.
func TestViewOnceIsKeptSealed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.handle(viewOnce("3A00000000000000V2"))
	c, err := e.store.Capture(ctx, e.worker.ID, "3A00000000000000V2")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.ad.openCapture(c)
	if err != nil || rec.Unavailable != "view_once" || len(rec.Message) != 0 || rec.gap() != incident.GapViewOnce {
		t.Fatalf("record = %+v, %v", rec, err)
	}
	if !c.ExpiresAt.Equal(t0.Add(e.pol.CaptureWindow)) {
		t.Fatalf("expires %v, want the capture window", c.ExpiresAt)
	}
}

// TestPhoneResendReplacesTheUnavailableRecord: when the phone answers
// whatsmeow's request for an unavailable message with its content, the
// content is captured and a star finds it.
func TestPhoneResendReplacesTheUnavailableRecord(t *testing.T) {
	e := newEnv(t)
	e.handle(&events.UndecryptableMessage{Info: viewOnce("3A00000000000000R9").Info, IsUnavailable: true})
	resent := received("3A00000000000000R9", textMessage(secretText))
	resent.UnavailableRequestID = "3EB0REQUEST0001"
	e.handle(resent)
	e.handle(star(youthPN, types.EmptyJID, "3A00000000000000R9", false, true))
	inc := e.incidentOf("3A00000000000000R9")
	if inc.NotCaptured != "" {
		t.Fatalf("a resent message is marked %q", inc.NotCaptured)
	}
	parts, err := e.ad.FetchContent(context.Background(), inc)
	if err != nil || len(parts) != 1 {
		t.Fatalf("FetchContent = %v, %v", parts, err)
	}
}

// TestUncapturedStarToWorkersChoice runs the flow through the real
// adapter and service: a captured message whose capture is gone when the
// secure job runs ends that job after one attempt, dead and audited, and
// returns the incident to the worker; a star on a view-once message goes
// straight to the worker. Each chooses the metadata; no job is retried.
func TestUncapturedStarToWorkersChoice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.linkedAt(t0.Add(-10 * 24 * time.Hour))
	auth := newAuthenticator(t, e)
	e.svc = incident.NewService(e.store, e.pol, e.vault, e.ad, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(auth.Factors))
	e.ad.flagger = e.svc
	sup, err := e.svc.AddUser(ctx, incident.System, incident.NewUser{Username: "leitung", Role: incident.RoleSupervisor, Password: "another long password"})
	if err != nil {
		t.Fatal(err)
	}
	auth.Enroll(t, sup.ID)
	approve := func(incID string) {
		t.Helper()
		reqs, err := e.svc.Requests(ctx, sup.Actor(), incident.RequestFilter{IncidentID: incID, State: incident.RequestPending})
		if err != nil || len(reqs) != 1 {
			t.Fatalf("pending requests: %v, %v", reqs, err)
		}
		if _, err := e.svc.Decide(ctx, sup.Actor(), reqs[0].ID, true, "Einverstanden", auth.Code(t, sup.ID)); err != nil {
			t.Fatal(err)
		}
	}
	runAll := func() (failures int) {
		t.Helper()
		for {
			ran, err := e.svc.RunDue(ctx)
			if err != nil {
				if !errors.Is(err, incident.ErrPermanent) {
					t.Fatal(err)
				}
				failures++
			}
			if !ran {
				return failures
			}
		}
	}

	// A captured message, its capture lost before securing.
	e.handle(received("3A00000000000000L1", textMessage(secretText)))
	e.handle(star(youthPN, types.EmptyJID, "3A00000000000000L1", false, true))
	lost := e.incidentOf("3A00000000000000L1")
	if lost.NotCaptured != "" {
		t.Fatalf("a captured message is marked %q", lost.NotCaptured)
	}
	if _, err := e.svc.Submit(ctx, e.worker.Actor(), lost.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("android")}); err != nil {
		t.Fatal(err)
	}
	approve(lost.ID)
	if err := e.store.DeleteCapture(ctx, e.worker.ID, "3A00000000000000L1"); err != nil {
		t.Fatal(err)
	}
	if n := runAll(); n != 1 {
		t.Fatalf("%d failed job runs, want exactly 1", n)
	}
	lost = e.incidentOf("3A00000000000000L1")
	if lost.State != incident.StateFlagged || lost.NotCaptured != incident.GapLost {
		t.Fatalf("after the capture was lost: state %s, gap %q", lost.State, lost.NotCaptured)
	}

	// A view-once message, starred.
	e.handle(viewOnce("3A00000000000000V3"))
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000V3", false, true))
	vo := e.incidentOf("3A00000000000000V3")
	if vo.NotCaptured != incident.GapViewOnce {
		t.Fatalf("view-once gap = %q", vo.NotCaptured)
	}

	for _, inc := range []incident.Incident{lost, vo} {
		if _, err := e.svc.Submit(ctx, e.worker.Actor(), inc.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("android"),
			Choice: incident.ChoiceMetadata}); err != nil {
			t.Fatal(err)
		}
		approve(inc.ID)
	}
	if n := runAll(); n != 0 {
		t.Fatalf("%d job runs failed after the choice", n)
	}
	for _, id := range []string{"3A00000000000000L1", "3A00000000000000V3"} {
		inc := e.incidentOf(id)
		if inc.State != incident.StateWalkthrough || inc.Receipt == nil || !inc.Receipt.MetadataOnly {
			t.Fatalf("%s: state %s, receipt %+v", id, inc.State, inc.Receipt)
		}
		var jobs []incident.Job
		if err := e.store.View(ctx, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(ctx, inc.ID); return }); err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			if j.Attempts > 1 {
				t.Fatalf("%s: job %s ran %d times", id, j.Key, j.Attempts)
			}
		}
	}
	if len(e.cli.patches) != 2 {
		t.Fatalf("%d delete-for-me patches, want one per message", len(e.cli.patches))
	}
}
