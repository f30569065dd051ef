package vault

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault/threshold"
)

// srcReader remembers the first error of the ciphertext source, so that
// storage failures are not mistaken for tampering.
type srcReader struct {
	r   io.Reader
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// decrypt opens the age layer of bundle id read from src.
func decrypt(id string, src *srcReader, ids []Identity) (io.Reader, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("%w: no identities given", ErrNoIdentity)
	}
	r, err := age.Decrypt(src, ids...)
	if err == nil {
		return r, nil
	}
	var nm *age.NoIdentityMatchError
	switch {
	case src.err != nil:
		return nil, fmt.Errorf("failed to read bundle %s: %w", id, src.err)
	case errors.Is(err, threshold.ErrNotEnoughHolders):
		return nil, fmt.Errorf("bundle %s: %w", id, err)
	case errors.Is(err, threshold.ErrTamperedShare):
		return nil, fmt.Errorf("%w: bundle %s: %w", ErrIntegrity, id, err)
	case errors.As(err, &nm):
		return nil, fmt.Errorf("%w: bundle %s is encrypted to %d recipient(s) of type %s",
			ErrNoIdentity, id, len(nm.StanzaTypes), strings.Join(uniq(nm.StanzaTypes), ", "))
	default:
		return nil, fmt.Errorf("%w: bundle %s: malformed or altered age header: %v", ErrIntegrity, id, err)
	}
}

func uniq(s []string) []string {
	var out []string
	seen := make(map[string]bool)
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// plainReader classifies errors of the decrypted stream: storage errors as
// such, anything else (failed chunk authentication, truncation) as
// ErrIntegrity.
type plainReader struct {
	id  string
	src *srcReader
	r   io.Reader
	err error
}

func (p *plainReader) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		if p.src.err != nil {
			p.err = fmt.Errorf("failed to read bundle %s: %w", p.id, p.src.err)
		} else {
			p.err = fmt.Errorf("%w: bundle %s: ciphertext is truncated or altered: %v", ErrIntegrity, p.id, err)
		}
		return n, p.err
	}
	return n, err
}

// readBundle reads the tar stream of bundle id from plain, checks it
// against its manifest and calls fn for each part (fn may be nil). It
// returns the manifest and the SHA-256 of manifest.json.
func readBundle(id string, plain *plainReader, fn func(PartInfo, io.Reader) error) (Manifest, string, error) {
	tr := tar.NewReader(plain)
	tarErr := func(what string, err error) error {
		if plain.err != nil {
			return plain.err
		}
		return fmt.Errorf("%w: bundle %s: %s: %v", ErrIntegrity, id, what, err)
	}
	hdr, err := tr.Next()
	if err != nil {
		return Manifest{}, "", tarErr("failed to read manifest entry", err)
	}
	if hdr.Name != manifestName || hdr.Typeflag != tar.TypeReg {
		return Manifest{}, "", fmt.Errorf("%w: bundle %s: first entry is %s, not %s", ErrIntegrity, id, describeEntry(hdr), manifestName)
	}
	if hdr.Size > maxManifestSize {
		return Manifest{}, "", fmt.Errorf("%w: bundle %s: manifest larger than %d bytes", ErrIntegrity, id, maxManifestSize)
	}
	data, err := io.ReadAll(tr)
	if err != nil {
		return Manifest{}, "", tarErr("failed to read manifest", err)
	}
	msum := sha256.Sum256(data)
	m, err := ParseManifest(data)
	if err != nil {
		return Manifest{}, "", fmt.Errorf("bundle %s: %w", id, err)
	}
	if m.BundleID != id {
		return Manifest{}, "", fmt.Errorf("%w: bundle %s holds the manifest of bundle %s", ErrIntegrity, id, m.BundleID)
	}
	for _, p := range m.Parts {
		hdr, err := tr.Next()
		if err == io.EOF {
			return Manifest{}, "", fmt.Errorf("%w: bundle %s: part %q is missing", ErrIntegrity, id, p.Name)
		}
		if err != nil {
			return Manifest{}, "", tarErr("failed to read part entry", err)
		}
		if hdr.Name != p.Name || hdr.Typeflag != tar.TypeReg {
			return Manifest{}, "", fmt.Errorf("%w: bundle %s: found %s where part %q was expected", ErrIntegrity, id, describeEntry(hdr), p.Name)
		}
		if hdr.Size != p.Size {
			return Manifest{}, "", fmt.Errorf("%w: bundle %s: part %q is %d bytes, manifest says %d", ErrIntegrity, id, p.Name, hdr.Size, p.Size)
		}
		h := sha256.New()
		r := io.TeeReader(tr, h)
		if fn != nil {
			if err := fn(p, r); err != nil {
				if plain.err != nil {
					return Manifest{}, "", plain.err
				}
				return Manifest{}, "", fmt.Errorf("failed to process part %q: %w", p.Name, err)
			}
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return Manifest{}, "", tarErr("failed to read part", err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != p.SHA256 {
			return Manifest{}, "", fmt.Errorf("%w: bundle %s: part %q has sha-256 %s, manifest says %s", ErrIntegrity, id, p.Name, got, p.SHA256)
		}
	}
	hdr, err = tr.Next()
	if err == nil {
		return Manifest{}, "", fmt.Errorf("%w: bundle %s: unexpected %s after the last part", ErrIntegrity, id, describeEntry(hdr))
	}
	if err != io.EOF {
		return Manifest{}, "", tarErr("failed to read end of archive", err)
	}
	// Read to the end of the age stream, which authenticates its last
	// chunk: a truncated bundle fails here at the latest.
	if err := drainZeros(plain); err != nil {
		if plain.err != nil {
			return Manifest{}, "", plain.err
		}
		return Manifest{}, "", fmt.Errorf("%w: bundle %s: %v", ErrIntegrity, id, err)
	}
	return m, hex.EncodeToString(msum[:]), nil
}

// describeEntry names a tar entry for an error, flagging names that would
// leave the extraction directory.
func describeEntry(h *tar.Header) string {
	name := quoteShort(h.Name)
	if unsafeEntryName(h.Name) {
		return fmt.Sprintf("unsafe entry %q (path traversal)", name)
	}
	if h.Typeflag != tar.TypeReg {
		return fmt.Sprintf("entry %q of type %q", name, string(h.Typeflag))
	}
	return fmt.Sprintf("entry %q", name)
}

func unsafeEntryName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || path.IsAbs(name) {
		return true
	}
	c := path.Clean(name)
	return c == ".." || strings.HasPrefix(c, "../")
}

func drainZeros(r io.Reader) error {
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b != 0 {
				return errors.New("trailing data after the archive")
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
