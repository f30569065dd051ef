package incident_test

import (
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

func TestRecordAuthEvent(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		if err := w.svc.RecordAuthEvent(w.ctx, w.sup1, incident.AuthSecondFactorSucceeded, w.sup1.ID); err != nil {
			t.Fatal(err)
		}
		// Another account's events are not a user's to record; a reset
		// is ResetSecondFactor's alone, which also ends access.
		wantErr(t, w.svc.RecordAuthEvent(w.ctx, w.sup1, incident.AuthSecondFactorSucceeded, w.worker.ID), incident.ErrForbidden)
		wantErr(t, w.svc.RecordAuthEvent(w.ctx, w.admin, incident.AuthSecondFactorReset, w.worker.ID), incident.ErrInvalidInput)
		if err := w.svc.RecordAuthEvent(w.ctx, incident.System, incident.AuthLockedOut, w.worker.ID); err != nil {
			t.Fatal(err)
		}
		wantErr(t, w.svc.RecordAuthEvent(w.ctx, w.admin, "incident.closed", w.worker.ID), incident.ErrInvalidInput)
		es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		last := es[len(es)-1]
		if last.Action != string(incident.AuthLockedOut) || last.Actor != incident.System.ID || last.Details["user_id"] != w.worker.ID {
			t.Fatalf("last entry = %+v", last)
		}
		w.verify()
	})
}

func TestServiceUser(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		u, err := w.svc.User(w.ctx, w.worker, w.worker.ID)
		if err != nil || u.ID != w.worker.ID {
			t.Fatalf("own account: %+v, %v", u, err)
		}
		_, err = w.svc.User(w.ctx, w.worker, w.other.ID)
		wantErr(t, err, incident.ErrForbidden)
		if _, err := w.svc.User(w.ctx, w.admin, w.other.ID); err != nil {
			t.Fatal(err)
		}
		_, err = w.svc.User(w.ctx, incident.System, "missing")
		wantErr(t, err, incident.ErrNotFound)
	})
}
