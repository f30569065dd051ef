package incident_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// The job worker logs claims, retries and dead jobs with the job's id,
// kind, attempt and an error class — never the error's text, which may
// quote a chat or what the worker typed.
func TestJobLogCarriesNoCallerText(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		var buf bytes.Buffer
		w.svc = incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now), incident.WithPasswordParams(cheap),
			incident.WithLogger(slog.New(slog.NewJSONHandler(&buf, nil))), incident.WithFactors(w.factors))
		inc := w.flag("MSGLOG", "threat")
		if _, err := w.svc.Decide(w.ctx, w.sup1, w.pendingRequest(inc.ID, incident.RequestSecure).ID, true, "ok", w.code(w.sup1)); err != nil {
			t.Fatal(err)
		}
		w.msgr.revokeErr = errors.New("whatsapp: chat 'Bild einer Prügelei auf dem Schulhof' refused")
		var err error
		for ran := true; ran && err == nil; { // secure, then the revoke fails
			ran, err = w.svc.RunDue(w.ctx)
		}
		if err == nil {
			t.Fatal("revoke did not fail")
		}
		w.clock.Advance(time.Hour)
		w.msgr.revokeErr = fmt.Errorf("whatsapp: 'Prügelei' is gone: %w", incident.ErrPermanent)
		if _, err := w.svc.RunDue(w.ctx); !errors.Is(err, incident.ErrPermanent) {
			t.Fatalf("second attempt: %v", err)
		}

		var got []string
		for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			var r struct {
				Level      string
				Msg        string
				Kind       string
				ErrorClass string `json:"error_class"`
				JobID      int64  `json:"job_id"`
				Attempt    int
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("not a JSON record: %q", line)
			}
			if r.JobID == 0 || r.Kind == "" || r.Attempt == 0 {
				t.Errorf("record without job id, kind or attempt: %s", line)
			}
			if r.Kind == string(incident.JobRevoke) {
				class := strings.TrimSpace(hashSuffix.ReplaceAllString(r.ErrorClass, "")) // the hash of the text tells equal failures apart
				got = append(got, fmt.Sprintf("%s %s attempt=%d class=%s", r.Level, r.Msg, r.Attempt, class))
			}
		}
		want := []string{
			"INFO job claimed attempt=1 class=", "WARN job failed, retrying attempt=1 class=",
			"INFO job claimed attempt=2 class=", "ERROR job dead attempt=2 class=permanent",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("revoke job's log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if strings.Contains(buf.String(), "Prügelei") || strings.Contains(buf.String(), "MSGLOG") {
			t.Errorf("the job log carries caller text:\n%s", buf.String())
		}
	})
}

// hashSuffix is the short hash ErrorClass ends with.
var hashSuffix = regexp.MustCompile(`#[0-9a-f]{8}$`)
