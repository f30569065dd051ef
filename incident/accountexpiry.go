package incident

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// accountRequestSweepEvery is how often Work expires the account
// requests past their expiry.
const accountRequestSweepEvery = 10 * time.Minute

// SweepAccountRequests expires every pending account request past its
// expiry, each in one transaction with its audit entry and the notice to
// its requester (expireAccountRequest, the same as when someone tries to
// decide one too late). It returns how many it expired; a request that
// fails is left for the next sweep and the others are still expired.
func (s *Service) SweepAccountRequests(ctx context.Context) (int, error) {
	var due []AccountRequest
	err := s.store.View(ctx, func(tx Tx) (err error) {
		due, err = tx.AccountRequests(ctx, AccountRequestFilter{ExpiredBy: s.now()})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("failed to list expired account requests: %w", err)
	}
	n := 0
	var errs []error
	for _, r := range due {
		expired, err := s.expireAccountRequest(ctx, r.ID)
		if errors.Is(err, ErrConflict) {
			continue // decided or expired meanwhile
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("failed to expire account request %s: %w", r.ID, err))
			continue
		}
		if expired {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// sweepAccountRequestsIfDue runs SweepAccountRequests when Work starts
// and every accountRequestSweepEvery after, by the injected clock.
func (s *Service) sweepAccountRequestsIfDue(ctx context.Context) {
	if !s.accountRequestSweep.due(s.now(), accountRequestSweepEvery) {
		return
	}
	n, err := s.SweepAccountRequests(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Error("account request sweep failed", "error_class", ErrorClass(err))
	}
	if n > 0 {
		s.log.Info("account request sweep", "expired", n)
	}
}
