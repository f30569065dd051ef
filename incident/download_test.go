package incident_test

import (
	"slices"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

func TestReleaseDownloadLink(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("threat", []byte("threat screenshot"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "sichern"); err != nil {
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
		if _, err := w.svc.Decide(w.ctx, w.sup1, r.ID, true, "geprüft"); err != nil {
			t.Fatal(err)
		}
		_, _, err = w.svc.IssueDownload(w.ctx, w.worker, r.ID)
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
		token, _, err = w.svc.IssueDownload(w.ctx, w.sup1, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(incident.DownloadTTL + time.Second)
		_, err = w.svc.RedeemDownload(w.ctx, w.sup1, r.ID, token)
		wantErr(t, err, incident.ErrExpired)
		n := 0
		for _, a := range w.actions(inc.ID) {
			if a == "evidence.downloaded" {
				n++
			}
		}
		if n != 1 || !slices.Contains(w.actions(inc.ID), "release.link_issued") {
			t.Fatalf("trail: %v", w.actions(inc.ID))
		}
	})
}
