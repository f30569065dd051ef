package incident

import "context"

// CountVerifications makes s count its password verifications into n, so
// that a test can see the same argon2id work on every sign-in path
// without timing anything.
func CountVerifications(s *Service, n *int) {
	inner := s.verify
	s.verify = func(pw, hash string) error {
		*n++
		return inner(pw, hash)
	}
}

// SweepAccountRequestsIfDue runs Work's chore of expiring account
// requests once, on its schedule, so that a test can see the schedule
// without running the job loop.
func SweepAccountRequestsIfDue(s *Service, ctx context.Context) { s.sweepAccountRequestsIfDue(ctx) }
