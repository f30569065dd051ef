package incident

import (
	"context"
	"fmt"
	"strconv"
)

// BackupInfo describes a backup written by 'tresor backup', for its audit
// entry: the manifest's SHA-256 names the backup for good (the manifest
// holds the SHA-256 of every file in it).
type BackupInfo struct {
	ManifestSHA256 string
	Files          int
	Receipts       int
}

// RecordBackup records that a backup was written. It is called after the
// backup is complete, so the backup itself does not hold this entry.
func (s *Service) RecordBackup(ctx context.Context, b BackupInfo) error {
	if b.ManifestSHA256 == "" {
		return fmt.Errorf("%w: a backup needs its manifest hash", ErrInvalidInput)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		return s.record(ctx, tx, System, ActionBackupCreated, "", map[string]string{
			"manifest_sha256": b.ManifestSHA256, "files": strconv.Itoa(b.Files), "receipts": strconv.Itoa(b.Receipts),
		})
	})
}

// RelinkDetail is what a device restored from a backup says to the worker
// and the admin.
const RelinkDetail = "restored from a backup: the old WhatsApp keys were discarded, link the phone again"

// RecordRestore completes a restore. A linked WhatsApp device's Signal
// state (identity, sessions, pre-keys) must never be used twice: the
// phone and its contacts moved on since the backup, and a second copy of
// the keys would reuse ratchet state. So forgetKeys (the messenger
// adapter's) deletes every stored device key first, then every device
// that is not unlinked is marked DeviceRelink, without its address, so
// that nothing loads it and the worker links the phone again. The audit
// entry names the backup by its manifest hash.
func (s *Service) RecordRestore(ctx context.Context, devices CaptureStore, forgetKeys func(ctx context.Context) error, b BackupInfo) (relink int, err error) {
	if b.ManifestSHA256 == "" {
		return 0, fmt.Errorf("%w: a restore needs the backup's manifest hash", ErrInvalidInput)
	}
	if err := forgetKeys(ctx); err != nil {
		return 0, fmt.Errorf("failed to discard the restored WhatsApp keys: %w", err)
	}
	list, err := devices.Devices(ctx)
	if err != nil {
		return 0, err
	}
	for _, d := range list {
		if d.Status == DeviceUnlinked {
			continue
		}
		d.Status, d.Detail, d.JID, d.UpdatedAt = DeviceRelink, RelinkDetail, "", s.now()
		if err := devices.PutDevice(ctx, d); err != nil {
			return relink, err
		}
		relink++
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		return s.record(ctx, tx, System, ActionBackupRestored, "", map[string]string{
			"manifest_sha256": b.ManifestSHA256, "receipts": strconv.Itoa(b.Receipts), "devices_to_relink": strconv.Itoa(relink),
		})
	})
	return relink, err
}
