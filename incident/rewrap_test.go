package incident_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// RecordRewrap's rules: only the system, only from the receipt's own
// ciphertext with the same manifest; the receipt then names the new
// ciphertext and recipients with one audit entry; a repeat adds none.
func TestRecordRewrap(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("threat", []byte("PNG of a threat"))
		if err != nil {
			t.Fatal(err)
		}
		old := *inc.Receipt
		good := incident.Rewrap{BundleID: old.BundleID, OldCiphertextSHA256: old.CiphertextSHA256,
			NewCiphertextSHA256: "ab" + old.CiphertextSHA256[2:], NewCiphertextSize: old.CiphertextSize + 1,
			ManifestSHA256: old.ManifestSHA256, Recipients: []string{"age1new"}}
		for _, tc := range []struct {
			name   string
			actor  incident.Actor
			incID  string
			change func(r *incident.Rewrap)
			want   error
		}{
			{"a supervisor", w.sup1, inc.ID, nil, incident.ErrForbidden},
			{"a worker", w.worker, inc.ID, nil, incident.ErrForbidden},
			{"unknown incident", incident.System, "0123456789abcdef0123456789abcdef", nil, incident.ErrNotFound},
			{"other bundle", incident.System, inc.ID, func(r *incident.Rewrap) { r.BundleID = "ff" + r.BundleID[2:] }, incident.ErrConflict},
			{"other old ciphertext", incident.System, inc.ID, func(r *incident.Rewrap) { r.OldCiphertextSHA256 = r.NewCiphertextSHA256 + "0" }, incident.ErrConflict},
			{"other manifest", incident.System, inc.ID, func(r *incident.Rewrap) { r.ManifestSHA256 = "00" + r.ManifestSHA256[2:] }, incident.ErrConflict},
			{"no recipients", incident.System, inc.ID, func(r *incident.Rewrap) { r.Recipients = nil }, incident.ErrInvalidInput},
		} {
			r := good
			if tc.change != nil {
				tc.change(&r)
			}
			_, err := w.svc.RecordRewrap(w.ctx, tc.actor, tc.incID, r)
			wantErr(t, err, tc.want)
		}
		if got := w.get(inc.ID).Receipt; got.CiphertextSHA256 != old.CiphertextSHA256 || slices.Contains(w.actions(inc.ID), string(incident.ActionEvidenceRewrapped)) {
			t.Fatalf("a refused rewrap changed something: %+v, %v", got, w.actions(inc.ID))
		}
		for range 2 {
			if _, err := w.svc.RecordRewrap(w.ctx, incident.System, inc.ID, good); err != nil {
				t.Fatal(err)
			}
		}
		got := w.get(inc.ID).Receipt
		if got.CiphertextSHA256 != good.NewCiphertextSHA256 || got.CiphertextSize != good.NewCiphertextSize ||
			!slices.Equal(got.Recipients, good.Recipients) || got.ManifestSHA256 != old.ManifestSHA256 || !got.SealedAt.Equal(old.SealedAt) {
			t.Fatalf("receipt after rewrap: %+v", got)
		}
		n := 0
		for _, a := range w.actions(inc.ID) {
			if a == string(incident.ActionEvidenceRewrapped) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d rewrap entries, want 1: %v", n, w.actions(inc.ID))
		}
		w.verify()
	})
}

// TestRewrapCompletedAfterInterruption: a rewrap announced before it
// replaced the bundle, whose run then died, is completed only for exactly
// the announced ciphertext (and size) of this receipt: the receipt then
// names it, with one evidence.rewrapped entry marked as completed after an
// interruption. Any other ciphertext (a bundle replaced by something
// else) is ErrConflict and changes nothing; an announcement from a receipt
// that is not the current one is refused before anything is replaced.
func TestRewrapCompletedAfterInterruption(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		inc, err := w.upload("threat", []byte("PNG of a threat"))
		if err != nil {
			t.Fatal(err)
		}
		old := *inc.Receipt
		r := incident.Rewrap{BundleID: old.BundleID, OldCiphertextSHA256: old.CiphertextSHA256,
			NewCiphertextSHA256: "ab" + old.CiphertextSHA256[2:], NewCiphertextSize: old.CiphertextSize + 1,
			ManifestSHA256: old.ManifestSHA256, Recipients: []string{"age1new"}}
		stale := r
		stale.OldCiphertextSHA256, stale.NewCiphertextSHA256 = "cd"+old.CiphertextSHA256[2:], "ef"+old.CiphertextSHA256[2:]
		wantErr(t, w.svc.AnnounceRewrap(w.ctx, incident.System, inc.ID, stale), incident.ErrConflict)
		wantErr(t, w.svc.AnnounceRewrap(w.ctx, w.sup1, inc.ID, r), incident.ErrForbidden)
		if err := w.svc.AnnounceRewrap(w.ctx, incident.System, inc.ID, r); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name  string
			actor incident.Actor
			sha   string
			size  int64
			want  error
		}{
			{"a supervisor", w.sup1, r.NewCiphertextSHA256, r.NewCiphertextSize, incident.ErrForbidden},
			{"unannounced ciphertext", incident.System, "00" + r.NewCiphertextSHA256[2:], r.NewCiphertextSize, incident.ErrConflict},
			{"the receipt's old ciphertext", incident.System, old.CiphertextSHA256, old.CiphertextSize, incident.ErrConflict},
			{"refused announcement's ciphertext", incident.System, stale.NewCiphertextSHA256, r.NewCiphertextSize, incident.ErrConflict},
			{"other size", incident.System, r.NewCiphertextSHA256, r.NewCiphertextSize + 1, incident.ErrConflict},
		} {
			_, err := w.svc.CompleteInterruptedRewrap(w.ctx, tc.actor, inc.ID, old.BundleID, tc.sha, tc.size)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
			}
		}
		if got := w.get(inc.ID).Receipt; got.CiphertextSHA256 != old.CiphertextSHA256 || slices.Contains(w.actions(inc.ID), string(incident.ActionEvidenceRewrapped)) {
			t.Fatalf("a refused completion changed something: %+v, %v", got, w.actions(inc.ID))
		}
		got, err := w.svc.CompleteInterruptedRewrap(w.ctx, incident.System, inc.ID, old.BundleID, r.NewCiphertextSHA256, r.NewCiphertextSize)
		if err != nil {
			t.Fatal(err)
		}
		if got.CiphertextSHA256 != r.NewCiphertextSHA256 || !slices.Equal(got.Recipients, r.Recipients) || got.ManifestSHA256 != old.ManifestSHA256 {
			t.Fatalf("receipt after completion: %+v", got)
		}
		// The intent is used up: completing again, or recording the
		// same rewrap, adds nothing.
		_, err = w.svc.CompleteInterruptedRewrap(w.ctx, incident.System, inc.ID, old.BundleID, r.NewCiphertextSHA256, r.NewCiphertextSize)
		wantErr(t, err, incident.ErrConflict)
		if _, err := w.svc.RecordRewrap(w.ctx, incident.System, inc.ID, r); err != nil {
			t.Fatal(err)
		}
		var details []map[string]string
		for _, e := range w.entries(inc.ID, string(incident.ActionEvidenceRewrapped)) {
			details = append(details, e.Details)
		}
		if len(details) != 1 || details[0]["detail"] != "completed after an interruption" || details[0]["ciphertext_sha256"] != r.NewCiphertextSHA256 {
			t.Fatalf("rewrap entries: %v", details)
		}
		w.verify()
	})
}
