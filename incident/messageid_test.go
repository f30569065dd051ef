package incident_test

import (
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// The attack from the security review: free text put into the message id
// went verbatim into the append-only incident.flagged entry. A message id
// is 1 to 128 ASCII letters and digits, as WhatsApp's are, and a stated
// file hash is a SHA-256 in hex; anything else is refused before anything
// is stored, and the error does not repeat it.
func TestMessageIDsAreIdentifiersOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		before := len(w.actions(""))
		name := "Max Mustermann, Tel 0171 1234567"
		for _, tc := range []struct {
			what string
			ref  incident.MessageRef
		}{
			{"free text", incident.MessageRef{ID: name}},
			{"50 KB", incident.MessageRef{ID: strings.Repeat(name, 1600)}},
			{"129 characters", incident.MessageRef{ID: strings.Repeat("A", 129)}},
			{"punctuation", incident.MessageRef{ID: "3EB0.ABC"}},
			{"umlaut", incident.MessageRef{ID: "3EB0Ä"}},
			{"hash with text", incident.MessageRef{ID: "3EB0ABC", FileSHA256: name}},
			{"short hash", incident.MessageRef{ID: "3EB0ABC", FileSHA256: "77aa"}},
		} {
			_, err := w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: tc.ref,
				Category: "violence", Description: "x", Platform: policies.Platform("android")})
			wantErr(t, err, incident.ErrInvalidInput)
			if strings.Contains(err.Error(), "Mustermann") {
				t.Errorf("%s: the error repeats the caller's text: %v", tc.what, err)
			}
		}
		if after := len(w.actions("")); after != before {
			t.Fatalf("%d audit entries written for refused flags", after-before)
		}
		ok := strings.Repeat("A", incident.MaxMessageIDLength)
		if _, err := w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp,
			Message: incident.MessageRef{ID: ok, FileSHA256: strings.Repeat("0f", 32)}}); err != nil {
			t.Fatalf("a 128-character id and a hex hash: %v", err)
		}
	})
}
