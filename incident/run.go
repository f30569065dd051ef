package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// RunDue claims and runs one due job. It reports whether a job ran (even
// if it failed and was rescheduled); false with a nil error means nothing
// was due. A job's effect and its completion commit in one transaction, so
// a crash mid-job makes the job run again after its lease, never twice in
// effect.
func (s *Service) RunDue(ctx context.Context) (bool, error) {
	j, err := s.store.ClaimJob(ctx, s.now(), s.lease)
	if errors.Is(err, ErrNoJob) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to claim job: %w", err)
	}
	jobCtx, stop := s.keepLease(ctx, j)
	runErr := s.runJob(jobCtx, j)
	stop()
	if runErr == nil {
		return true, nil
	}
	permanent := errors.Is(runErr, ErrPermanent)
	dead := permanent || j.Attempts >= MaxAttempts
	err = s.store.Tx(ctx, func(tx Tx) error {
		// The job row keeps the error's class, never its text: that may
		// hold a message id, or an address an SMTP server repeated back.
		if err := tx.RetryJob(ctx, j, ErrorClass(runErr), s.now().Add(backoff(j.Attempts)), dead); err != nil {
			return err
		}
		if !dead {
			return nil
		}
		if err := s.record(ctx, tx, System, ActionJobDead, j.IncidentID, map[string]string{
			"job": j.Key, "attempts": fmt.Sprint(j.Attempts), "permanent": strconv.FormatBool(permanent),
		}); err != nil {
			return err
		}
		if !permanent || j.Kind != JobSecure {
			return nil
		}
		inc, err := tx.Incident(ctx, j.IncidentID)
		if err != nil {
			return err
		}
		return s.returnForChoice(ctx, tx, &inc)
	})
	if err != nil {
		return true, &JobFailure{Job: j, Err: fmt.Errorf("could not be rescheduled: %w", errors.Join(err, runErr))}
	}
	return true, &JobFailure{Job: j, Err: runErr}
}

// JobFailure is RunDue's error when a job ran and failed: which job, on
// which attempt, and why.
type JobFailure struct {
	Job Job
	Err error
}

func (f *JobFailure) Error() string {
	return fmt.Sprintf("%s attempt %d: %v", f.Job, f.Job.Attempts, f.Err)
}

func (f *JobFailure) Unwrap() error { return f.Err }

// logText describes the failure for the service log: the job's id and key
// (made of ids Tresor issued) and the error's class, never its text.
func (f *JobFailure) logText() string {
	return fmt.Sprintf("%s attempt %d failed: %s", f.Job, f.Job.Attempts, ErrorClass(f.Err))
}

// Work runs due jobs until ctx ends, polling every interval when idle.
// Job failures are reported through logf, by job and error class (see
// ErrorClass; never an error's text), and retried with backoff.
func (s *Service) Work(ctx context.Context, interval time.Duration, logf func(format string, args ...any)) {
	for ctx.Err() == nil {
		ran, err := s.RunDue(ctx)
		if err != nil && ctx.Err() == nil {
			var f *JobFailure
			if errors.As(err, &f) {
				logf("jobs: %s", f.logText())
			} else {
				logf("jobs: %s", ErrorClass(err))
			}
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
