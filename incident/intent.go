package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Publishing a bundle and committing the incident that refers to it are two
// systems: the vault, then the database. A crash between them would leave a
// complete bundle nothing refers to. So every bundle the workflow seals is
// announced first: a BundleIntent, committed in its own transaction before
// the vault is touched, names the bundle id and its incident. The commit
// that records the receipt marks the intent committed, in the same
// transaction. An intent still pending after the grace period belongs to an
// attempt that died; the orphan sweeper (orphans.go) destroys its bundle
// with an audit entry. Bundles sealed outside the workflow (`tresor vault
// seal`) have no intent and are never swept.

// IntentKind says which part of the workflow seals a bundle.
type IntentKind string

const (
	// IntentUpload: a file a worker uploaded (FlagUpload, SubmitUpload).
	// Each upload announces a bundle id of its own.
	IntentUpload IntentKind = "upload"
	// IntentSecure: the secure job. A retried job re-uses its pending
	// intent, so that its seal replaces the bundle of the attempt that
	// crashed instead of adding a second one.
	IntentSecure IntentKind = "secure"
)

// IntentState is a bundle intent's life.
type IntentState string

const (
	// IntentPending: announced; the bundle may or may not be in the vault.
	IntentPending IntentState = "pending"
	// IntentCommitted: the incident's receipt refers to the bundle. The
	// sweeper never touches it; retention and destroy requests do.
	IntentCommitted IntentState = "committed"
	// IntentOrphaned: claimed by the sweeper (or by the failed upload
	// itself) to be destroyed; it can never be committed any more. It
	// stays orphaned while the storage's retention refuses the deletion.
	IntentOrphaned IntentState = "orphaned"
	// IntentDestroyed: the bundle was destroyed, or found absent, and the
	// audit log says which.
	IntentDestroyed IntentState = "destroyed"
	// IntentAbandoned: sealing failed before anything was published.
	IntentAbandoned IntentState = "abandoned"
)

// BundleIntent announces a bundle before it is published.
type BundleIntent struct {
	BundleID   string
	IncidentID string
	Kind       IntentKind
	State      IntentState
	// CreatedAt is when the current publication attempt began (a retried
	// secure job moves it on); the grace period counts from it.
	CreatedAt time.Time
	// RetryAt is when the sweeper next tries to destroy an orphaned
	// bundle (zero for other states).
	RetryAt time.Time
	Version int64
}

// BundleIntentFilter narrows BundleIntents. Zero fields match everything.
type BundleIntentFilter struct {
	IncidentID string
	State      IntentState
	// CreatedBefore selects intents created before it.
	CreatedBefore time.Time
	// RetryBy selects intents whose RetryAt is set and not after it.
	RetryBy time.Time
	Limit   int
}

// bundleIDN derives the incident's n-th bundle id. The first is
// bundleID's, so incidents sealed before intents existed keep theirs.
func bundleIDN(incidentID string, n int) string {
	if n == 0 {
		return bundleID(incidentID)
	}
	sum := sha256.Sum256([]byte("tresor bundle\x00" + incidentID + "\x00" + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// announceBundle commits the intent of the bundle about to be sealed for
// the incident and returns it. The secure job re-uses a pending intent of
// its own (its earlier attempt died) and restarts its grace period; every
// other attempt gets a new bundle id, never one the sweeper holds.
func (s *Service) announceBundle(ctx context.Context, incidentID string, kind IntentKind) (BundleIntent, error) {
	var in BundleIntent
	err := s.store.Tx(ctx, func(tx Tx) error {
		known, err := tx.BundleIntents(ctx, BundleIntentFilter{IncidentID: incidentID})
		if err != nil {
			return fmt.Errorf("failed to read bundle intents: %w", err)
		}
		for _, k := range known {
			if kind == IntentSecure && k.Kind == IntentSecure && k.State == IntentPending {
				in = k
				in.CreatedAt = s.now()
				return tx.UpdateBundleIntent(ctx, &in)
			}
		}
		in = BundleIntent{BundleID: bundleIDN(incidentID, len(known)), IncidentID: incidentID, Kind: kind,
			State: IntentPending, CreatedAt: s.now()}
		return tx.CreateBundleIntent(ctx, in)
	})
	if errors.Is(err, ErrDuplicate) {
		// Another upload for the same incident announced this id first.
		return BundleIntent{}, fmt.Errorf("%w: another file is being sealed for incident %s", ErrConflict, incidentID)
	}
	if err != nil {
		return BundleIntent{}, fmt.Errorf("failed to announce the bundle: %w", err)
	}
	return in, nil
}

// commitBundle marks the intent of bundleID committed inside the
// transaction that records its receipt. If the sweeper claimed it
// meanwhile, the commit fails with ErrConflict: the bundle is being
// destroyed and must not be referred to. A bundle without intent (sealed
// before intents existed) commits as before.
func (s *Service) commitBundle(ctx context.Context, tx Tx, bundleID string) error {
	in, err := tx.BundleIntent(ctx, bundleID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to read the bundle intent: %w", err)
	}
	switch in.State {
	case IntentCommitted:
		return nil
	case IntentPending:
		in.State = IntentCommitted
		return tx.UpdateBundleIntent(ctx, &in)
	default:
		return fmt.Errorf("%w: bundle %s was given up as an orphan before it was recorded", ErrConflict, bundleID)
	}
}

// abandonBundle records that sealing failed before anything was published
// (the Vault's contract for a failed Seal). Best effort: if it cannot be
// recorded, the sweeper finds the intent after the grace period.
func (s *Service) abandonBundle(ctx context.Context, in BundleIntent) {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	_ = s.store.Tx(ctx, func(tx Tx) error { // best effort, see above
		cur, err := tx.BundleIntent(ctx, in.BundleID)
		if err != nil || cur.State != IntentPending {
			return err
		}
		cur.State = IntentAbandoned
		return tx.UpdateBundleIntent(ctx, &cur)
	})
}

// discardUnrecorded destroys a bundle the caller published but could not
// record, with the same audit entry the sweeper writes. If that fails, the
// intent stays for the sweeper and the returned error says so.
func (s *Service) discardUnrecorded(ctx context.Context, in BundleIntent) error {
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	claimed, err := s.claimOrphan(ctx, in.BundleID, true)
	if errors.Is(err, errNotOrphan) {
		return nil // another sweeper holds it and records it
	}
	if err != nil {
		return err
	}
	_, err = s.destroyOrphan(ctx, claimed, "not_recorded")
	return err
}

// cleanupContext outlives the request that failed: an upload the client
// broke off must still record what became of its bundle.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
}
