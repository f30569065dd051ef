package incident_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// approvedRelease secures an upload and approves a release of it.
func approvedRelease(t *testing.T, w *world) (incident.Incident, incident.Request) {
	t.Helper()
	inc, err := w.upload("threat", []byte("threat screenshot"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "sichern", w.code(w.sup1)); err != nil {
		t.Fatal(err)
	}
	w.runJobs()
	r, err := w.svc.RequestRelease(w.ctx, w.worker, inc.ID, incident.ReleaseInput{Purpose: "Anzeige", Recipient: "Polizei",
		LegalBasis: "Einwilligung", Reason: "Bedrohung"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = w.svc.IssueDownload(w.ctx, w.sup1, r.ID)
	wantErr(t, err, incident.ErrInvalidTransition) // not approved yet
	if _, err := w.svc.Decide(w.ctx, w.sup1, r.ID, true, "geprüft", w.code(w.sup1)); err != nil {
		t.Fatal(err)
	}
	secured, err := w.svc.Incident(w.ctx, w.sup1, inc.ID)
	if err != nil || secured.Receipt == nil {
		t.Fatalf("secured incident: %+v %v", secured, err)
	}
	return secured, r
}

func count(actions []string, action string) int {
	n := 0
	for _, a := range actions {
		if a == action {
			n++
		}
	}
	return n
}

// By default one approved release gives one download link: a stolen
// session cannot issue itself another after the first was used.
func TestReleaseDownloadLink(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, r := approvedRelease(t, w)
		_, _, err := w.svc.IssueDownload(w.ctx, w.worker, r.ID)
		wantErr(t, err, incident.ErrForbidden)
		token, expires, err := w.svc.IssueDownload(w.ctx, w.sup2, r.ID)
		if err != nil || !expires.After(w.clock.Now()) {
			t.Fatalf("issue: %v %v", expires, err)
		}
		_, err = w.svc.RedeemDownload(w.ctx, w.sup2, r.ID, token+"x")
		wantErr(t, err, incident.ErrNotFound)
		got, err := w.svc.RedeemDownload(w.ctx, w.sup2, r.ID, token)
		if err != nil || got.BundleID != inc.Receipt.BundleID {
			t.Fatalf("redeem: %+v %v", got, err)
		}
		_, err = w.svc.RedeemDownload(w.ctx, w.sup2, r.ID, token)
		wantErr(t, err, incident.ErrAlreadyDecided)
		for _, sup := range []incident.Actor{w.sup1, w.sup2} {
			_, _, err = w.svc.IssueDownload(w.ctx, sup, r.ID)
			wantErr(t, err, incident.ErrAlreadyDecided)
		}
		if n := count(w.actions(inc.ID), "release.link_issued"); n != 1 {
			t.Fatalf("%d links issued, want 1: %v", n, w.actions(inc.ID))
		}
		if n := count(w.actions(inc.ID), "evidence.downloaded"); n != 1 {
			t.Fatalf("%d downloads, want 1: %v", n, w.actions(inc.ID))
		}
	})
}

// A policy may allow more links; each is audited, an expired one is
// refused, and none is issued after the handover.
func TestReleaseDownloadLinksPerPolicy(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		w.pol.FourEyes.DownloadLinks = 3
		w.svc = w.service(w.store)
		inc, r := approvedRelease(t, w)
		token, _, err := w.svc.IssueDownload(w.ctx, w.sup1, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.RedeemDownload(w.ctx, w.sup1, r.ID, token); err != nil {
			t.Fatal(err)
		}
		if token, _, err = w.svc.IssueDownload(w.ctx, w.sup1, r.ID); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(incident.DownloadTTL + time.Second)
		_, err = w.svc.RedeemDownload(w.ctx, w.sup1, r.ID, token)
		wantErr(t, err, incident.ErrExpired)
		if _, err := w.svc.RecordHandover(w.ctx, w.sup2, r.ID, "USB-Stick an KHK Müller"); err != nil {
			t.Fatal(err)
		}
		_, _, err = w.svc.IssueDownload(w.ctx, w.sup1, r.ID)
		wantErr(t, err, incident.ErrAlreadyDecided)
		if n := count(w.actions(inc.ID), "release.link_issued"); n != 2 {
			t.Fatalf("%d links issued, want 2: %v", n, w.actions(inc.ID))
		}
		if !slices.Contains(w.actions(inc.ID), "evidence.downloaded") {
			t.Fatalf("trail: %v", w.actions(inc.ID))
		}
	})
}
