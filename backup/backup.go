// Package backup defines the backup folder that 'tresor backup' writes and
// 'tresor restore' reads, and guarantees:
//
//   - Never half written. A backup is built in DIR.partial, every file and
//     the folder fsynced, and renamed to DIR only when complete; a crash
//     leaves DIR.partial, which the next run refuses to reuse until it is
//     removed, and never a DIR that looks complete.
//   - Never over something. An existing DIR that is not empty is refused.
//   - Private. Folders are created 0700 and files 0600.
//   - Checked before use. manifest.json lists every file with its size and
//     SHA-256; Open checks every listed file before a restore reads any,
//     and refuses a file that differs, is missing, or is not listed.
//   - Keys apart. The keys that belong with the database (never the vault
//     identity) lie in the sub-folder keys/, to be kept on another medium
//     than the rest: whoever has both can read what the database protects.
//
// The package holds no database or vault code: the command wires those.
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
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Format is the manifest's format tag.
const Format = "tresor-backup/1"

// ManifestName is the manifest's file name in a backup folder.
const ManifestName = "manifest.json"

// KeysDir is the sub-folder holding the keys.
const KeysDir = "keys"

// ReceiptsDir is the sub-folder holding one receipt per bundle
// (BUNDLE.json), in the form 'tresor vault verify --receipt' reads.
const ReceiptsDir = "receipts"

// Sentinels callers branch on.
var (
	// ErrExists: the target folder exists and is not empty.
	ErrExists = errors.New("the backup folder exists and is not empty")
	// ErrInterrupted: DIR.partial is left from an interrupted backup.
	ErrInterrupted = errors.New("an interrupted backup left its partial folder")
	// ErrCorrupt: a file does not match the manifest, or the manifest is
	// not one this version reads.
	ErrCorrupt = errors.New("the backup does not match its manifest")
	// ErrNoKeys: the keys sub-folder is missing.
	ErrNoKeys = errors.New("the backup's keys are missing")
)

// Manifest describes a backup.
type Manifest struct {
	Format      string    `json:"format"`
	CreatedAt   time.Time `json:"created_at"`
	ToolVersion string    `json:"tool_version"`
	// Database is "sqlite" or "postgres"; DatabaseFile is the file in the
	// backup holding it (a SQLite database or a pg_dump custom archive).
	Database      string `json:"database"`
	DatabaseFile  string `json:"database_file"`
	SchemaVersion int    `json:"schema_version"`
	Receipts      int    `json:"receipts"`
	Files         []File `json:"files"`
}

// File is one file of a backup: its slash-separated path in the folder,
// size and SHA-256.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

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

// checkRel accepts a clean, relative, slash-separated path inside a
// backup folder.
func checkRel(rel string) error {
	if rel == "" || rel != path.Clean(rel) || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") ||
		strings.ContainsAny(rel, "\\\x00") || rel == ManifestName {
		return fmt.Errorf("%w: unusable file name %q", ErrCorrupt, rel)
	}
	return nil
}

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
