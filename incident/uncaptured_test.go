package incident_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/policies"
)

// flagUncaptured opens an incident as the adapter does for a star on a
// message it holds no capture of: the key and what the star named.
func (w *world) flagUncaptured(msgID string, gap incident.CaptureGap) incident.Incident {
	w.t.Helper()
	inc, err := w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, NotCaptured: gap,
		Message: incident.MessageRef{ID: msgID, Chat: "4917012345@s.whatsapp.net", Sender: "4917012345@s.whatsapp.net"}})
	if err != nil {
		w.t.Fatal(err)
	}
	if inc.State != incident.StateFlagged || inc.NotCaptured != gap {
		w.t.Fatalf("uncaptured flag: state %s, gap %q", inc.State, inc.NotCaptured)
	}
	return inc
}

func (w *world) submit(id string, in incident.SubmitInput) (incident.Incident, error) {
	if in.Platform == "" {
		in.Platform = policies.Platform("android")
	}
	return w.svc.Submit(w.ctx, w.worker, id, in)
}

func (w *world) approve(incID string) {
	w.t.Helper()
	if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(incID, incident.RequestSecure).ID, true, "Einverstanden", w.code(w.sup1)); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) jobs(incID string) []incident.Job {
	w.t.Helper()
	var js []incident.Job
	if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) { js, err = tx.Jobs(w.ctx, incID); return }); err != nil {
		w.t.Fatal(err)
	}
	return js
}

func (w *world) entry(incID, action string) audit.Entry {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: incID})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == action {
			return e
		}
	}
	w.t.Fatalf("no %s entry for %s", action, incID)
	return audit.Entry{}
}

// TestUncapturedStarMetadataChoice: the worker is asked first, and the
// metadata is secured even for a category that copies content; WhatsApp
// is never asked for content it cannot give.
func TestUncapturedStarMetadataChoice(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flagUncaptured("OLD1", incident.GapOutsideWindow)
		if got := w.entry(inc.ID, "incident.flagged").Details["not_captured"]; got != "outside_window" {
			t.Fatalf("flag entry not_captured = %q", got)
		}
		_, err := w.submit(inc.ID, incident.SubmitInput{Category: "violence"})
		wantErr(t, err, incident.ErrInvalidInput)
		_, err = w.submit(inc.ID, incident.SubmitInput{Category: "violence", Choice: "everything"})
		wantErr(t, err, incident.ErrInvalidInput)
		got, err := w.submit(inc.ID, incident.SubmitInput{Category: "violence", Choice: incident.ChoiceMetadata})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != incident.StateAwaitingApproval || got.Securing != policies.SecureMetadataOnly || got.Choice != incident.ChoiceMetadata {
			t.Fatalf("after choosing metadata: %+v", got)
		}
		w.approve(inc.ID)
		w.runJobs()
		got = w.get(inc.ID)
		if got.State != incident.StateWalkthrough || got.Evidence != incident.EvidenceSecured || !got.Receipt.MetadataOnly {
			t.Fatalf("after jobs: %+v", got)
		}
		if m := w.vault.sealed[got.Receipt.BundleID]; !m.MetadataOnly || m.Message.ID != "OLD1" || len(w.vault.partHash[got.Receipt.BundleID]) != 0 {
			t.Fatalf("sealed %+v", m)
		}
		if w.msgr.fetched != 0 || !slices.Equal(w.msgr.revoked, []string{"OLD1"}) {
			t.Fatalf("fetched %d, revoked %v", w.msgr.fetched, w.msgr.revoked)
		}
		if e := w.entry(inc.ID, "incident.submitted"); e.Details["choice"] != "metadata" || e.Details["securing"] != "metadata" {
			t.Fatalf("submitted entry %v", e.Details)
		}
		w.verify()
	})
}

// TestUncapturedStarUploadChoice: content from another channel is sealed
// on arrival and promoted by the approval, except where the category
// forbids content: then not one byte is read.
func TestUncapturedStarUploadChoice(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flagUncaptured("VO1", incident.GapViewOnce)
		file := []byte(pngMagic + "screenshot the young person sent by e-mail")
		r := &countingReader{data: file}
		_, err := w.svc.SubmitUpload(w.ctx, w.worker, inc.ID, incident.SubmitInput{Category: "csam", Platform: policies.Platform("iphone")},
			incident.Part{Name: "upload.png", MediaType: "image/png", Size: -1, Content: r})
		wantErr(t, err, incident.ErrContentForbidden)
		if r.read != 0 || len(w.vault.sealed) != 0 {
			t.Fatalf("forbidden upload read %d bytes, sealed %d", r.read, len(w.vault.sealed))
		}
		_, err = w.submit(inc.ID, incident.SubmitInput{Category: "violence", Choice: incident.ChoiceUpload})
		wantErr(t, err, incident.ErrInvalidInput) // no file yet
		_, err = w.svc.SubmitUpload(w.ctx, w.other, inc.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("iphone")},
			incident.Part{Name: "upload.png", MediaType: "image/png", Size: -1, Content: &countingReader{data: file}})
		wantErr(t, err, incident.ErrNotFound)
		got, err := w.svc.SubmitUpload(w.ctx, w.worker, inc.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("iphone")},
			incident.Part{Name: "upload.png", MediaType: "image/png", Size: -1, Content: &countingReader{data: file}})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != incident.StateAwaitingApproval || got.Choice != incident.ChoiceUpload || got.Receipt == nil {
			t.Fatalf("after upload: %+v", got)
		}
		w.approve(inc.ID)
		w.runJobs()
		got = w.get(inc.ID)
		if got.Evidence != incident.EvidenceSecured || got.Receipt.MetadataOnly || got.State != incident.StateWalkthrough {
			t.Fatalf("after jobs: %+v", got)
		}
		if hs := w.vault.partHash[got.Receipt.BundleID]; len(hs) != 1 || hs[0] != sha256hex(file) {
			t.Fatalf("sealed parts %v", hs)
		}
		// The message itself still goes from WhatsApp.
		if w.msgr.fetched != 0 || !slices.Equal(w.msgr.revoked, []string{"VO1"}) {
			t.Fatalf("fetched %d, revoked %v", w.msgr.fetched, w.msgr.revoked)
		}
		acts := w.actions(inc.ID)
		if slices.Index(acts, "evidence.staged") > slices.Index(acts, "incident.submitted") || !slices.Contains(acts, "evidence.secured") {
			t.Fatalf("trail %v", acts)
		}
	})
}

// TestUncapturedStarNotSecurableChoice: the worker's reason goes to the
// supervisor; a rejection hands the choice back, an approval records that
// nothing is secured and deletion goes on. Without required approval the
// worker's decision stands at once.
func TestUncapturedStarNotSecurableChoice(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flagUncaptured("BEFORE1", incident.GapBeforeLinking)
		_, err := w.submit(inc.ID, incident.SubmitInput{Category: "threat", Choice: incident.ChoiceNotSecurable, Reason: "  "})
		wantErr(t, err, incident.ErrReasonRequired)
		reason := "Die Nachricht wurde vor dem Verknüpfen geschickt und ist auf dem Handy schon gelöscht"
		if _, err := w.submit(inc.ID, incident.SubmitInput{Category: "threat", Choice: incident.ChoiceNotSecurable, Reason: reason}); err != nil {
			t.Fatal(err)
		}
		req := w.pendingRequest(inc.ID, incident.RequestSecure)
		if _, err := w.svc.Decide(w.ctx, w.sup1, req.ID, false, "Bitte den Screenshot der Mutter hochladen", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		got := w.get(inc.ID)
		if got.State != incident.StateFlagged || got.Choice != "" || got.NotSecuredReason != "" || got.Evidence != incident.EvidencePending {
			t.Fatalf("after rejection: %+v", got)
		}
		if _, err := w.submit(inc.ID, incident.SubmitInput{Category: "threat", Choice: incident.ChoiceNotSecurable, Reason: reason}); err != nil {
			t.Fatal(err)
		}
		w.approve(inc.ID)
		got = w.get(inc.ID)
		if got.State != incident.StateRevoking || got.Evidence != incident.EvidenceNotSecured || got.NotSecuredReason != reason {
			t.Fatalf("after approval: %+v", got)
		}
		w.runJobs()
		if got = w.get(inc.ID); got.State != incident.StateWalkthrough || len(w.vault.sealed) != 0 || w.msgr.fetched != 0 {
			t.Fatalf("after jobs: %+v, sealed %d, fetched %d", got, len(w.vault.sealed), w.msgr.fetched)
		}
		if e := w.entry(inc.ID, "incident.not_secured"); e.Details["reason_sha256"] != sha256hex([]byte(reason)) || strings.Contains(fmt.Sprint(e.Details), "Handy") {
			t.Fatalf("not_secured entry %v", e.Details)
		}
		if !slices.Contains(w.actions(inc.ID), "incident.returned") {
			t.Fatalf("trail %v", w.actions(inc.ID))
		}

		// A category without four-eyes: the decision stands at once.
		for i := range w.pol.Categories {
			if w.pol.Categories[i].ID == "other" {
				w.pol.Categories[i].RequireApproval = false
			}
		}
		inc = w.flagUncaptured("LOST1", incident.GapLost)
		got, err = w.submit(inc.ID, incident.SubmitInput{Category: "other", Choice: incident.ChoiceNotSecurable, Reason: reason})
		if err != nil {
			t.Fatal(err)
		}
		if got.State != incident.StateRevoking || got.Evidence != incident.EvidenceNotSecured {
			t.Fatalf("without approval: %+v", got)
		}
		w.runJobs()
		if got = w.get(inc.ID); got.State != incident.StateWalkthrough {
			t.Fatalf("without approval, after jobs: %+v", got)
		}
		w.verify()
	})
}

// TestChoiceOnlyForUncaptured: a captured message has nothing to choose.
func TestChoiceOnlyForUncaptured(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "CAP1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.submit(inc.ID, incident.SubmitInput{Category: "violence", Choice: incident.ChoiceMetadata})
		wantErr(t, err, incident.ErrInvalidInput)
		_, err = w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "X"}, NotCaptured: "deleted"})
		wantErr(t, err, incident.ErrInvalidInput)
	})
}

// TestPermanentErrorEndsJobAtOnce: content gone for good ends the secure
// job after one attempt, dead and audited in the same transaction, and
// hands the incident back to the worker, whose choice then secures it.
func TestPermanentErrorEndsJobAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc := w.flag("GONE1", "violence")
		w.approve(inc.ID)
		w.msgr.fetchErr = fmt.Errorf("message GONE-1 not captured: %w", incident.ErrPermanent)
		// Notification jobs queued with the request run first.
		var err error
		for ran := true; ran && err == nil; {
			ran, err = w.svc.RunDue(w.ctx)
		}
		wantErr(t, err, incident.ErrPermanent)
		for _, j := range w.jobs(inc.ID) {
			if j.Kind == incident.JobSecure && (j.State != incident.JobDead || j.Attempts != 1) {
				t.Fatalf("secure job after a permanent error: %+v", j)
			}
		}
		if e := w.entry(inc.ID, "job.dead"); e.Details["permanent"] != "true" || e.Details["attempts"] != "1" {
			t.Fatalf("job.dead entry %v", e.Details)
		}
		got := w.get(inc.ID)
		if got.State != incident.StateFlagged || got.NotCaptured != incident.GapLost || got.Evidence != incident.EvidencePending {
			t.Fatalf("after the permanent error: %+v", got)
		}
		if ran, err := w.svc.RunDue(w.ctx); ran || err != nil {
			t.Fatalf("a job ran again: %v %v", ran, err)
		}
		if _, err := w.submit(inc.ID, incident.SubmitInput{Category: "violence", Choice: incident.ChoiceMetadata}); err != nil {
			t.Fatal(err)
		}
		w.approve(inc.ID)
		w.runJobs()
		if got = w.get(inc.ID); got.Evidence != incident.EvidenceSecured || !got.Receipt.MetadataOnly || w.msgr.fetched != 1 {
			t.Fatalf("after the choice: %+v, fetched %d", got, w.msgr.fetched)
		}
		w.verify()
	})
}

type countingReader struct {
	data []byte
	read int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.read:])
	r.read += n
	return n, nil
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
