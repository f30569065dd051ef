package incident_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// blockingMailer holds every send until its context ends, like a mail
// server that accepted the connection and never answers.
type blockingMailer struct{ sending chan struct{} }

func (m blockingMailer) Send(ctx context.Context, _ incident.Mail) error {
	m.sending <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

// A job running when the worker's context ends (the service shuts down)
// is handed back with a context of its own: due at once, its lease gone,
// the interrupted run not counted as an attempt.
func TestRunDueHandsBackInterruptedJob(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		m := blockingMailer{sending: make(chan struct{})}
		svc := incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now), incident.WithMailer(m, publicURL))
		if _, err := svc.SetUserEmail(w.ctx, incident.System, "susi", "susi@example.org"); err != nil {
			t.Fatal(err)
		}
		now := w.clock.Now()
		if err := w.store.Tx(w.ctx, func(tx incident.Tx) error {
			return tx.Enqueue(w.ctx, incident.Job{Kind: incident.JobNotify, RecipientID: w.sup1.ID, Notice: incident.NoticeAccountLocked,
				Key: "notify:handback", RunAt: now, CreatedAt: now})
		}); err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(w.ctx)
		type result struct {
			ran bool
			err error
		}
		done := make(chan result)
		go func() {
			ran, err := svc.RunDue(ctx)
			done <- result{ran, err}
		}()
		<-m.sending
		stop()
		r := <-done
		if !r.ran || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("RunDue after the shutdown: %v %v, want a job that ran and was interrupted", r.ran, r.err)
		}
		j, err := w.store.ClaimJob(w.ctx, now, time.Minute)
		if err != nil {
			t.Fatalf("the interrupted job is not due at once: %v", err)
		}
		if j.Key != "notify:handback" || j.Attempts != 1 {
			t.Fatalf("claimed %s at attempt %d, want the interrupted job at attempt 1", j.Key, j.Attempts)
		}
	})
}
