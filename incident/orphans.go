package incident

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// DefaultOrphanGrace is how long a bundle intent may stay pending before
// the sweeper treats its bundle as an orphan. It must exceed the longest
// seal: an upload is bounded by the server's read timeout (10 minutes), a
// secure job renews its lease while it seals and, when retried, restarts
// the grace period of its intent.
const DefaultOrphanGrace = time.Hour

const (
	// orphanSweepEvery is how often Work sweeps (and once when it starts).
	orphanSweepEvery = 10 * time.Minute
	// orphanLease keeps one sweeper's claim on an orphan while it
	// destroys it; a sweeper that died loses it to the next sweep.
	orphanLease = 10 * time.Minute
	// orphanRetentionRetry is when an orphan the storage's retention
	// protects is tried again.
	orphanRetentionRetry = 24 * time.Hour
	// orphanBatch bounds the intents one sweep looks at.
	orphanBatch = 100
)

// WithOrphanGrace sets how long a bundle intent may stay uncommitted
// before its bundle is swept (default DefaultOrphanGrace).
func WithOrphanGrace(d time.Duration) Option { return func(s *Service) { s.orphans.grace = d } }

// orphanSweeper is the Service's sweep schedule.
type orphanSweeper struct {
	grace time.Duration
	schedule
}

func (s *Service) orphanGrace() time.Duration {
	if s.orphans.grace > 0 {
		return s.orphans.grace
	}
	return DefaultOrphanGrace
}

// OrphanSweep counts what one sweep did.
type OrphanSweep struct {
	Destroyed int // bundles destroyed, each with an evidence.orphan_destroyed entry
	Absent    int // intents whose bundle was not in the vault (evidence.orphan_discarded)
	Held      int // orphans the storage's retention keeps; tried again later
}

type orphanOutcome int

const (
	orphanDestroyed orphanOutcome = iota + 1
	orphanAbsent
	orphanHeld
	orphanSkipped // committed or taken over meanwhile
)

// errNotOrphan: the intent was committed, or another sweeper holds it.
var errNotOrphan = errors.New("not an orphan")

// SweepOrphans destroys the bundles whose intent stayed pending past the
// grace period: an upload or secure job published them and died before
// its incident commit. Each destruction is an evidence.orphan_destroyed
// audit entry with the destruction certificate's facts; an intent whose
// bundle never reached the vault ends with evidence.orphan_discarded.
// Orphans the storage's retention protects stay claimed (IntentOrphaned,
// listed as orphans) and are tried again daily; they are audited once,
// when finally destroyed. Committed intents, and bundles without an intent
// (`tresor vault seal`), are never touched.
func (s *Service) SweepOrphans(ctx context.Context) (OrphanSweep, error) {
	var rep OrphanSweep
	if s.vault == nil {
		return rep, errors.New("no vault configured")
	}
	now := s.now()
	var stale, due []BundleIntent
	err := s.store.View(ctx, func(tx Tx) (err error) {
		if stale, err = tx.BundleIntents(ctx, BundleIntentFilter{State: IntentPending,
			CreatedBefore: now.Add(-s.orphanGrace()), Limit: orphanBatch}); err != nil {
			return err
		}
		due, err = tx.BundleIntents(ctx, BundleIntentFilter{State: IntentOrphaned, RetryBy: now, Limit: orphanBatch})
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("failed to read bundle intents: %w", err)
	}
	var errs []error
	for _, in := range append(stale, due...) {
		claimed, err := s.claimOrphan(ctx, in.BundleID, false)
		if errors.Is(err, errNotOrphan) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out, err := s.destroyOrphan(ctx, claimed, "not_committed")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		switch out {
		case orphanDestroyed:
			rep.Destroyed++
		case orphanAbsent:
			rep.Absent++
		case orphanHeld:
			rep.Held++
		}
	}
	return rep, errors.Join(errs...)
}

// claimOrphan moves the intent of bundleID to IntentOrphaned with a lease,
// so that no commit can refer to it any more and no other sweeper destroys
// it at the same time. The sweeper claims only pending intents past the
// grace period and orphans due again; own (the failed upload itself)
// claims its intent whatever its state, except a committed one.
func (s *Service) claimOrphan(ctx context.Context, bundleID string, own bool) (BundleIntent, error) {
	var in BundleIntent
	err := s.store.Tx(ctx, func(tx Tx) (err error) {
		if in, err = tx.BundleIntent(ctx, bundleID); err != nil {
			return err
		}
		now := s.now()
		switch {
		case in.State == IntentCommitted:
			return errNotOrphan
		case own:
		case in.State == IntentPending && in.CreatedAt.Before(now.Add(-s.orphanGrace())):
		case in.State == IntentOrphaned && !in.RetryAt.After(now):
		default:
			return errNotOrphan
		}
		in.State, in.RetryAt = IntentOrphaned, now.Add(orphanLease)
		return tx.UpdateBundleIntent(ctx, &in)
	})
	if errors.Is(err, errNotOrphan) || errors.Is(err, ErrConflict) {
		return BundleIntent{}, errNotOrphan
	}
	if err != nil {
		return BundleIntent{}, fmt.Errorf("failed to claim orphan %s: %w", bundleID, err)
	}
	return in, nil
}

// destroyOrphan destroys the bundle of a claimed intent and records it.
// reason is "not_committed" (the sweeper) or "not_recorded" (the upload
// whose own commit failed).
func (s *Service) destroyOrphan(ctx context.Context, in BundleIntent, reason string) (orphanOutcome, error) {
	d, err := s.vault.Destroy(ctx, in.BundleID)
	absent := errors.Is(err, ErrNotFound)
	switch {
	case errors.Is(err, ErrRetention):
		err = s.updateClaimed(ctx, in, func(cur *BundleIntent) { cur.RetryAt = s.now().Add(orphanRetentionRetry) })
		if err != nil {
			return 0, err
		}
		return orphanHeld, nil
	case err != nil && !absent:
		// The lease runs out and the next sweep tries again.
		return 0, fmt.Errorf("failed to destroy orphan %s: %w", in.BundleID, err)
	}
	details := map[string]string{"bundle_id": in.BundleID, "kind": string(in.Kind), "reason": reason,
		"announced_at": in.CreatedAt.UTC().Format(time.RFC3339)}
	action, out := ActionEvidenceOrphanDestroyed, orphanDestroyed
	if absent {
		// Never published, or destroyed by a sweeper that died before
		// this entry: either way nothing of it is left.
		action, out = ActionEvidenceOrphanDiscarded, orphanAbsent
		details["detail"] = "bundle absent from the vault"
	} else {
		details["ciphertext_sha256"], details["ciphertext_size"] = d.CiphertextSHA256, strconv.FormatInt(d.CiphertextSize, 10)
		details["detail"] = d.Detail
	}
	err = s.updateClaimed(ctx, in, func(cur *BundleIntent) { cur.State, cur.RetryAt = IntentDestroyed, time.Time{} },
		func(tx Tx) error { return s.record(ctx, tx, System, action, in.IncidentID, details) })
	if errors.Is(err, errNotOrphan) {
		return orphanSkipped, nil
	}
	if err != nil {
		return 0, err
	}
	return out, nil
}

// updateClaimed changes a claimed intent, with more writes in the same
// transaction, unless someone took it over after the lease ran out.
func (s *Service) updateClaimed(ctx context.Context, in BundleIntent, change func(*BundleIntent), more ...func(Tx) error) error {
	err := s.store.Tx(ctx, func(tx Tx) error {
		cur, err := tx.BundleIntent(ctx, in.BundleID)
		if err != nil {
			return err
		}
		if cur.Version != in.Version {
			return errNotOrphan
		}
		change(&cur)
		if err := tx.UpdateBundleIntent(ctx, &cur); err != nil {
			return err
		}
		for _, fn := range more {
			if err := fn(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errNotOrphan) || errors.Is(err, ErrConflict) {
		return errNotOrphan
	}
	if err != nil {
		return fmt.Errorf("failed to record orphan %s: %w", in.BundleID, err)
	}
	return nil
}

// sweepOrphansIfDue runs SweepOrphans when Work starts and every
// orphanSweepEvery after, by the injected clock.
func (s *Service) sweepOrphansIfDue(ctx context.Context) {
	if s.vault == nil {
		return
	}
	if !s.orphans.due(s.now(), orphanSweepEvery) {
		return
	}
	rep, err := s.SweepOrphans(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Error("orphan sweep failed", "error_class", ErrorClass(err))
	}
	if rep != (OrphanSweep{}) {
		s.log.Info("orphan sweep", "destroyed", rep.Destroyed, "absent", rep.Absent, "held_by_retention", rep.Held)
	}
}

// BundleStatus is how `tresor vault list` marks a bundle the workflow
// announced but never recorded.
type BundleStatus string

const (
	// BundleUnrecorded: its intent is pending within the grace period:
	// being sealed right now, or left by a crash the sweeper will find.
	BundleUnrecorded BundleStatus = "unrecorded"
	// BundleOrphan: never recorded and past the grace period, or claimed
	// by the sweeper and kept by the storage's retention until it can be
	// destroyed.
	BundleOrphan BundleStatus = "orphan"
)

// BundleStatuses returns, by bundle id, the status of every bundle whose
// intent is not committed and not finished: the bundles no incident
// refers to. Bundles without an entry are recorded evidence or were
// sealed outside the workflow. For admins, auditors and the system.
func (s *Service) BundleStatuses(ctx context.Context, a Actor) (map[string]BundleStatus, error) {
	if a.ID != System.ID {
		if err := requireRole(a, RoleAdmin, RoleAuditor); err != nil {
			return nil, err
		}
	}
	out := map[string]BundleStatus{}
	orphanBefore := s.now().Add(-s.orphanGrace())
	err := s.store.View(ctx, func(tx Tx) error {
		for _, st := range []IntentState{IntentPending, IntentOrphaned} {
			list, err := tx.BundleIntents(ctx, BundleIntentFilter{State: st})
			if err != nil {
				return err
			}
			for _, in := range list {
				out[in.BundleID] = BundleOrphan
				if in.State == IntentPending && !in.CreatedAt.Before(orphanBefore) {
					out[in.BundleID] = BundleUnrecorded
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("failed to read bundle intents: %w", err)
	}
	return out, nil
}
