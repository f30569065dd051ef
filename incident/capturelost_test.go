package incident_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

func TestRecordCaptureLost(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		loss := incident.CaptureLoss{WorkerID: w.worker.ID, What: "star", MessageID: "3A0000000000000001", Reason: "fallback_failed"}
		noted := 0
		if err := w.svc.RecordCaptureLost(w.ctx, loss, func(context.Context, incident.Tx) error { noted++; return nil }); err != nil {
			t.Fatal(err)
		}
		// The note fails: no audit entry either.
		failed := errors.New("device row not written")
		if err := w.svc.RecordCaptureLost(w.ctx, loss, func(context.Context, incident.Tx) error { return failed }); !errors.Is(err, failed) {
			t.Fatalf("failing note: %v", err)
		}
		for _, bad := range []incident.CaptureLoss{{WorkerID: w.worker.ID, Reason: "x"}, {WorkerID: w.worker.ID, What: "message"}} {
			wantErr(t, w.svc.RecordCaptureLost(w.ctx, bad, nil), incident.ErrInvalidInput)
		}
		es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var lost []map[string]string
		for _, e := range es {
			if e.Action == "whatsapp.capture_lost" {
				if e.Actor != incident.System.ID {
					t.Fatalf("actor %q, want system", e.Actor)
				}
				lost = append(lost, e.Details)
			}
		}
		want := map[string]string{"user_id": w.worker.ID, "what": "star", "message_id": "3A0000000000000001", "reason": "fallback_failed"}
		if noted != 1 || len(lost) != 1 || !reflect.DeepEqual(lost[0], want) {
			t.Fatalf("noted %d, entries %v; want one %v", noted, lost, want)
		}
		w.verify()
	})
}
