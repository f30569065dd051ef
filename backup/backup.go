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
	"errors"
	"fmt"
	"path"
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

// checkRel accepts a clean, relative, slash-separated path inside a
// backup folder.
func checkRel(rel string) error {
	if rel == "" || rel != path.Clean(rel) || path.IsAbs(rel) || rel == ".." || strings.HasPrefix(rel, "../") ||
		strings.ContainsAny(rel, "\\\x00") || rel == ManifestName {
		return fmt.Errorf("%w: unusable file name %q", ErrCorrupt, rel)
	}
	return nil
}
