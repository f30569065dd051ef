package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Backup is a backup folder whose files were checked against its
// manifest.
type Backup struct {
	Manifest       Manifest
	ManifestSHA256 string
	dir, keys      string
}

// Open reads DIR's manifest and checks every file it lists (size and
// SHA-256), and that no other file lies in DIR. keysDir, when not empty,
// is where the keys/ sub-folder was moved to (another medium);
// otherwise it is DIR/keys.
func Open(dir, keysDir string) (*Backup, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no %s (is it a Tresor backup folder?)", ErrCorrupt, dir, ManifestName)
		}
		return nil, fmt.Errorf("failed to read the manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: the manifest cannot be read: %v", ErrCorrupt, err)
	}
	if m.Format != Format {
		return nil, fmt.Errorf("%w: format %q, this version reads %q", ErrCorrupt, m.Format, Format)
	}
	if keysDir == "" {
		keysDir = filepath.Join(dir, KeysDir)
	}
	if st, err := os.Stat(keysDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: no folder %s (bring the keys/ folder from the medium you keep it on, or name it with --keys)", ErrNoKeys, keysDir)
	}
	b := &Backup{Manifest: m, dir: dir, keys: keysDir}
	listed := map[string]bool{}
	for _, f := range m.Files {
		if err := checkRel(f.Path); err != nil {
			return nil, err
		}
		if listed[f.Path] {
			return nil, fmt.Errorf("%w: %s is listed twice", ErrCorrupt, f.Path)
		}
		listed[f.Path] = true
		if err := b.check(f); err != nil {
			return nil, err
		}
	}
	if m.DatabaseFile == "" || !listed[m.DatabaseFile] {
		return nil, fmt.Errorf("%w: the database file is not listed", ErrCorrupt)
	}
	if err := unlisted(dir, listed); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	b.ManifestSHA256 = hex.EncodeToString(sum[:])
	return b, nil
}

// unlisted refuses files in dir (outside keys/, which may be elsewhere)
// that the manifest does not list: a backup that changed since it was
// written is not restored.
func unlisted(dir string, listed map[string]bool) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("failed to read the backup: %w", err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir():
			return nil
		case rel == ManifestName || listed[rel] || strings.HasPrefix(rel, KeysDir+"/"):
			return nil
		}
		return fmt.Errorf("%w: %s is not in the manifest", ErrCorrupt, rel)
	})
}

// Path is where the backup's file rel lies (keys/… in the keys folder).
func (b *Backup) Path(rel string) string {
	if k, ok := strings.CutPrefix(rel, KeysDir+"/"); ok {
		return filepath.Join(b.keys, filepath.FromSlash(k))
	}
	return filepath.Join(b.dir, filepath.FromSlash(rel))
}

func (b *Backup) check(f File) error {
	r, err := os.Open(b.Path(f.Path))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s is missing", ErrCorrupt, f.Path)
		}
		return fmt.Errorf("failed to read %s: %w", f.Path, err)
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", f.Path, err)
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%w: %s was changed or damaged (SHA-256 or size differ)", ErrCorrupt, f.Path)
	}
	return nil
}

// Files lists the backup's files under the folder prefix ("keys",
// "receipts"), as the manifest does.
func (b *Backup) Files(prefix string) []File {
	var out []File
	for _, f := range b.Manifest.Files {
		if strings.HasPrefix(f.Path, prefix+"/") {
			out = append(out, f)
		}
	}
	return out
}

// CopyTo copies the backup's file rel to the new file dst (0600, fsynced)
// and checks on the way that it still has the manifest's hash.
func (b *Backup) CopyTo(rel, dst string) (err error) {
	var want *File
	for i := range b.Manifest.Files {
		if b.Manifest.Files[i].Path == rel {
			want = &b.Manifest.Files[i]
		}
	}
	if want == nil {
		return fmt.Errorf("%w: %s is not in the manifest", ErrCorrupt, rel)
	}
	src, err := os.Open(b.Path(rel))
	if err != nil {
		return fmt.Errorf("failed to read %s: %w", rel, err)
	}
	defer src.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", dst, err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(dst))
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), src)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", dst, err)
	}
	if n != want.Size || hex.EncodeToString(h.Sum(nil)) != want.SHA256 {
		return fmt.Errorf("%w: %s changed while it was restored", ErrCorrupt, rel)
	}
	return nil
}
