package incident

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// ActionEvidenceOpened records that a bundle was decrypted with vault
// keys (for threshold custody: by which holders), by whom, and whether
// the entry was imported from an offline opening record.
const ActionEvidenceOpened Action = "evidence.opened"

// Opening is one decryption of a bundle outside the server.
type Opening struct {
	BundleID string
	// IncidentID is the incident named in the bundle's manifest, "" for
	// bundles sealed without one.
	IncidentID string
	// Keys fingerprints the keys that opened it: for threshold custody
	// "holder I of N (K needed), set S", else the key's public recipient.
	Keys []string
	// Operator is the username of the person who ran the opening.
	Operator string
	// OpenedAt is when an offline opening happened; zero for an opening
	// recorded as it happens (the entry's own time).
	OpenedAt time.Time
	// Imported marks an entry appended later from an offline record.
	Imported bool
}

// ErrAlreadyImported: the offline opening record is in the audit log
// already; importing it again appends nothing.
var ErrAlreadyImported = errors.New("opening record already imported")

// OpeningClockSkew is how far an offline opening's time may lie ahead of
// the server's clock (the offline machine's clock may run fast); later
// times are refused.
const OpeningClockSkew = 5 * time.Minute

var (
	bundleIDPattern = regexp.MustCompile(`^[a-z0-9]{16,64}$`)
	// Key fingerprints are made by Tresor, never typed; anything else in
	// an imported record is refused rather than written to the log.
	keyPattern = regexp.MustCompile(`^(holder [0-9]{1,3} of [0-9]{1,3} \([0-9]{1,3} needed\), set [A-Za-z0-9+/]{11}|age1[a-z0-9]{20,200}|ssh-(ed25519|rsa) SHA256:[A-Za-z0-9+/]{43}|identity [0-9]{1,3})$`)
)

// RecordOpening appends an ActionEvidenceOpened entry. The operator must
// be an active supervisor or auditor (admins never handle evidence,
// workers never open it); the entry's actor is the operator. An opening
// naming an incident must name the bundle that incident secured.
//
// An imported opening (an offline record) is appended once: the same
// record — bundle, incident, keys, operator and opening time — imported
// again fails with ErrAlreadyImported and appends nothing. The audit log
// itself is what remembers it: the entries of the incident (or, for a
// bundle without one, the entries since the opening) are looked up after
// this entry is appended, so a concurrent import of the same record waits
// for the audit log's lock and then finds this one.
func (s *Service) RecordOpening(ctx context.Context, o Opening) error {
	if !bundleIDPattern.MatchString(o.BundleID) {
		return fmt.Errorf("%w: not a bundle id", ErrInvalidInput)
	}
	if len(o.Keys) == 0 || len(o.Keys) > 255 {
		return fmt.Errorf("%w: an opening names 1 to 255 keys", ErrInvalidInput)
	}
	for i, k := range o.Keys {
		if !keyPattern.MatchString(k) {
			return fmt.Errorf("%w: key %d is not a key fingerprint", ErrInvalidInput, i+1)
		}
	}
	if o.Imported != !o.OpenedAt.IsZero() {
		return fmt.Errorf("%w: an imported opening needs its time, a live one has none", ErrInvalidInput)
	}
	if o.Imported && o.OpenedAt.After(s.now().Add(OpeningClockSkew)) {
		return fmt.Errorf("%w: the record's opening time is in the future", ErrInvalidInput)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		u, err := tx.UserByName(ctx, o.Operator)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: no account named by --operator", ErrInvalidInput)
		} else if err != nil {
			return err
		}
		if u.Disabled {
			return fmt.Errorf("%w: the operator's account is disabled", ErrForbidden)
		}
		if err := requireRole(u.Actor(), RoleSupervisor, RoleAuditor); err != nil {
			return fmt.Errorf("%w: only supervisors and auditors open evidence", err)
		}
		if o.IncidentID != "" {
			inc, err := tx.Incident(ctx, o.IncidentID)
			if err != nil {
				return err
			}
			if inc.Receipt == nil || inc.Receipt.BundleID != o.BundleID {
				return fmt.Errorf("%w: incident %s did not secure bundle %s", ErrInvalidInput, o.IncidentID, o.BundleID)
			}
		}
		details := map[string]string{
			"bundle":   o.BundleID,
			"keys":     strings.Join(o.Keys, "; "),
			"imported": strconv.FormatBool(o.Imported),
		}
		if !o.Imported {
			return s.record(ctx, tx, u.Actor(), ActionEvidenceOpened, o.IncidentID, details)
		}
		details["opened_at"] = o.OpenedAt.UTC().Format(time.RFC3339)
		e, err := tx.Append(ctx, audit.Entry{Time: s.now(), Actor: u.ID, Action: string(ActionEvidenceOpened), IncidentID: o.IncidentID, Details: details})
		if err != nil {
			return fmt.Errorf("failed to append audit entry %s: %w", ActionEvidenceOpened, err)
		}
		return importedOnce(ctx, tx, e, o.OpenedAt.Add(-OpeningClockSkew))
	})
}

// importedOnce fails with ErrAlreadyImported when the log holds another
// entry with e's actor, incident and details (the same imported record).
// Any earlier import of it was appended at or after since: its opening
// time was then at most OpeningClockSkew ahead of the clock.
func importedOnce(ctx context.Context, tx Tx, e audit.Entry, since time.Time) error {
	entries, err := tx.AuditEntries(ctx, AuditFilter{IncidentID: e.IncidentID, From: since, Action: ActionEvidenceOpened})
	if err != nil {
		return err
	}
	for _, x := range entries {
		if x.Seq != e.Seq && x.Actor == e.Actor && x.IncidentID == e.IncidentID && maps.Equal(x.Details, e.Details) {
			return fmt.Errorf("%w (audit entry %d)", ErrAlreadyImported, x.Seq)
		}
	}
	return nil
}
