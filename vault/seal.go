package vault

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"

	"filippo.io/age"
)

// A Part is one file to seal into a bundle.
type Part struct {
	// Name is the part's file name inside the bundle: 1 to 128 ASCII
	// letters, digits, '.', '_' or '-', not starting with '.'.
	Name      string
	MediaType string
	// Size is the part's size in bytes, or -1 if unknown. A reader that
	// yields a different number of bytes fails the bundle.
	Size int64
	// WhatsAppSHA256 is WhatsApp's own hash of the file, as given, if any.
	WhatsAppSHA256 string
	// SHA256 is the part's SHA-256 in hex if the caller already knows it
	// (WhatsApp media arrive with theirs, checked on download), else "".
	// With Size also known, R is read once, straight into the bundle, and
	// the hash is checked as it goes: a part that does not match fails the
	// bundle with ErrIntegrity and nothing is published.
	SHA256 string
	// R is read once to its end when SHA256 and Size are given; otherwise,
	// if it is an io.ReadSeeker and Size is known, twice (first to hash,
	// then to encrypt; a change in between fails the bundle). A reader of
	// unknown size that cannot seek is spooled through an encrypted
	// temporary file.
	R io.Reader
}

// A Receipt records a sealed bundle. It is what the caller keeps (in the
// database) to verify the bundle later.
type Receipt struct {
	BundleID         string
	CiphertextSHA256 string
	CiphertextSize   int64
	ManifestSHA256   string
	// Recipients are the fingerprints of the recipients the bundle is
	// encrypted to.
	Recipients []string
	Parts      []PartInfo
	SealedAt   time.Time
}

// Seal writes a bundle: an age file encrypted to the vault's recipients,
// holding a tar stream with manifest.json (m completed with the parts'
// names, sizes and SHA-256 hashes) first, then each part in order. The
// bundle is published atomically and durably before Seal returns; on any
// error nothing is published.
//
// m.BundleID is generated if empty; m.CapturedAt defaults to now and
// m.ToolVersion to the vault's; m.Parts must be empty (Seal fills it).
func (v *Vault) Seal(ctx context.Context, m Manifest, parts ...Part) (rc Receipt, err error) {
	// A full disk, in the backend or in the spool, is the operator's to
	// fix: callers tell it apart by ErrStorageFull.
	defer func() { err = storageFull(err) }()
	if len(v.recipients) == 0 {
		return Receipt{}, ErrNoRecipients
	}
	if m.BundleID == "" {
		if m.BundleID, err = newID(v.rand); err != nil {
			return Receipt{}, err
		}
	} else if err := checkID(m.BundleID); err != nil {
		return Receipt{}, err
	}
	if len(m.Parts) != 0 {
		return Receipt{}, fmt.Errorf("%w: Manifest.Parts is filled in by Seal", ErrInvalidManifest)
	}
	if m.MetadataOnly && len(parts) != 0 {
		return Receipt{}, fmt.Errorf("%w: metadata-only bundle with %d parts", ErrInvalidManifest, len(parts))
	}
	if m.CapturedAt.IsZero() {
		m.CapturedAt = v.now()
	}
	if m.ToolVersion == "" {
		m.ToolVersion = v.toolVersion
	}
	for _, p := range parts {
		if p.R == nil {
			return Receipt{}, fmt.Errorf("%w: part %q has no reader", ErrInvalidManifest, p.Name)
		}
		if p.SHA256 != "" && !isHexHash(p.SHA256) {
			return Receipt{}, fmt.Errorf("%w: part %q: declared SHA-256 %q is not 64 lowercase hex digits", ErrInvalidManifest, p.Name, quoteShort(p.SHA256))
		}
		if v.maxPartSize >= 0 && p.Size > v.maxPartSize {
			return Receipt{}, fmt.Errorf("%w: part %q declares %d bytes, limit %d", ErrTooLarge, p.Name, p.Size, v.maxPartSize)
		}
		// Size and hash are placeholders until the part is read.
		m.Parts = append(m.Parts, PartInfo{Name: p.Name, MediaType: p.MediaType, Size: 0,
			SHA256: zeroHash, WhatsAppSHA256: p.WhatsAppSHA256})
	}
	if err := checkManifest(m); err != nil {
		return Receipt{}, err
	}
	if _, err := v.b.Stat(ctx, m.BundleID); err == nil {
		return Receipt{}, fmt.Errorf("%w: %s", ErrExists, m.BundleID)
	} else if !errors.Is(err, ErrNotFound) {
		return Receipt{}, fmt.Errorf("failed to check bundle id: %w", err)
	}

	prepared := make([]*preparedPart, 0, len(parts))
	defer func() {
		for _, p := range prepared {
			err = errors.Join(err, p.Close())
		}
	}()
	for i, p := range parts {
		pp, err := v.prepare(ctx, p)
		if err != nil {
			return Receipt{}, fmt.Errorf("failed to read part %q: %w", p.Name, err)
		}
		prepared = append(prepared, pp)
		m.Parts[i].Size, m.Parts[i].SHA256 = pp.size, hex.EncodeToString(pp.sum)
		m.Parts[i].WhatsAppHashMismatch = p.WhatsAppSHA256 != "" && p.WhatsAppSHA256 != m.Parts[i].SHA256
	}
	manifest, err := marshalManifest(m)
	if err != nil {
		return Receipt{}, err
	}
	msum := sha256.Sum256(manifest)

	w, err := v.b.Create(ctx, m.BundleID)
	if err != nil {
		return Receipt{}, fmt.Errorf("failed to create bundle: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			err = errors.Join(err, w.Abort())
		}
	}()
	ctHash := newPipeHash()
	defer ctHash.Stop()
	ct := &teeCounter{w: w, h: ctHash}
	err = writeBundle(ctx, ct, v.recipients, m.CapturedAt, manifest, prepared, m.Parts)
	if err != nil {
		return Receipt{}, err
	}
	if err := w.Commit(ctx); err != nil {
		committed = true // Commit cleans up after itself.
		return Receipt{}, fmt.Errorf("failed to commit bundle: %w", err)
	}
	committed = true
	return Receipt{
		BundleID:         m.BundleID,
		CiphertextSHA256: hex.EncodeToString(ctHash.Sum()),
		CiphertextSize:   ct.n,
		ManifestSHA256:   hex.EncodeToString(msum[:]),
		Recipients:       append([]string(nil), v.fingerprints...),
		Parts:            append([]PartInfo(nil), m.Parts...),
		SealedAt:         v.now(),
	}, nil
}

// zeroHash is a placeholder that passes validation before hashes are known.
const zeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

func writeBundle(ctx context.Context, dst io.Writer, recipients []Recipient, mtime time.Time,
	manifest []byte, parts []*preparedPart, infos []PartInfo) error {
	enc, err := age.Encrypt(dst, recipients...)
	if err != nil {
		return fmt.Errorf("failed to encrypt bundle: %w", err)
	}
	tw := tar.NewWriter(enc)
	mtime = mtime.UTC().Truncate(time.Second)
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: manifestName, Mode: 0o600, Size: int64(len(manifest)), ModTime: mtime}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("failed to write manifest: %w", err)
	}
	if _, err := tw.Write(manifest); err != nil {
		return fmt.Errorf("failed to write manifest: %w", err)
	}
	for i, p := range parts {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: infos[i].Name, Mode: 0o600, Size: p.size, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("failed to write part %q: %w", infos[i].Name, err)
		}
		if err := p.replay(ctx, tw); err != nil {
			return fmt.Errorf("failed to write part %q: %w", infos[i].Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("failed to finish bundle: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("failed to finish bundle: %w", err)
	}
	return nil
}

// preparedPart is a part whose size and hash are known and that can be
// replayed once.
type preparedPart struct {
	size  int64
	sum   []byte
	spool *spool
	// src is the caller's reader, positioned at the part's start; a
	// declared part's size and hash are still the caller's word.
	src      io.Reader
	declared bool
}

func (v *Vault) prepare(ctx context.Context, p Part) (*preparedPart, error) {
	if p.SHA256 != "" && p.Size >= 0 {
		sum, err := hex.DecodeString(p.SHA256)
		if err != nil {
			return nil, err
		}
		return &preparedPart{size: p.Size, sum: sum, src: p.R, declared: true}, nil
	}
	if rs, ok := p.R.(io.ReadSeeker); ok && p.Size >= 0 {
		if start, err := rs.Seek(0, io.SeekCurrent); err == nil {
			h := sha256.New()
			n, err := io.Copy(h, io.LimitReader(ctxReader{ctx, rs}, p.Size+1))
			if err != nil {
				return nil, err
			}
			if n != p.Size {
				return nil, sizeMismatch(p.Size, n)
			}
			if _, err := rs.Seek(start, io.SeekStart); err != nil {
				return nil, fmt.Errorf("failed to rewind: %w", err)
			}
			return &preparedPart{size: n, sum: h.Sum(nil), src: rs}, nil
		}
	}
	s, err := newSpool(v.tempDir, ctxReader{ctx, p.R}, v.maxPartSize)
	if err != nil {
		return nil, err
	}
	if p.Size >= 0 && s.size != p.Size {
		return nil, errors.Join(sizeMismatch(p.Size, s.size), s.Close())
	}
	if p.SHA256 != "" && hex.EncodeToString(s.sum) != p.SHA256 {
		return nil, errors.Join(fmt.Errorf("%w: does not match its declared SHA-256", ErrIntegrity), s.Close())
	}
	return &preparedPart{size: s.size, sum: s.sum, spool: s}, nil
}

// sizeMismatch reports a part that yielded got bytes where declared were
// promised; a reader that was cut off after declared+1 bytes "got more".
func sizeMismatch(declared, got int64) error {
	if got > declared {
		return fmt.Errorf("%w: declared %d bytes, got more", ErrSizeMismatch, declared)
	}
	return fmt.Errorf("%w: declared %d bytes, got %d", ErrSizeMismatch, declared, got)
}

// replay copies the part to w, checking that it is still what was hashed.
func (p *preparedPart) replay(ctx context.Context, w io.Writer) error {
	var r io.Reader
	if p.spool != nil {
		sr, err := p.spool.reader()
		if err != nil {
			return err
		}
		r = sr
	} else {
		r = p.src
	}
	r = ctxReader{ctx, r}
	// A spool is authenticated by age under a key only this process
	// holds, so it cannot change unnoticed; a caller's reader can, and is
	// hashed again (on another core) to prove it did not.
	var h *pipeHash
	var n int64
	var err error
	if p.spool == nil {
		h = newPipeHash()
		defer h.Stop()
		n, err = h.copyFrom(w, r, p.size)
	} else {
		n, err = io.CopyN(w, r, p.size)
	}
	if err == io.EOF {
		if p.declared {
			return sizeMismatch(p.size, n)
		}
		return fmt.Errorf("%w: part shrank while sealing", ErrIntegrity)
	} else if err != nil {
		return err
	}
	// Read to the end: this authenticates the spool's last chunk and
	// detects a source that grew.
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n != 0 {
		if p.declared {
			return sizeMismatch(p.size, p.size+1)
		}
		return fmt.Errorf("%w: part grew while sealing", ErrIntegrity)
	} else if err != io.EOF {
		return err
	}
	if h != nil && string(h.Sum()) != string(p.sum) {
		if p.declared {
			return fmt.Errorf("%w: does not match its declared SHA-256", ErrIntegrity)
		}
		return fmt.Errorf("%w: part changed while sealing", ErrIntegrity)
	}
	return nil
}

func (p *preparedPart) Close() error {
	if p.spool != nil {
		return p.spool.Close()
	}
	return nil
}

// teeCounter writes to w, then the same bytes to h, and counts them.
type teeCounter struct {
	w, h io.Writer
	n    int64
}

func (t *teeCounter) Write(p []byte) (int, error) {
	n, err := t.w.Write(p)
	if _, herr := t.h.Write(p[:n]); err == nil {
		err = herr
	}
	t.n += int64(n)
	return n, err
}

// hashWriter hashes and counts what it writes to w.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (w *hashWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	return n, err
}
