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
	"sort"
)

// Writer builds a backup in DIR.partial.
type Writer struct {
	dir, partial string
	files        []File
}

// Create starts a backup that will be DIR. DIR may exist only as an
// empty folder; DIR.partial must not exist.
func Create(dir string) (*Writer, error) {
	dir = filepath.Clean(dir)
	if err := mustBeEmpty(dir); err != nil {
		return nil, err
	}
	partial := dir + ".partial"
	if err := os.Mkdir(partial, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("%w: %s (delete it, then run the backup again)", ErrInterrupted, partial)
		}
		return nil, fmt.Errorf("failed to create %s: %w", partial, err)
	}
	return &Writer{dir: dir, partial: partial}, nil
}

func mustBeEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("failed to look at %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s (choose a new folder; a backup never writes over another)", ErrExists, dir)
	}
	return nil
}

// Path returns where the file rel (slash-separated) goes while the backup
// is built, creating its folder, for writers that need a path (VACUUM
// INTO, pg_dump). Add it afterwards.
func (w *Writer) Path(rel string) (string, error) {
	if err := checkRel(rel); err != nil {
		return "", err
	}
	p := filepath.Join(w.partial, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("failed to create %s: %w", filepath.Dir(p), err)
	}
	return p, nil
}

// WriteFile writes data as the new file rel and adds it.
func (w *Writer) WriteFile(rel string, data []byte) error {
	return w.Copy(rel, bytes.NewReader(data))
}

// Copy writes what r yields as the new file rel and adds it.
func (w *Writer) Copy(rel string, r io.Reader) error {
	p, err := w.Path(rel)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", rel, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", rel, err)
	}
	w.files = append(w.files, File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// Add records the file rel that was written at Path(rel): it is made
// 0600, fsynced and hashed.
func (w *Writer) Add(rel string) error {
	p, err := w.Path(rel)
	if err != nil {
		return err
	}
	if err := os.Chmod(p, 0o600); err != nil {
		return fmt.Errorf("failed to protect %s: %w", rel, err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", rel, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return fmt.Errorf("failed to hash %s: %w", rel, err)
	}
	w.files = append(w.files, File{Path: rel, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// Commit writes the manifest with every added file, fsyncs the folders
// and renames DIR.partial to DIR. It returns the manifest's SHA-256.
func (w *Writer) Commit(m Manifest) (string, error) {
	m.Format = Format
	m.Files = append([]File(nil), w.files...)
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("failed to encode the manifest: %w", err)
	}
	data = append(data, '\n')
	p := filepath.Join(w.partial, ManifestName)
	if err := writeSynced(p, data); err != nil {
		return "", err
	}
	if err := syncTree(w.partial); err != nil {
		return "", err
	}
	// An empty DIR that existed is replaced; one that was filled meanwhile
	// makes Rename fail rather than be overwritten.
	if err := os.Remove(w.dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s (%v)", ErrExists, w.dir, err)
	}
	if err := os.Rename(w.partial, w.dir); err != nil {
		return "", fmt.Errorf("failed to move the finished backup to %s: %w", w.dir, err)
	}
	if err := syncDir(filepath.Dir(w.dir)); err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// Len is the number of files added so far.
func (w *Writer) Len() int { return len(w.files) }

// Abort removes DIR.partial.
func (w *Writer) Abort() error {
	if err := os.RemoveAll(w.partial); err != nil {
		return fmt.Errorf("failed to remove the unfinished backup %s: %w", w.partial, err)
	}
	return nil
}

func writeSynced(p string, data []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("failed to create %s: %w", p, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", p, err)
	}
	return nil
}

// syncTree fsyncs every folder under root, so that the names of the files
// in it are durable before the rename publishes them.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return syncDir(p)
		}
		return nil
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}
