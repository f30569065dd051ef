package vaultopen

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
)

// Options say how to open a vault.
type Options struct {
	Location Location
	// AccessKeyID and SecretAccessKey are the S3 credentials; a file
	// vault refuses them (they would be a sign of a misconfiguration).
	AccessKeyID     string
	SecretAccessKey string
	// RecipientsFile names the age recipients new bundles are sealed to,
	// one a line; "" opens a vault that verifies, opens, lists and
	// destroys but does not seal.
	RecipientsFile string
	// Create makes a missing vault folder (serve, seal); without it a
	// missing folder is an error, so that a mistyped path is not taken
	// for an empty vault.
	Create bool
	// TempDir holds encrypted spools (default os.TempDir()).
	TempDir string
	// Vault are further options for vault.New (clock, tool version).
	Vault []vault.Option
}

// Open opens the vault opts name. A folder vault is swept of what crashed
// writers left behind as it opens (vault.NewFSBackend does it, once); an
// S3 vault has nothing to sweep (see s3backend.Backend.Sweep).
func Open(ctx context.Context, opts Options) (*vault.Vault, error) {
	b, err := openBackend(ctx, opts)
	if err != nil {
		return nil, err
	}
	var recs []vault.Recipient
	var fps []string
	if opts.RecipientsFile != "" {
		if recs, fps, err = vault.ReadRecipientsFile(opts.RecipientsFile); err != nil {
			return nil, fmt.Errorf("failed to read vault recipients (run 'tresor init' or 'tresor vault keygen --add'): %w", err)
		}
	}
	vopts := opts.Vault
	if opts.TempDir != "" {
		vopts = append(append([]vault.Option(nil), vopts...), vault.WithTempDir(opts.TempDir))
	}
	return vault.New(b, recs, fps, vopts...)
}

func openBackend(ctx context.Context, opts Options) (vault.Backend, error) {
	l := opts.Location
	switch l.Scheme {
	case "file":
		if opts.AccessKeyID != "" || opts.SecretAccessKey != "" {
			return nil, errors.New("S3 credentials are set (TRESOR_S3_ACCESS_KEY_ID, TRESOR_S3_SECRET_ACCESS_KEY) but the vault is a folder: set TRESOR_VAULT_URL=s3://… or remove them")
		}
		if l.Dir == "" {
			return nil, fmt.Errorf("%w: no vault folder", ErrInvalidURL)
		}
		if !opts.Create {
			if _, err := os.Stat(l.Dir); err != nil {
				return nil, fmt.Errorf("failed to open vault: %w", err)
			}
		}
		return vault.NewFSBackend(l.Dir)
	case "s3":
		if opts.AccessKeyID == "" || opts.SecretAccessKey == "" {
			return nil, errors.New("an S3 vault needs TRESOR_S3_ACCESS_KEY_ID and TRESOR_S3_SECRET_ACCESS_KEY_FILE (or TRESOR_S3_SECRET_ACCESS_KEY)")
		}
		b, err := s3backend.New(ctx, s3backend.Config{Endpoint: l.Endpoint, Bucket: l.Bucket, Region: l.Region,
			AccessKey: opts.AccessKeyID, SecretKey: opts.SecretAccessKey, UseTLS: l.UseTLS, Prefix: l.Prefix,
			ObjectLock: l.ObjectLock != "", Mode: l.ObjectLock, PathStyle: l.PathStyle, TempDir: opts.TempDir})
		if err != nil {
			return nil, fmt.Errorf("failed to open the S3 vault %s: %w", l, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("%w: scheme %q", ErrInvalidURL, l.Scheme)
	}
}
