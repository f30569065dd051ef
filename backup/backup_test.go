package backup

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// write builds a small backup in dir and returns the manifest's SHA-256.
func write(t *testing.T, dir string) string {
	t.Helper()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range map[string]string{"database/tresor.db": "db", "keys/secret.key": "k", "receipts/b.json": "{}"} {
		if err := w.WriteFile(rel, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := w.Commit(Manifest{CreatedAt: time.Unix(0, 0).UTC(), Database: "sqlite", DatabaseFile: "database/tresor.db"})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bk")
	sum := write(t, dir)
	if _, err := os.Stat(dir + ".partial"); !os.IsNotExist(err) {
		t.Fatalf("partial folder left: %v", err)
	}
	b, err := Open(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if b.ManifestSHA256 != sum || len(b.Manifest.Files) != 3 || len(b.Files(KeysDir)) != 1 {
		t.Fatalf("opened %+v", b)
	}
	dst := filepath.Join(t.TempDir(), "secret.key")
	if err := b.CopyTo("keys/secret.key", dst); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dst); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("copied key: %v %v", st, err)
	}
	// Moved to another medium: found with keysDir.
	stick := filepath.Join(t.TempDir(), "stick")
	if err := os.Rename(filepath.Join(dir, KeysDir), stick); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, ""); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("without keys: %v", err)
	}
	if _, err := Open(dir, stick); err != nil {
		t.Fatalf("with keys elsewhere: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	root := t.TempDir()
	full := filepath.Join(root, "full")
	if err := os.MkdirAll(full, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(full); !errors.Is(err, ErrExists) {
		t.Errorf("non-empty target: %v", err)
	}
	if err := os.Mkdir(filepath.Join(root, "old.partial"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(filepath.Join(root, "old")); !errors.Is(err, ErrInterrupted) {
		t.Errorf("partial left: %v", err)
	}
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, empty) // an empty folder is used

	w, err := Create(filepath.Join(root, "names"))
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range []string{"", "../x", "/etc/passwd", "a/../../b", "a\\b", ManifestName, "a//b", "./a"} {
		if err := w.WriteFile(rel, nil); !errors.Is(err, ErrCorrupt) {
			t.Errorf("name %q: %v", rel, err)
		}
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}

	for name, tamper := range map[string]func(dir string) error{
		"changed file": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "receipts/b.json"), []byte("[]"), 0o600)
		},
		"missing file":  func(dir string) error { return os.Remove(filepath.Join(dir, "receipts/b.json")) },
		"unlisted file": func(dir string) error { return os.WriteFile(filepath.Join(dir, "receipts/c.json"), nil, 0o600) },
		"changed key":   func(dir string) error { return os.WriteFile(filepath.Join(dir, "keys/secret.key"), []byte("K"), 0o600) },
		"other format":  func(dir string) error { return edit(dir, Format, "tresor-backup/0") },
		"escaping name": func(dir string) error { return edit(dir, `"receipts/b.json"`, `"../b.json"`) },
		"unknown field": func(dir string) error { return edit(dir, `"format"`, `"extra": 1, "format"`) },
		"no database": func(dir string) error {
			return edit(dir, `"database_file": "database/tresor.db"`, `"database_file": ""`)
		},
		"no manifest":    func(dir string) error { return os.Remove(filepath.Join(dir, ManifestName)) },
		"listed twice":   func(dir string) error { return edit(dir, `"path": "keys/secret.key"`, `"path": "database/tresor.db"`) },
		"changed hashes": func(dir string) error { return edit(dir, `"sha256": "`, `"sha256": "0`) },
	} {
		dir := filepath.Join(root, strings.ReplaceAll(name, " ", "-"))
		write(t, dir)
		if err := tamper(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, ""); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", name, err)
		}
	}
}

func edit(dir, old, new string) error {
	p := filepath.Join(dir, ManifestName)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), old) {
		return errors.New("manifest lacks " + old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o600)
}

// FuzzOpen: any manifest gives a backup or an error, never a panic, and
// never a path outside the folder.
func FuzzOpen(f *testing.F) {
	dir := filepath.Join(f.TempDir(), "bk")
	f.Add([]byte(`{"format":"tresor-backup/1","database":"sqlite","database_file":"database/tresor.db","files":[{"path":"database/tresor.db","size":2,"sha256":"x"}]}`))
	f.Add([]byte(`{"format":"tresor-backup/1","files":[{"path":"../../etc/passwd","size":0,"sha256":""}]}`))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, KeysDir), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ManifestName), manifest, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := Open(dir, "")
		if err != nil {
			return
		}
		for _, f := range b.Manifest.Files {
			if rel, err := filepath.Rel(dir, b.Path(f.Path)); err != nil || strings.HasPrefix(rel, "..") {
				t.Fatalf("%q lies outside the backup", f.Path)
			}
		}
	})
}
