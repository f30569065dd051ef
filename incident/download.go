package incident

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"
)

// DownloadTTL is how long a release download link stays valid.
const DownloadTTL = time.Hour

// IssueDownload creates a single-use, expiring link token to download the
// bundle of an approved release request. Only supervisors issue one, at
// most as many per request as the policy's four_eyes.download_links
// allows (default 1), and none once the handover is recorded; a new link
// replaces an unused earlier one. Each is an audit entry. The token is
// returned once and stored only as its SHA-256.
func (s *Service) IssueDownload(ctx context.Context, a Actor, requestID string) (token string, expires time.Time, err error) {
	if err := knownID("request", requestID); err != nil {
		return "", time.Time{}, err
	}
	if err := requireRole(a, RoleSupervisor); err != nil {
		return "", time.Time{}, err
	}
	var raw [32]byte
	if _, err := io.ReadFull(s.rand, raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("failed to generate download token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw[:])
	err = s.store.Tx(ctx, func(tx Tx) error {
		r, inc, err := s.releasable(ctx, tx, a, requestID)
		if err != nil {
			return err
		}
		if s.DownloadLinksLeft(r) == 0 {
			if r.HandedOverAt != nil {
				return fmt.Errorf("%w: the handover is recorded, no further download link", ErrAlreadyDecided)
			}
			return fmt.Errorf("%w: this release allows %d download link(s), all issued", ErrAlreadyDecided, s.policy.FourEyes.DownloadLinks)
		}
		now := s.now()
		expires = now.Add(DownloadTTL)
		r.DownloadTokenHash, r.DownloadExpiresAt, r.DownloadUsedAt = tokenHash(token), &expires, nil
		r.DownloadLinks++
		if err := tx.UpdateRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update request: %w", err)
		}
		return s.record(ctx, tx, a, ActionReleaseLinkIssued, inc.ID, map[string]string{
			"request_id": r.ID, "expires_at": expires.Format(time.RFC3339), "link": strconv.Itoa(r.DownloadLinks),
		})
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return token, expires, nil
}

// DownloadLinksLeft is how many more download links the policy allows
// for r: none unless r is an approved release whose handover is not yet
// recorded.
func (s *Service) DownloadLinksLeft(r Request) int {
	if r.Kind != RequestRelease || r.State != RequestApproved || r.HandedOverAt != nil {
		return 0
	}
	return max(0, s.policy.FourEyes.DownloadLinks-r.DownloadLinks)
}

// RedeemDownload uses a download link: it checks the token (once, before
// it expires), records the download with the bundle's hash in the audit
// log, and only then returns the receipt of the bundle to send. If the
// audit entry cannot be written, nothing is released.
func (s *Service) RedeemDownload(ctx context.Context, a Actor, requestID, token string) (Receipt, error) {
	if err := knownID("request", requestID); err != nil {
		return Receipt{}, err
	}
	if err := requireRole(a, RoleSupervisor); err != nil {
		return Receipt{}, err
	}
	var receipt Receipt
	err := s.store.Tx(ctx, func(tx Tx) error {
		r, inc, err := s.releasable(ctx, tx, a, requestID)
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case r.DownloadTokenHash == "" || subtle.ConstantTimeCompare([]byte(r.DownloadTokenHash), []byte(tokenHash(token))) != 1:
			return fmt.Errorf("download link of request %s: %w", r.ID, ErrNotFound)
		case r.DownloadUsedAt != nil:
			return fmt.Errorf("%w: the download link was already used", ErrAlreadyDecided)
		case r.DownloadExpiresAt == nil || !now.Before(*r.DownloadExpiresAt):
			return fmt.Errorf("%w: the download link expired", ErrExpired)
		}
		r.DownloadUsedAt = &now
		if err := tx.UpdateRequest(ctx, &r); err != nil {
			return fmt.Errorf("failed to update request: %w", err)
		}
		receipt = *inc.Receipt
		return s.record(ctx, tx, a, ActionEvidenceDownloaded, inc.ID, map[string]string{
			"request_id": r.ID, "bundle_id": receipt.BundleID, "ciphertext_sha256": receipt.CiphertextSHA256,
			"ciphertext_size": strconv.FormatInt(receipt.CiphertextSize, 10), "recipient_sha256": digest(r.Recipient),
		})
	})
	if err != nil {
		return Receipt{}, err
	}
	return receipt, nil
}

// releasable loads an approved release request whose evidence is in the vault.
func (s *Service) releasable(ctx context.Context, tx Tx, a Actor, requestID string) (Request, Incident, error) {
	r, err := tx.Request(ctx, requestID)
	if err != nil {
		return Request{}, Incident{}, err
	}
	if r.Kind != RequestRelease || r.State != RequestApproved {
		return Request{}, Incident{}, fmt.Errorf("%w: request %s is not an approved release", ErrInvalidTransition, r.ID)
	}
	inc, err := incidentWithEvidence(ctx, tx, a, r.IncidentID)
	if err != nil {
		return Request{}, Incident{}, err
	}
	return r, inc, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
