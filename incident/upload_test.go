package incident_test

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// pngMagic starts every PNG file: the upload rule tells the type by it.
const pngMagic = "\x89PNG\r\n\x1a\n"

func (w *world) upload(category string, content []byte) (incident.Incident, error) {
	return w.svc.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: category, Description: "Screenshot aus Instagram", Platform: "iphone"},
		incident.Part{Name: "screenshot.png", MediaType: "image/png", Size: -1, Content: io.MultiReader(strings.NewReader(pngMagic), bytes.NewReader(content))})
}

func TestUploadApproved(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("threat", []byte("PNG of a threat"))
		if err != nil {
			t.Fatal(err)
		}
		if inc.State != incident.StateAwaitingApproval || inc.Receipt == nil || inc.Evidence != incident.EvidencePending {
			t.Fatalf("after upload: %+v", inc)
		}
		if len(w.vault.sealed) != 1 {
			t.Fatal("the upload was not sealed at once")
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "Drohung sichern", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if got.Evidence != incident.EvidenceSecured || got.Receipt.BundleID != inc.Receipt.BundleID || got.State != incident.StateWalkthrough {
			t.Fatalf("after approval: %+v", got)
		}
		if len(w.vault.sealed) != 1 || w.msgr.fetched != 0 || len(w.msgr.revoked) != 0 {
			t.Fatalf("approval sealed or fetched again, or called WhatsApp: %d bundles, %d fetches, %v", len(w.vault.sealed), w.msgr.fetched, w.msgr.revoked)
		}
		if got.Revocation == nil || got.Revocation.Outcome != incident.RevokeNotPossible {
			t.Fatalf("an upload is not on WhatsApp: %+v", got.Revocation)
		}
		acts := w.actions(inc.ID)
		if slices.Index(acts, "evidence.staged") < 0 || slices.Index(acts, "evidence.secured") < slices.Index(acts, "request.approved") {
			t.Fatalf("trail %v", acts)
		}
	})
}

func TestUploadRejectedIsDestroyed(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("other", []byte("irrelevant picture"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, false, "nicht relevant", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		got := w.get(inc.ID)
		if got.Evidence != incident.EvidenceNotSecured || got.DestroyedAt == nil || len(w.vault.sealed) != 0 {
			t.Fatalf("rejected upload kept: %+v, %d bundles", got, len(w.vault.sealed))
		}
		if !slices.Contains(w.actions(inc.ID), "evidence.destroyed") {
			t.Fatal("no destruction certificate in the trail")
		}
	})
}

func TestUploadRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		_, err := w.upload("csam", []byte("must never be stored"))
		wantErr(t, err, incident.ErrContentForbidden)
		_, err = w.upload("nope", []byte("x"))
		wantErr(t, err, incident.ErrInvalidInput)
		w.vault.failSeal = errors.New("disk full")
		_, err = w.upload("threat", []byte("x"))
		if err == nil {
			t.Fatal("a failed seal opened an incident")
		}
		w.vault.failSeal = nil
		// A store failure after sealing removes the bundle again.
		broken := w.service(failingStore{Store: w.store, failAppend: true})
		_, err = broken.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "android"},
			incident.Part{Name: "a.png", MediaType: "image/png", Size: -1, Content: strings.NewReader(pngMagic + "x")})
		wantErr(t, err, errInjected)
		if len(w.vault.sealed) != 0 {
			t.Fatalf("%d bundles nobody accounts for", len(w.vault.sealed))
		}
		list, err := w.svc.Incidents(w.ctx, w.worker, incident.IncidentFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("refused uploads left %d incidents", len(list))
		}
	})
}

// TestExpiredUploadIsNotKeptOrRecategorised: when nobody decides a staged
// upload in time, it cannot be resubmitted under a category that forbids
// content, and it is destroyed unless secured within another request's time.
func TestExpiredUploadIsNotKeptOrRecategorised(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("threat", []byte("screenshot"))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(25 * time.Hour)
		w.runJobs() // the request expires; the incident is flagged again
		if got := w.get(inc.ID); got.State != incident.StateFlagged {
			t.Fatalf("state after expiry = %s", got.State)
		}
		_, err = w.svc.Submit(w.ctx, w.worker, inc.ID, incident.SubmitInput{Category: "csam", Platform: "android"})
		wantErr(t, err, incident.ErrContentForbidden)
		w.clock.Advance(25 * time.Hour)
		w.runJobs() // nobody resubmitted: the staged bundle is destroyed
		got := w.get(inc.ID)
		if got.DestroyedAt == nil || len(w.vault.sealed) != 0 {
			t.Fatalf("expired staged upload kept: %+v", got)
		}
		_, err = w.svc.Submit(w.ctx, w.worker, inc.ID, incident.SubmitInput{Category: "threat", Platform: "android"})
		wantErr(t, err, incident.ErrInvalidTransition)

		// Resubmitted and secured in time: the staged destroy job leaves it.
		inc2, err := w.upload("threat", []byte("second screenshot"))
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(25 * time.Hour)
		w.runJobs()
		if _, err := w.svc.Submit(w.ctx, w.worker, inc2.ID, incident.SubmitInput{Category: "threat", Platform: "android"}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc2.ID, incident.RequestSecure).ID, true, "doch sichern", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.runJobs()
		w.clock.Advance(25 * time.Hour)
		w.runJobs()
		if got := w.get(inc2.ID); got.DestroyedAt != nil || got.Evidence != incident.EvidenceSecured {
			t.Fatalf("secured upload destroyed by the staging job: %+v", got)
		}
	})
}
func TestSniffMediaType(t *testing.T) {
	for head, want := range map[string]string{
		"\xff\xd8\xff\xe0\x00\x10JFIF":                     "image/jpeg",
		"\x89PNG\r\n\x1a\n":                                "image/png",
		"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00":         "image/heic",
		"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00":         "video/quicktime",
		"\x00\x00\x00\x18ftyp3gp5\x00\x00\x00\x00":         "video/3gpp",
		"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom": "video/mp4",
		"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00":     "audio/ogg",
		"%PDF-1.7\n": "application/pdf",
		"hello":      "text/plain",
	} {
		if got := incident.SniffMediaType([]byte(head)); got != want {
			t.Errorf("incident.SniffMediaType(%q) = %q, want %q", head, got, want)
		}
	}
	if incident.UploadPartName("image/png") != "upload.png" || incident.UploadPartName("x/unknown") != "upload.bin" {
		t.Error("UploadPartName")
	}
}

// The upload rule is the domain's: whatever the caller claims about the
// file, its first bytes decide its type, the policy's list decides
// whether it is taken, and more bytes than the limit are refused; nothing
// refused stays in the vault or the store.
func TestUploadRule(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		w.pol.UploadMaxBytes = 64
		png := "\x89PNG\r\n\x1a\n"
		for _, tc := range []struct {
			name    string
			content string
			size    int64
			want    error
		}{
			{"allowed", png + "small", -1, nil},
			{"text claiming to be a photo", "Max Mustermann, Tel 0171", -1, incident.ErrUploadType},
			{"script", "#!/bin/sh\nrm -rf /", -1, incident.ErrUploadType},
			{"empty", "", -1, incident.ErrInvalidInput},
			{"declared too large", png, 65, incident.ErrUploadTooLarge},
			{"streams past the limit", png + strings.Repeat("x", 100), -1, incident.ErrUploadTooLarge},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(w.vault.sealed)
				inc, err := w.svc.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "android"},
					incident.Part{Name: "../../etc/passwd", MediaType: "image/png", Size: tc.size, Content: strings.NewReader(tc.content)})
				if tc.want == nil {
					if err != nil {
						t.Fatal(err)
					}
					if inc.Message.MediaType != "image/png" {
						t.Errorf("media type %q, want the one the bytes tell", inc.Message.MediaType)
					}
					return
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
				if len(w.vault.sealed) != before {
					t.Error("a refused upload stayed in the vault")
				}
			})
		}
		if tooBig := new(incident.UploadTooLargeError); !errors.As(w.uploadErr(), &tooBig) || tooBig.Limit != 64 {
			t.Errorf("too large: limit %+v, want 64", tooBig)
		}
	})
}

// uploadErr is the error of an upload past the limit.
func (w *world) uploadErr() error {
	_, err := w.svc.FlagUpload(w.ctx, w.worker, incident.FlagInput{Category: "threat", Platform: "android"},
		incident.Part{Size: -1, Content: strings.NewReader("\x89PNG\r\n\x1a\n" + strings.Repeat("x", 200))})
	return err
}
