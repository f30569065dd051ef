package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// handBackTimeout bounds the writes that end a job's run (retry, dead,
// hand-back). They use a context of their own, not the worker's: a
// shutdown cancels the worker's context, and a job whose last write
// failed with it would stay leased until its lease ran out.
const handBackTimeout = 10 * time.Second

// RunDue claims and runs one due job. It reports whether a job ran (even
// if it failed and was rescheduled); false with a nil error means nothing
// was due. A job's effect and its completion commit in one transaction, so
// a crash mid-job makes the job run again after its lease, never twice in
// effect.
//
// When ctx ends while the job runs (the service shuts down), the job is
// handed back (Store.ReleaseJob): due at once, its attempt not counted —
// an interruption says nothing about the job, and counting it would make
// a job that is often interrupted by restarts die early. The error then
// wraps ctx's error.
func (s *Service) RunDue(ctx context.Context) (bool, error) {
	j, err := s.store.ClaimJob(ctx, s.now(), s.lease)
	if errors.Is(err, ErrNoJob) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to claim job: %w", err)
	}
	log := s.log.With("job_id", j.ID, "kind", string(j.Kind), "attempt", j.Attempts)
	log.Info("job claimed")
	jobCtx, stop := s.keepLease(ctx, j)
	runErr := s.runJob(jobCtx, j)
	stop()
	if runErr == nil {
		log.Info("job done")
		return true, nil
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), handBackTimeout)
	defer cancel()
	permanent := errors.Is(runErr, ErrPermanent)
	if ctx.Err() != nil && !permanent {
		err := s.store.ReleaseJob(wctx, j, s.now())
		if errors.Is(err, ErrConflict) {
			// Its completion committed just as ctx ended, or its lease
			// was lost already: there is nothing to hand back.
			log.Info("job interrupted; nothing to hand back")
			return true, fmt.Errorf("%s attempt %d interrupted: %w", j, j.Attempts, ctx.Err())
		}
		if err != nil {
			log.Error("job interrupted and not handed back", "error_class", ErrorClass(err))
			return true, fmt.Errorf("%s interrupted (%v) and could not be handed back: %w", j, runErr, err)
		}
		log.Info("job interrupted and handed back", "error_class", ErrorClass(runErr))
		return true, fmt.Errorf("%s attempt %d interrupted and handed back: %w", j, j.Attempts, ctx.Err())
	}
	dead := permanent || j.Attempts >= MaxAttempts
	err = s.store.Tx(wctx, func(tx Tx) error {
		// The job row keeps the error's class, never its text: that may
		// hold a message id, or an address an SMTP server repeated back.
		if err := tx.RetryJob(wctx, j, ErrorClass(runErr), s.now().Add(backoff(j.Attempts)), dead); err != nil {
			return err
		}
		if !dead {
			return nil
		}
		if err := s.record(wctx, tx, System, ActionJobDead, j.IncidentID, map[string]string{
			"job": j.Key, "attempts": fmt.Sprint(j.Attempts), "permanent": strconv.FormatBool(permanent),
		}); err != nil {
			return err
		}
		if !permanent || j.Kind != JobSecure {
			return nil
		}
		inc, err := tx.Incident(wctx, j.IncidentID)
		if err != nil {
			return err
		}
		return s.returnForChoice(wctx, tx, &inc)
	})
	if err != nil {
		log.Error("job failed and not rescheduled", "error_class", ErrorClass(runErr), "reschedule_error_class", ErrorClass(err))
		return true, fmt.Errorf("%s failed (%v) and could not be rescheduled: %w", j, runErr, err)
	}
	if dead {
		log.Error("job dead", "error_class", ErrorClass(runErr), "permanent", permanent)
	} else {
		log.Warn("job failed, retrying", "error_class", ErrorClass(runErr), "retry_in", backoff(j.Attempts).String())
	}
	return true, fmt.Errorf("%s attempt %d: %w", j, j.Attempts, runErr)
}

// Work runs due jobs until ctx ends, polling every interval when idle.
// Job failures are logged (see WithLogger) and retried with backoff; a
// job running when ctx ends is handed back (see RunDue). It also sweeps
// orphaned bundles when it starts and every few minutes (SweepOrphans),
// and expires the account requests nobody decided in time
// (SweepAccountRequests).
func (s *Service) Work(ctx context.Context, interval time.Duration) {
	for ctx.Err() == nil {
		s.sweepOrphansIfDue(ctx)
		s.sweepThrottlesIfDue(ctx)
		s.sweepAccountRequestsIfDue(ctx)
		s.checkProviderIfDue(ctx)
		ran, err := s.RunDue(ctx)
		if err != nil && !ran && ctx.Err() == nil {
			s.log.Error("jobs: claiming failed", "error_class", ErrorClass(err))
		}
		if ran && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
		case <-time.After(interval):
		}
	}
}

func (s *Service) runJob(ctx context.Context, j Job) error {
	switch j.Kind {
	case JobSecure:
		return s.secure(ctx, j)
	case JobRevoke:
		return s.revoke(ctx, j)
	case JobEscalate:
		return s.escalate(ctx, j)
	case JobExpire:
		return s.expire(ctx, j)
	case JobDestroy:
		return s.destroy(ctx, j)
	case JobNotify:
		return s.notify(ctx, j)
	case JobRemind:
		return s.remind(ctx, j)
	default:
		return fmt.Errorf("unknown job kind %q", j.Kind)
	}
}

// loadForJob reads the job's incident outside a transaction: jobs do their
// slow outside work (vault, WhatsApp) first and commit its result after.
func (s *Service) loadForJob(ctx context.Context, j Job) (Incident, error) {
	var inc Incident
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		inc, err = tx.Incident(ctx, j.IncidentID)
		return err
	})
	return inc, err
}

// finish commits a job's effect: fn's writes, then the job's completion.
// If the incident changed since the job read it, fn sees the fresh one.
// A job about no incident (an account's notice) gets a zero Incident.
func (s *Service) finish(ctx context.Context, j Job, fn func(tx Tx, inc *Incident) error) error {
	return s.store.Tx(ctx, func(tx Tx) error {
		var inc Incident
		if j.IncidentID != "" {
			var err error
			if inc, err = tx.Incident(ctx, j.IncidentID); err != nil {
				return err
			}
		}
		if err := fn(tx, &inc); err != nil {
			return err
		}
		return tx.CompleteJob(ctx, j)
	})
}

// keepLease renews j's lease while the job runs, so that slow outside
// work (sealing a large video, a slow S3) is never taken over by another
// worker. If the lease is lost anyway, the job's context is cancelled and
// its outside work stops. stop ends the renewal.
func (s *Service) keepLease(ctx context.Context, j Job) (jobCtx context.Context, stop func()) {
	jobCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(s.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-jobCtx.Done():
				return
			case <-t.C:
				if err := s.store.ExtendJob(jobCtx, j, s.now().Add(s.lease)); err != nil && jobCtx.Err() == nil {
					cancel()
					return
				}
			}
		}
	}()
	return jobCtx, func() { close(done); cancel() }
}
