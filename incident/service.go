package incident

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/policies"
)

// Service runs the incident workflow. It is safe for concurrent use; all
// coordination happens in the Store's transactions.
type Service struct {
	store  Store
	policy *policies.Policy
	vault  Vault
	msgr   Messenger
	// mailer sends notifications to publicURL's pages; nil records
	// them as not sent.
	mailer    Mailer
	publicURL string
	clock     func() time.Time
	rand      io.Reader
	// wait delays the answer to a throttled client address.
	wait  func(ctx context.Context, d time.Duration) error
	lease time.Duration
	// log receives the job worker's structured log (never caller text).
	log *slog.Logger
	// pwParams overrides argon2id's cost when set.
	pwParams *password.Params
	// dummyHash makes sign-in for unknown users as slow as for real ones.
	dummyOnce sync.Once
	dummyHash string
	// verify checks a password against its hash (password.Verify; tests
	// count its calls).
	verify func(pw, hash string) error
	// factors checks step-up proofs; nil: none can be checked.
	factors *account.Factors
	// witnesses are the keys whose cosignatures AddCosignature accepts.
	witnesses []note.Verifier
	// orphans schedules the sweep of bundles never committed (orphans.go).
	orphans orphanSweeper
	// throttleSweep schedules the deletion of stale throttles (throttle.go).
	throttleSweep schedule
	// accountRequestSweep schedules the expiry of account requests
	// nobody decided in time (accountexpiry.go).
	accountRequestSweep schedule
	// tokens seals the identity provider's tokens (providertokens.go);
	// nil: they are not kept.
	tokens *account.Sealer
	// provider answers the periodic offboarding check; nil: no check.
	provider ProviderChecker
	// providerCheck schedules that check.
	providerCheck schedule
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now, for tests and deterministic expiry.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.clock = now } }

// WithRand replaces crypto/rand as the source of identifiers and tokens.
func WithRand(r io.Reader) Option { return func(s *Service) { s.rand = r } }

// WithLease sets how long a claimed job is reserved for one worker before
// another may take it over (default 5 minutes).
func WithLease(d time.Duration) Option { return func(s *Service) { s.lease = d } }

// WithLogger sets where the job worker logs claims, retries, hand-backs
// and dead jobs (default: nowhere). Lines carry job ids, kinds, attempts
// and error classes only, never text a caller typed.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns a Service over its ports. vault and msgr may be nil
// in tools that never run jobs; running a job that needs them then fails.
func NewService(store Store, pol *policies.Policy, vault Vault, msgr Messenger, opts ...Option) *Service {
	s := &Service{store: store, policy: pol, vault: vault, msgr: msgr, clock: time.Now, rand: rand.Reader, lease: 5 * time.Minute,
		verify: password.Verify, wait: sleep, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Policy returns the policy the service enforces.
func (s *Service) Policy() *policies.Policy { return s.policy }

// now is the injected clock in UTC at the precision every store keeps.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// newID returns a random 128-bit identifier in lowercase hex.
func (s *Service) newID() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("failed to generate id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// record appends one audit entry inside tx.
func (s *Service) record(ctx context.Context, tx Tx, a Actor, action Action, incidentID string, details map[string]string) error {
	_, err := tx.Append(ctx, audit.Entry{Time: s.now(), Actor: a.ID, Action: string(action), IncidentID: incidentID, Details: details})
	if err != nil {
		return fmt.Errorf("failed to append audit entry %s: %w", action, err)
	}
	return nil
}

// digest fingerprints free text (reasons, notes) for the audit log, which
// is immutable and so keeps no personal data: the text itself lives in
// the request or step, and the hash proves it was not changed later.
func digest(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// visibleIncident loads an incident the actor may see, or ErrNotFound.
func visibleIncident(ctx context.Context, tx Tx, a Actor, id string) (Incident, error) {
	inc, err := tx.Incident(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if !inc.visibleTo(a) {
		return Incident{}, fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return inc, nil
}

// requireRole fails with ErrForbidden unless the actor has one of roles.
func requireRole(a Actor, roles ...Role) error {
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return fmt.Errorf("%w: role %q may not do this", ErrForbidden, a.Role)
}
