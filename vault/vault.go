package vault

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// A Vault seals bundles to its recipients and stores them in a Backend.
// It is safe for concurrent use.
type Vault struct {
	b            Backend
	recipients   []Recipient
	fingerprints []string
	now          func() time.Time
	rand         io.Reader
	toolVersion  string
	tempDir      string
	maxPartSize  int64
}

// An Option configures a Vault.
type Option func(*Vault)

// WithClock sets the clock used for capture, seal and destruction times.
func WithClock(now func() time.Time) Option { return func(v *Vault) { v.now = now } }

// WithRand sets the source of bundle ids (not of key material, which always
// comes from crypto/rand inside age).
func WithRand(r io.Reader) Option { return func(v *Vault) { v.rand = r } }

// WithToolVersion sets the version recorded in manifests.
func WithToolVersion(s string) Option { return func(v *Vault) { v.toolVersion = s } }

// WithTempDir sets the directory of the encrypted spool files (default
// os.TempDir()).
func WithTempDir(dir string) Option { return func(v *Vault) { v.tempDir = dir } }

// WithMaxPartSize bounds the size of each part Seal accepts (default: no
// bound). Larger parts fail with ErrTooLarge.
func WithMaxPartSize(n int64) Option { return func(v *Vault) { v.maxPartSize = n } }

// New returns a Vault storing bundles in b, encrypted to recipients, whose
// fingerprints (as returned by ParseRecipients) are recorded in receipts.
// A Vault without recipients can verify, open and destroy but not seal.
func New(b Backend, recipients []Recipient, fingerprints []string, opts ...Option) (*Vault, error) {
	if b == nil {
		return nil, errors.New("vault: nil backend")
	}
	if len(recipients) != len(fingerprints) {
		return nil, fmt.Errorf("vault: %d recipients but %d fingerprints", len(recipients), len(fingerprints))
	}
	v := &Vault{
		b:            b,
		recipients:   append([]Recipient(nil), recipients...),
		fingerprints: append([]string(nil), fingerprints...),
		now:          time.Now,
		rand:         rand.Reader,
		toolVersion:  "devel",
		tempDir:      os.TempDir(),
		maxPartSize:  -1,
	}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Backend returns the vault's storage.
func (v *Vault) Backend() Backend { return v.b }

// Recipients returns the fingerprints of the recipients new bundles are
// encrypted to.
func (v *Vault) Recipients() []string { return append([]string(nil), v.fingerprints...) }

// Sweep removes the leftovers of crashed writes from the backend.
func (v *Vault) Sweep(ctx context.Context) (int, error) {
	n, err := v.b.Sweep(ctx)
	if err != nil {
		return n, fmt.Errorf("failed to sweep: %w", err)
	}
	return n, nil
}

// List calls fn with the id of every bundle.
func (v *Vault) List(ctx context.Context, fn func(id string) error) error {
	return v.b.List(ctx, fn)
}

// ctxReader fails reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}
