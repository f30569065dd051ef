package wa

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/policies"
)

// TestStarToWalkthroughWithRestart walks the whole flow through the real
// adapter (whatsmeow events in, whatsmeow builders out, a fake network
// client): star → incident → four-eyes approval → secured bundle →
// delete-for-me → walkthrough. A process dies after claiming the secure
// job; until its lease ends nothing is revoked, and the restarted service
// finishes the work once.
func TestStarToWalkthroughWithRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mc := newMediaCase(t, e, nil)
	auth := newAuthenticator(t, e)
	opts := []incident.Option{incident.WithClock(e.clock.Now), incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}),
		incident.WithFactors(auth.Factors)}
	e.svc = incident.NewService(e.store, e.pol, e.vault, e.ad, opts...)
	e.ad.flagger = e.svc
	sup, err := e.svc.AddUser(ctx, incident.System, incident.NewUser{Username: "leitung", Role: incident.RoleSupervisor, Password: "another long password"})
	if err != nil {
		t.Fatal(err)
	}
	auth.Enroll(t, sup.ID)

	inc := flagged(t, e, "3A00000000000000E1", mc.msg)
	if _, err := e.svc.Submit(ctx, e.worker.Actor(), inc.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("iphone")}); err != nil {
		t.Fatal(err)
	}
	reqs, err := e.svc.Requests(ctx, sup.Actor(), incident.RequestFilter{IncidentID: inc.ID, State: incident.RequestPending})
	if err != nil || len(reqs) != 1 {
		t.Fatalf("pending requests: %v, %v", reqs, err)
	}
	if _, err := e.svc.Decide(ctx, sup.Actor(), reqs[0].ID, true, "Beweis sichern", auth.Code(t, sup.ID)); err != nil {
		t.Fatal(err)
	}

	// A first process claims the jobs up to the secure job (the
	// notifications come first) and dies before finishing.
	for {
		j, err := e.store.ClaimJob(ctx, e.clock.Now(), 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if j.Kind == incident.JobSecure {
			break
		}
	}
	if ran, err := e.svc.RunDue(ctx); ran || err != nil {
		t.Fatalf("a job ran during the dead process's lease: %v %v", ran, err)
	}
	if len(e.cli.patches) != 0 || len(e.cli.messages) != 0 {
		t.Fatal("something was deleted on WhatsApp before the evidence was secured")
	}

	// Restart: a new service over the same database, after the lease.
	e.clock.Advance(6 * time.Minute)
	restarted := incident.NewService(e.store, e.pol, e.vault, e.ad, opts...)
	e.ad.flagger = restarted
	for {
		ran, err := restarted.RunDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			break
		}
	}

	got, err := restarted.Incident(ctx, e.worker.Actor(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != incident.StateWalkthrough || got.Receipt == nil || got.Revocation == nil || got.Revocation.Outcome != incident.DeletedForMe {
		t.Fatalf("after restart: state %s, receipt %+v, revocation %+v", got.State, got.Receipt, got.Revocation)
	}
	if !bytes.Equal(e.vault.parts["image.jpg"], mc.plain) {
		t.Fatal("the vault did not receive the image's bytes")
	}
	if len(e.cli.patches) != 1 || len(e.cli.messages) != 0 {
		t.Fatalf("sent %d delete-for-me patches and %d messages, want exactly one patch", len(e.cli.patches), len(e.cli.messages))
	}
	steps, err := restarted.Steps(ctx, e.worker.Actor(), inc.ID)
	if err != nil || len(steps) == 0 || steps[0].Platform != policies.Platform("iphone") {
		t.Fatalf("walkthrough: %+v, %v", steps, err)
	}
	trail, err := restarted.Trail(ctx, sup.Actor(), incident.AuditFilter{IncidentID: inc.ID})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, en := range trail {
		acts = append(acts, en.Action)
	}
	for _, want := range []string{"incident.flagged", "incident.submitted", "request.opened", "request.approved", "evidence.secured", "message.revoked", "walkthrough.started"} {
		if n := count(acts, want); n != 1 {
			t.Fatalf("%s appears %d times in %v", want, n, acts)
		}
	}
	if slices.Index(acts, "message.revoked") < slices.Index(acts, "evidence.secured") {
		t.Fatalf("revoked before secured: %v", acts)
	}
	if _, err := restarted.VerifyAudit(ctx); err != nil {
		t.Fatal(err)
	}
}

func count(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}
