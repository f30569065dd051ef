package incident_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

func TestFlowFromFlagToClosed(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSG1", "violence")
		if inc.State != incident.StateAwaitingApproval {
			t.Fatalf("state after flag = %s, want awaiting_approval (violence needs approval)", inc.State)
		}
		if n := w.runJobs(); n != 2 {
			t.Fatalf("%d jobs ran before approval, want only the notifications of the two supervisors", n)
		}
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, true, "Beweissicherung für Anzeige nötig", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		if got := w.get(inc.ID); got.State != incident.StateSecuring {
			t.Fatalf("state after approval = %s", got.State)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if got.State != incident.StateWalkthrough || got.Evidence != incident.EvidenceSecured || got.Receipt == nil || got.Revocation == nil {
			t.Fatalf("after jobs: %+v", got)
		}
		if m := w.vault.sealed[got.Receipt.BundleID]; m.MetadataOnly || len(w.vault.partHash[got.Receipt.BundleID]) != 1 {
			t.Fatalf("violence evidence must be sealed with content: %+v", m)
		}
		if len(w.msgr.revoked) != 1 || w.msgr.revoked[0] != "MSG1" {
			t.Fatalf("revoked = %v", w.msgr.revoked)
		}
		wantRetention := got.Receipt.SealedAt.Add(180 * 24 * time.Hour)
		if got.RetentionUntil == nil || !got.RetentionUntil.Equal(wantRetention) {
			t.Fatalf("retention until %v, want %v", got.RetentionUntil, wantRetention)
		}
		steps, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil || len(steps) < 5 {
			t.Fatalf("steps = %d, %v", len(steps), err)
		}
		for i, st := range steps {
			if i == 1 {
				_, err = w.svc.MarkStepImpossible(w.ctx, w.worker, inc.ID, st.Key, "Kein Cloud-Backup eingerichtet")
			} else {
				_, err = w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, st.Key)
			}
			if err != nil {
				t.Fatalf("step %s: %v", st.Key, err)
			}
		}
		if got := w.get(inc.ID); got.State != incident.StateClosed {
			t.Fatalf("state after walkthrough = %s", got.State)
		}
		acts := w.actions(inc.ID)
		for _, want := range []string{"incident.flagged", "incident.submitted", "request.opened", "request.approved",
			"evidence.secured", "message.revoked", "walkthrough.started", "step.done", "step.impossible", "incident.closed"} {
			if !slices.Contains(acts, want) {
				t.Errorf("audit trail lacks %s: %v", want, acts)
			}
		}
		if slices.Index(acts, "evidence.secured") > slices.Index(acts, "message.revoked") {
			t.Fatalf("revoked before secured: %v", acts)
		}
		w.verify()
	})
}

func TestCSAMIsMetadataOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGCSAM", "csam")
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup2, req.ID, true, "Meldung an Polizei vorbereiten", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if w.msgr.fetched != 0 {
			t.Fatal("content was fetched for a metadata-only category")
		}
		m := w.vault.sealed[got.Receipt.BundleID]
		if !m.MetadataOnly || len(w.vault.partHash[got.Receipt.BundleID]) != 0 || m.Message.FileSHA256 != "77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa" {
			t.Fatalf("csam bundle = %+v parts %v", m, w.vault.partHash[got.Receipt.BundleID])
		}
		if !got.Receipt.MetadataOnly {
			t.Fatal("receipt does not say metadata only")
		}
		if len(w.msgr.revoked) != 0 || got.Revocation.Outcome != incident.RevokeLeftToWorker {
			t.Fatalf("suspected CSAM was deleted on WhatsApp before the police could see the phone: %v, %+v", w.msgr.revoked, got.Revocation)
		}
		steps, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if steps[0].Key[:5] != "csam." {
			t.Fatalf("the police-report steps must come first: %v", steps[0].Key)
		}
	})
}

func TestFourEyesRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		// A supervisor's own report needs another supervisor.
		inc, err := w.svc.Flag(w.ctx, w.sup1, incident.FlagInput{Channel: incident.ChannelUpload,
			Message: incident.MessageRef{ID: "upload1"}, Category: "threat", Platform: "iphone"})
		if err != nil {
			t.Fatal(err)
		}
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		_, err = w.svc.Decide(w.ctx, w.sup1, req.ID, true, "ich selbst", w.code(w.sup1))
		wantErr(t, err, incident.ErrSelfApproval)
		for _, a := range []incident.Actor{w.worker, w.audit, w.admin} {
			_, err = w.svc.Decide(w.ctx, a, req.ID, true, "nicht befugt", w.code(a))
			if !errors.Is(err, incident.ErrNotSupervisor) && !errors.Is(err, incident.ErrNotFound) {
				t.Fatalf("%s decided: %v", a.Role, err)
			}
		}
		_, err = w.svc.Decide(w.ctx, w.sup2, req.ID, true, "", w.code(w.sup2))
		wantErr(t, err, incident.ErrReasonRequired)
		w.clock.Advance(25 * time.Hour)
		_, err = w.svc.Decide(w.ctx, w.sup2, req.ID, true, "zu spät", w.code(w.sup2))
		wantErr(t, err, incident.ErrExpired)
		if got := w.get(inc.ID); got.State != incident.StateAwaitingApproval {
			t.Fatalf("refusals changed the incident: %s", got.State)
		}
		// The expiry job ends the request and gives the incident back.
		w.runJobs()
		r, err := w.svc.Requests(w.ctx, w.sup2, incident.RequestFilter{IncidentID: inc.ID})
		if err != nil || r[0].State != incident.RequestExpired || len(r[0].Decisions) != 0 {
			t.Fatalf("request after expiry = %+v, %v", r, err)
		}
		if got := w.get(inc.ID); got.State != incident.StateFlagged {
			t.Fatalf("incident after expiry = %s, want flagged", got.State)
		}
		_, err = w.svc.Decide(w.ctx, w.sup2, req.ID, true, "noch später", w.code(w.sup2))
		wantErr(t, err, incident.ErrAlreadyDecided)
		w.verify()
	})
}

func TestRejectedSecuringStillDeletes(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGR", "other")
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, false, "keine Beweisrelevanz", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if got.Evidence != incident.EvidenceNotSecured || got.State != incident.StateWalkthrough || len(w.vault.sealed) != 0 {
			t.Fatalf("after rejection: %+v", got)
		}
		if !slices.Contains(w.actions(inc.ID), "incident.not_secured") {
			t.Fatal("the decision not to secure is not in the trail")
		}
	})
}

func TestWorkersSeeOnlyTheirOwn(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGV", "threat")
		_, err := w.svc.Incident(w.ctx, w.other, inc.ID)
		wantErr(t, err, incident.ErrNotFound)
		_, err = w.svc.Steps(w.ctx, w.other, inc.ID)
		wantErr(t, err, incident.ErrNotFound)
		list, err := w.svc.Incidents(w.ctx, w.other, incident.IncidentFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("other worker lists %d incidents (%v)", len(list), err)
		}
		rs, err := w.svc.Requests(w.ctx, w.other, incident.RequestFilter{})
		if err != nil || len(rs) != 0 {
			t.Fatalf("other worker lists %d requests (%v)", len(rs), err)
		}
		list, err = w.svc.Incidents(w.ctx, w.worker, incident.IncidentFilter{})
		if err != nil || len(list) != 1 {
			t.Fatalf("own list = %d (%v)", len(list), err)
		}
		_, err = w.svc.Incidents(w.ctx, w.admin, incident.IncidentFilter{})
		wantErr(t, err, incident.ErrForbidden)
		_, err = w.svc.Trail(w.ctx, w.worker, incident.AuditFilter{IncidentID: inc.ID})
		wantErr(t, err, incident.ErrForbidden)
	})
}

func TestBadInput(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		for name, in := range map[string]incident.FlagInput{
			"unknown category": {Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "a"}, Category: "nope", Platform: "android"},
			"unknown platform": {Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "b"}, Category: "other", Platform: "nokia"},
			"unknown channel":  {Channel: "fax", Message: incident.MessageRef{ID: "c"}, Category: "other", Platform: "android"},
			"no message id":    {Channel: incident.ChannelWhatsApp, Category: "other", Platform: "android"},
		} {
			_, err := w.svc.Flag(w.ctx, w.worker, in)
			if !errors.Is(err, incident.ErrInvalidInput) {
				t.Errorf("%s: %v, want ErrInvalidInput", name, err)
			}
		}
		list, err := w.svc.Incidents(w.ctx, w.worker, incident.IncidentFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("bad input left %d incidents", len(list))
		}
		if w.verify().Entries != 6 { // the six users only
			t.Fatal("bad input left audit entries")
		}
		inc := w.flag("DUP", "other")
		_, err = w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "DUP"}})
		wantErr(t, err, incident.ErrDuplicate)
		_, err = w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, "chat")
		wantErr(t, err, incident.ErrInvalidTransition)
		_, err = w.svc.Submit(w.ctx, w.worker, inc.ID, incident.SubmitInput{Category: "other", Platform: "android"})
		wantErr(t, err, incident.ErrInvalidTransition)
		_, err = w.svc.Decide(w.ctx, w.sup1, "no-such-request", true, "x", w.code(w.sup1))
		wantErr(t, err, incident.ErrNotFound)
		_, err = w.svc.AddUser(w.ctx, w.sup1, incident.NewUser{Username: "x", Role: incident.RoleWorker, Password: "long enough"})
		wantErr(t, err, incident.ErrForbidden)
		_, err = w.svc.AddUser(w.ctx, w.admin, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "long enough"})
		wantErr(t, err, incident.ErrDuplicate)
		_, err = w.svc.AddUser(w.ctx, w.admin, incident.NewUser{Username: "kurz", Role: incident.RoleWorker, Password: "short"})
		wantErr(t, err, incident.ErrInvalidInput)
	})
}

// failingStore injects a failure after a state change was written inside
// the transaction: the audit append fails.
type failingStore struct {
	incident.Store
	failAppend bool
}

type failingTx struct {
	incident.Tx
	fail bool
}

func (f failingStore) Tx(ctx context.Context, fn func(tx incident.Tx) error) error {
	return f.Store.Tx(ctx, func(tx incident.Tx) error { return fn(failingTx{tx, f.failAppend}) })
}

var errInjected = errors.New("injected audit failure")

func (f failingTx) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	if f.fail {
		return audit.Entry{}, errInjected
	}
	return f.Tx.Append(ctx, e)
}

func TestStateChangeAndAuditCommitTogether(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGT", "violence")
		w.runJobs() // the notifications of the new request
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		before := w.verify().Entries
		broken := w.service(failingStore{Store: w.store, failAppend: true})
		_, err := broken.Decide(w.ctx, w.sup1, req.ID, true, "ok", w.code(w.sup1))
		wantErr(t, err, errInjected)
		_, err = broken.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "NEW"}})
		wantErr(t, err, errInjected)
		if got := w.get(inc.ID); got.State != incident.StateAwaitingApproval {
			t.Fatalf("incident changed without audit entry: %s", got.State)
		}
		if r := w.pendingRequest(inc.ID, incident.RequestSecure); len(r.Decisions) != 0 {
			t.Fatal("decision stored without audit entry")
		}
		if n := w.runJobs(); n != 0 {
			t.Fatal("a job was queued without audit entry")
		}
		list, _ := w.svc.Incidents(w.ctx, w.worker, incident.IncidentFilter{})
		if len(list) != 1 {
			t.Fatalf("flag without audit entry left %d incidents", len(list))
		}
		if got := w.verify().Entries; got != before {
			t.Fatalf("audit entries %d → %d", before, got)
		}
	})
}

// TestAccountChangeAndAuditCommitTogether: an account change (here an
// admin's second-factor reset, a role change, disabling, a new API token)
// whose audit entry cannot be written is not kept either, sessions and
// tokens included.
func TestAccountChangeAndAuditCommitTogether(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		w.enroll(w.worker.ID)
		acc := w.store.Accounts()
		now := w.clock.Now()
		sess := account.Session{TokenHash: "sess-wanda", UserID: w.worker.ID, Stage: account.StageActive, CSRF: "c", CreatedAt: now, LastSeenAt: now}
		tok := account.APIToken{ID: "t0", UserID: w.worker.ID, Name: "laptop", TokenHash: "hash-t0", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := acc.CreateSession(w.ctx, sess); err != nil {
			t.Fatal(err)
		}
		if err := acc.CreateAPIToken(w.ctx, tok); err != nil {
			t.Fatal(err)
		}
		before := w.verify().Entries
		broken := w.service(failingStore{Store: w.store, failAppend: true})
		_, err := broken.ResetSecondFactor(w.ctx, w.admin, "wanda")
		wantErr(t, err, errInjected)
		_, err = broken.SetUserRole(w.ctx, w.admin, "wanda", incident.RoleSupervisor)
		wantErr(t, err, errInjected)
		_, err = broken.SetUserDisabled(w.ctx, w.admin, "wanda", true)
		wantErr(t, err, errInjected)
		if _, err := acc.SecondFactor(w.ctx, w.worker.ID); err != nil {
			t.Fatalf("second factor reset without audit entry: %v", err)
		}
		if _, err := acc.Session(w.ctx, "sess-wanda"); err != nil {
			t.Fatalf("session ended without audit entry: %v", err)
		}
		if got, err := acc.APITokenByHash(w.ctx, "hash-t0"); err != nil || !got.Active(now) {
			t.Fatalf("token revoked without audit entry: %+v, %v", got, err)
		}
		newTok := account.APIToken{ID: "t1", UserID: w.other.ID, Name: "laptop", TokenHash: "hash-t1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		err = broken.RecordAuthChange(w.ctx, w.other, incident.AuthTokenCreated, w.other.ID, func(ctx context.Context, st account.Store) error {
			return st.CreateAPIToken(ctx, newTok)
		})
		wantErr(t, err, errInjected)
		if _, err := acc.APITokenByHash(w.ctx, "hash-t1"); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("token created without audit entry: %v", err)
		}
		if got := w.verify().Entries; got != before {
			t.Fatalf("audit entries %d → %d", before, got)
		}
		// Working: change, ended sessions and tokens, and entry together;
		// a worker cannot reset, nor record events of another account.
		if _, err := w.svc.ResetSecondFactor(w.ctx, w.admin, "wanda"); err != nil {
			t.Fatal(err)
		}
		if _, err := acc.SecondFactor(w.ctx, w.worker.ID); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("after reset: %v", err)
		}
		if _, err := acc.Session(w.ctx, "sess-wanda"); !errors.Is(err, incident.ErrNotFound) {
			t.Fatalf("session after reset: %v, want ended", err)
		}
		if got, err := acc.APITokenByHash(w.ctx, "hash-t0"); err != nil || got.Active(w.clock.Now()) {
			t.Fatalf("token after reset: %+v, %v; want revoked", got, err)
		}
		if got := w.verify().Entries; got != before+1 {
			t.Fatalf("audit entries %d → %d, want one more", before, got)
		}
		_, err = w.svc.ResetSecondFactor(w.ctx, w.other, "wanda")
		wantErr(t, err, incident.ErrForbidden)
		wantErr(t, w.svc.RecordAuthChange(w.ctx, w.other, incident.AuthSecondFactorEnabled, w.worker.ID, func(context.Context, account.Store) error {
			t.Fatal("a change of another account ran")
			return nil
		}), incident.ErrForbidden)
	})
}

func TestConcurrentApprovalsTransitionOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		var sups []incident.Actor
		for i := 0; i < 8; i++ {
			sups = append(sups, w.user(fmt.Sprintf("sup%d", i), incident.RoleSupervisor))
		}
		inc := w.flag("MSGC", "violence")
		w.runJobs() // the notifications of the new request
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		before := w.verify().Entries
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for _, s := range sups {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := w.svc.Decide(w.ctx, s, req.ID, true, "parallel", w.code(s))
				switch {
				case err == nil:
					mu.Lock()
					ok++
					mu.Unlock()
				case errors.Is(err, incident.ErrConflict), errors.Is(err, incident.ErrAlreadyDecided), errors.Is(err, incident.ErrDuplicate):
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("%d approvals succeeded, want exactly 1", ok)
		}
		if got := w.verify().Entries - before; got != 1 {
			t.Fatalf("%d audit entries for one approval", got)
		}
		if n := w.runJobs(); n != 3 { // one secure, one revoke, one notification to the requester
			t.Fatalf("ran %d jobs, want 3", n)
		}
	})
}

func TestRevokeNeverBeforeSecured(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGN", "violence")
		w.runJobs() // the notifications of the new request
		// Forge an incident that reached revoking without evidence, the
		// way a bug or a hand-edited database might, and queue a revoke.
		err := w.store.Tx(w.ctx, func(tx incident.Tx) error {
			got, err := tx.Incident(w.ctx, inc.ID)
			if err != nil {
				return err
			}
			got.State = incident.StateRevoking
			if err := tx.UpdateIncident(w.ctx, &got); err != nil {
				return err
			}
			return tx.Enqueue(w.ctx, incident.Job{Kind: incident.JobRevoke, IncidentID: inc.ID, Key: "revoke:" + inc.ID, RunAt: w.clock.Now(), CreatedAt: w.clock.Now()})
		})
		if err != nil {
			t.Fatal(err)
		}
		ran, err := w.svc.RunDue(w.ctx)
		if !ran {
			t.Fatal("revoke job did not run")
		}
		wantErr(t, err, incident.ErrNotSecured)
		if len(w.msgr.revoked) != 0 {
			t.Fatal("message revoked before evidence was secured")
		}
	})
}

func TestRetentionAndLegalHold(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGH", "other") // 30 days retention
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, true, "sichern", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		if _, err := w.svc.SetLegalHold(w.ctx, w.sup2, inc.ID, true, "Ermittlungsverfahren läuft"); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(31 * 24 * time.Hour)
		w.runJobs()
		if got := w.get(inc.ID); got.DestroyedAt != nil || len(w.vault.destroyed) != 0 {
			t.Fatal("held evidence was destroyed")
		}
		if _, err := w.svc.SetLegalHold(w.ctx, w.sup2, inc.ID, false, "Verfahren eingestellt"); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if got.DestroyedAt == nil || len(w.vault.destroyed) != 1 {
			t.Fatalf("evidence not destroyed after hold lifted: %+v", got)
		}
		acts := w.actions(inc.ID)
		for _, want := range []string{"retention.hold_set", "retention.held", "retention.hold_lifted", "evidence.destroyed"} {
			if !slices.Contains(acts, want) {
				t.Errorf("trail lacks %s: %v", want, acts)
			}
		}
		_, err := w.svc.RequestRelease(w.ctx, w.sup1, inc.ID, incident.ReleaseInput{Purpose: "a", Recipient: "b", LegalBasis: "c", Reason: "d"})
		wantErr(t, err, incident.ErrInvalidTransition)
	})
}

func TestHandover(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGX", "extortion")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "sichern", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		_, err := w.svc.RequestRelease(w.ctx, w.sup1, inc.ID, incident.ReleaseInput{Purpose: "Strafanzeige", Recipient: "Polizei"})
		wantErr(t, err, incident.ErrInvalidInput)
		r, err := w.svc.RequestRelease(w.ctx, w.sup1, inc.ID, incident.ReleaseInput{Purpose: "Strafanzeige",
			Recipient: "Polizeipräsidium", LegalBasis: "Einwilligung der Sorgeberechtigten", Reason: "Sextortion-Anzeige"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.RecordHandover(w.ctx, w.sup2, r.ID, "übergeben")
		wantErr(t, err, incident.ErrInvalidTransition)
		_, err = w.svc.Decide(w.ctx, w.sup1, r.ID, true, "selbst", w.code(w.sup1))
		wantErr(t, err, incident.ErrSelfApproval)
		if _, err := w.svc.Decide(w.ctx, w.sup2, r.ID, true, "Rechtsgrundlage geprüft", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RecordHandover(w.ctx, w.sup2, r.ID, "USB-Stick an KHK Müller"); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.RecordHandover(w.ctx, w.sup2, r.ID, "nochmal")
		wantErr(t, err, incident.ErrAlreadyDecided)
		if !slices.Contains(w.actions(inc.ID), "evidence.handed_over") {
			t.Fatal("handover not in trail")
		}
	})
}

func TestEscalation(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGE", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		steps, _ := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if _, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, steps[0].Key); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(49 * time.Hour)
		w.runJobs()
		steps, _ = w.svc.Steps(w.ctx, w.worker, inc.ID)
		if steps[0].Escalated || !steps[1].Escalated {
			t.Fatalf("escalation marked the wrong steps: %+v", steps[:2])
		}
		n := 0
		for _, a := range w.actions(inc.ID) {
			if a == "step.escalated" {
				n++
			}
		}
		if n != len(steps)-1 {
			t.Fatalf("%d escalations for %d open steps", n, len(steps)-1)
		}
	})
}

func TestJobRetriesWithBackoff(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGB", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs() // secure
		w.msgr.revokeErr = errors.New("whatsapp: connection dropped")
		if err := w.store.Tx(w.ctx, func(tx incident.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		inc2 := w.flag("MSGB2", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc2.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		// The notifications and the secure job run, then the revoke fails.
		var err error
		for ran := true; ran && err == nil; {
			ran, err = w.svc.RunDue(w.ctx)
		}
		if err == nil || !strings.Contains(err.Error(), "connection dropped") {
			t.Fatalf("revoke with a dropped connection: err=%v", err)
		}
		if ran, _ := w.svc.RunDue(w.ctx); ran {
			t.Fatal("failed job retried without backoff")
		}
		w.msgr.revokeErr = nil
		w.clock.Advance(6 * time.Second)
		w.runJobs()
		if got := w.get(inc2.ID); got.State != incident.StateWalkthrough {
			t.Fatalf("state after retry = %s", got.State)
		}
	})
}

func TestAuthenticate(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		before := w.verify().Entries
		u, err := w.svc.Authenticate(w.ctx, " Wanda ", "correct horse wanda")
		if err != nil || u.ID != w.worker.ID {
			t.Fatalf("sign-in with the right password: %v", err)
		}
		for _, tc := range []struct{ user, pw string }{{"wanda", "wrong password"}, {"nobody", "correct horse wanda"}} {
			_, err := w.svc.Authenticate(w.ctx, tc.user, tc.pw)
			wantErr(t, err, incident.ErrBadCredentials)
		}
		if _, err := w.svc.SetUserDisabled(w.ctx, w.admin, "wanda", true); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.Authenticate(w.ctx, "wanda", "correct horse wanda")
		wantErr(t, err, incident.ErrBadCredentials)
		_, err = w.svc.SetUserDisabled(w.ctx, w.admin, "adam", true)
		wantErr(t, err, incident.ErrForbidden)
		es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var acts []string
		for _, e := range es[before:] {
			acts = append(acts, e.Action)
		}
		want := []string{"auth.succeeded", "auth.failed", "auth.failed", "user.disabled", "auth.failed"}
		if !slices.Equal(acts, want) {
			t.Fatalf("audit actions %v, want %v", acts, want)
		}
	})
}

// Every sign-in does exactly one argon2id verification, whether the
// account exists, is disabled, or the password is right or wrong: the
// answer's timing tells none of them apart (the security review measured
// 2 ms for a disabled account against 65-140 ms for the others).
func TestAuthenticateDoesTheSameWorkOnEveryPath(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		if _, err := w.svc.SetUserDisabled(w.ctx, w.admin, "otto", true); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, user, pw string }{
			{"right password", "wanda", "correct horse wanda"},
			{"wrong password", "wanda", "wrong"},
			{"unknown user", "nobody", "correct horse wanda"},
			{"disabled, right password", "otto", "correct horse otto"},
			{"disabled, wrong password", "otto", "wrong"},
			{"malformed name", "Max Mustermann\x00", "x"},
		} {
			n := 0
			incident.CountVerifications(w.svc, &n)
			_, _ = w.svc.Authenticate(w.ctx, tc.user, tc.pw)
			if n != 1 {
				t.Errorf("%s: %d password verifications, want 1", tc.name, n)
			}
			w.svc = w.service(w.store)
		}
	})
}

func TestSetUserRole(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		ch, err := w.svc.SetUserRole(w.ctx, w.admin, "susi", incident.RoleWorker)
		if err != nil || ch.Pending() || ch.User.Role != incident.RoleWorker {
			t.Fatalf("role change: %+v, %v", ch, err)
		}
		_, err = w.svc.SetUserRole(w.ctx, w.sup1, "otto", incident.RoleAdmin)
		wantErr(t, err, incident.ErrForbidden)
		_, err = w.svc.SetUserRole(w.ctx, w.admin, "adam", incident.RoleWorker)
		wantErr(t, err, incident.ErrForbidden)
		_, err = w.svc.SetUserRole(w.ctx, w.admin, "otto", "boss")
		wantErr(t, err, incident.ErrInvalidInput)
		if !slices.Contains(w.actionsAll(), "user.role_changed") {
			t.Fatal("role change not audited")
		}
	})
}

func (w *world) actionsAll() []string {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

// TestConcurrentLastStepsClose: two confirmations of the last two steps at
// the same time still close the incident (one of them retries).
func TestConcurrentLastStepsClose(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGLAST", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		steps, err := w.svc.Steps(w.ctx, w.worker, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range steps[:len(steps)-2] {
			if _, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, st.Key); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, st := range steps[len(steps)-2:] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					_, err := w.svc.ConfirmStep(w.ctx, w.worker, inc.ID, st.Key)
					if !errors.Is(err, incident.ErrConflict) {
						if err != nil {
							t.Error(err)
						}
						return
					}
				}
				t.Error("kept conflicting")
			}()
		}
		wg.Wait()
		if got := w.get(inc.ID); got.State != incident.StateClosed {
			t.Fatalf("state after confirming every step concurrently = %s", got.State)
		}
	})
}

// slowVault runs a hook in the middle of sealing.
type slowVault struct {
	*fakeVault
	during func()
}

func (v slowVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	v.during()
	return v.fakeVault.Seal(ctx, id, m, parts)
}

// TestLeaseRenewedWhileSealing: a seal that outlasts the lease keeps its
// job: no other worker can take it over meanwhile.
func TestLeaseRenewedWhileSealing(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		const lease = 90 * time.Millisecond
		var claimErr error
		v := slowVault{fakeVault: w.vault, during: func() {
			w.clock.Advance(3 * lease) // the original lease has long run out
			time.Sleep(4 * lease)      // real time for renewals (every lease/3)
			_, claimErr = w.store.ClaimJob(w.ctx, w.clock.Now(), lease)
		}}
		svc := incident.NewService(w.store, w.pol, v, w.msgr, incident.WithClock(w.clock.Now), incident.WithLease(lease),
			incident.WithPasswordParams(cheap), incident.WithFactors(w.factors))
		inc := w.flag("MSGSLOW", "threat")
		w.runJobs() // the notifications of the new request
		if _, err := svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		if ran, err := svc.RunDue(w.ctx); !ran || err != nil { // the requester's notification
			t.Fatalf("notification job: %v %v", ran, err)
		}
		if ran, err := svc.RunDue(w.ctx); !ran || err != nil {
			t.Fatalf("secure job: %v %v", ran, err)
		}
		if !errors.Is(claimErr, incident.ErrNoJob) {
			t.Fatalf("another worker claimed the job while it was sealing: %v", claimErr)
		}
		if got := w.get(inc.ID); got.Evidence != incident.EvidenceSecured {
			t.Fatalf("evidence = %s", got.Evidence)
		}
	})
}

// TestJobGivesUpAndSaysSo: after MaxAttempts a job is dead, and the audit
// log says so in the same transaction.
func TestJobGivesUpAndSaysSo(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGDEAD", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.msgr.revokeErr = errors.New("whatsapp: still offline")
		for range incident.MaxAttempts + 15 { // the secure job, the notifications, the reminder and the expiry of the request run too
			if _, err := w.svc.RunDue(w.ctx); err != nil && !strings.Contains(err.Error(), "still offline") {
				t.Fatal(err)
			}
			w.clock.Advance(time.Hour)
		}
		if !slices.Contains(w.actions(inc.ID), "job.dead") {
			t.Fatalf("no job.dead entry: %v", w.actions(inc.ID))
		}
		if ran, _ := w.svc.RunDue(w.ctx); ran {
			t.Fatal("a dead job ran again")
		}
	})
}

// TestApprovedDestructionAfterHold: an early destruction approved while a
// legal hold stood is carried out once the hold is lifted.
func TestApprovedDestructionAfterHold(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("MSGHD", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		r, err := w.svc.RequestDestroy(w.ctx, w.sup1, inc.ID, "Einwilligung widerrufen")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.SetLegalHold(w.ctx, w.sup2, inc.ID, true, "Ermittlung"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup2, r.ID, true, "geprüft", w.code(w.sup2)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		if got := w.get(inc.ID); got.DestroyedAt != nil {
			t.Fatal("destroyed under legal hold")
		}
		if _, err := w.svc.SetLegalHold(w.ctx, w.sup2, inc.ID, false, "Ermittlung beendet"); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		if got := w.get(inc.ID); got.DestroyedAt == nil {
			t.Fatal("the approved destruction was dropped after the hold was lifted")
		}
	})
}
