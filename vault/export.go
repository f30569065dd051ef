package vault

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"time"
)

// An AuditRecord is one audit-log entry of the incident a bundle belongs
// to, as supplied by the caller for a chain-of-custody report.
type AuditRecord struct {
	Seq     int64
	Time    time.Time
	Actor   string
	Action  string
	Details map[string]string
}

// A CustodyReport accompanies an exported bundle.
type CustodyReport struct {
	BundleID         string
	FileName         string
	CiphertextSHA256 string
	CiphertextSize   int64
	StanzaTypes      []string
	// Receipt is the receipt the export was checked against, if any.
	Receipt     *Receipt
	Audit       []AuditRecord
	Backend     string
	ExportedAt  time.Time
	ToolVersion string
}

// ExportOptions configures Export.
type ExportOptions struct {
	// Receipt, if not nil, is checked against the bundle (as by Verify) and
	// included in the report.
	Receipt *Receipt
	// Audit are the incident's audit entries to include in the report.
	Audit []AuditRecord
}

// Export writes the release package for a handover into dir (created 0700
// if needed): ID.age, the ciphertext exactly as stored; custody.json and
// custody.html, the chain-of-custody report. The copy is hashed while it is
// written and checked against the stored bundle and, if given, the receipt.
// Existing files are never overwritten. Export needs no key and writes no
// plaintext.
func (v *Vault) Export(ctx context.Context, id, dir string, opt ExportOptions) (CustodyReport, error) {
	rep, err := v.Verify(ctx, id, opt.Receipt)
	if err != nil {
		return CustodyReport{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return CustodyReport{}, fmt.Errorf("failed to create export directory: %w", err)
	}
	cr := CustodyReport{
		BundleID:         id,
		FileName:         id + blobExt,
		CiphertextSHA256: rep.CiphertextSHA256,
		CiphertextSize:   rep.CiphertextSize,
		StanzaTypes:      rep.StanzaTypes,
		Receipt:          opt.Receipt,
		Audit:            opt.Audit,
		Backend:          v.b.Location(),
		ExportedAt:       v.now().UTC(),
		ToolVersion:      v.toolVersion,
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return CustodyReport{}, err
	}
	defer rc.Close()
	err = writeFileAtomic(filepath.Join(dir, cr.FileName), func(w io.Writer) error {
		hw := &hashWriter{w: w, h: sha256.New()}
		if _, err := io.Copy(hw, ctxReader{ctx, rc}); err != nil {
			return err
		}
		if hex.EncodeToString(hw.h.Sum(nil)) != rep.CiphertextSHA256 || hw.n != rep.CiphertextSize {
			return fmt.Errorf("%w: bundle %s changed during export", ErrIntegrity, id)
		}
		return nil
	})
	if err != nil {
		return CustodyReport{}, fmt.Errorf("failed to export bundle: %w", err)
	}
	err = writeFileAtomic(filepath.Join(dir, "custody.json"), func(w io.Writer) error {
		return WriteCustodyJSON(w, cr)
	})
	if err != nil {
		return CustodyReport{}, fmt.Errorf("failed to write custody report: %w", err)
	}
	err = writeFileAtomic(filepath.Join(dir, "custody.html"), func(w io.Writer) error {
		return WriteCustodyHTML(w, cr)
	})
	if err != nil {
		return CustodyReport{}, fmt.Errorf("failed to write custody report: %w", err)
	}
	return cr, nil
}

type custodyJSON struct {
	Format           string       `json:"format"`
	BundleID         string       `json:"bundle_id"`
	FileName         string       `json:"file_name"`
	CiphertextSHA256 string       `json:"ciphertext_sha256"`
	CiphertextSize   int64        `json:"ciphertext_size"`
	StanzaTypes      []string     `json:"recipient_stanza_types"`
	Receipt          *receiptJSON `json:"receipt,omitempty"`
	Audit            []auditJSON  `json:"audit"`
	Backend          string       `json:"backend"`
	ExportedAt       time.Time    `json:"exported_at"`
	ToolVersion      string       `json:"tool_version"`
}

type receiptJSON struct {
	BundleID         string     `json:"bundle_id"`
	CiphertextSHA256 string     `json:"ciphertext_sha256"`
	CiphertextSize   int64      `json:"ciphertext_size"`
	ManifestSHA256   string     `json:"manifest_sha256"`
	Recipients       []string   `json:"recipients"`
	Parts            []partJSON `json:"parts"`
	SealedAt         time.Time  `json:"sealed_at"`
}

type auditJSON struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`
	Action  string            `json:"action"`
	Details map[string]string `json:"details,omitempty"`
}

// MarshalReceipt encodes a receipt as JSON.
func MarshalReceipt(r Receipt) ([]byte, error) {
	return json.MarshalIndent(receiptToJSON(r), "", "  ")
}

// UnmarshalReceipt decodes a receipt encoded by MarshalReceipt.
func UnmarshalReceipt(data []byte) (Receipt, error) {
	var j receiptJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return Receipt{}, fmt.Errorf("failed to decode receipt: %w", err)
	}
	r := Receipt{BundleID: j.BundleID, CiphertextSHA256: j.CiphertextSHA256, CiphertextSize: j.CiphertextSize,
		ManifestSHA256: j.ManifestSHA256, Recipients: j.Recipients, SealedAt: j.SealedAt}
	for _, p := range j.Parts {
		r.Parts = append(r.Parts, PartInfo(p))
	}
	if err := checkID(r.BundleID); err != nil {
		return Receipt{}, fmt.Errorf("failed to decode receipt: %w", err)
	}
	return r, nil
}

func receiptToJSON(r Receipt) *receiptJSON {
	j := &receiptJSON{BundleID: r.BundleID, CiphertextSHA256: r.CiphertextSHA256, CiphertextSize: r.CiphertextSize,
		ManifestSHA256: r.ManifestSHA256, Recipients: r.Recipients, Parts: []partJSON{}, SealedAt: r.SealedAt.UTC()}
	for _, p := range r.Parts {
		j.Parts = append(j.Parts, partJSON(p))
	}
	return j
}

// UnmarshalAudit decodes a JSON array of audit records
// ({"seq","time","actor","action","details"}).
func UnmarshalAudit(data []byte) ([]AuditRecord, error) {
	var js []auditJSON
	if err := json.Unmarshal(data, &js); err != nil {
		return nil, fmt.Errorf("failed to decode audit records: %w", err)
	}
	out := make([]AuditRecord, 0, len(js))
	for _, a := range js {
		out = append(out, AuditRecord(a))
	}
	return out, nil
}

// WriteCustodyJSON writes the report as JSON.
func WriteCustodyJSON(w io.Writer, cr CustodyReport) error {
	j := custodyJSON{Format: "tresor-custody/v1", BundleID: cr.BundleID, FileName: cr.FileName,
		CiphertextSHA256: cr.CiphertextSHA256, CiphertextSize: cr.CiphertextSize, StanzaTypes: cr.StanzaTypes,
		Audit: []auditJSON{}, Backend: cr.Backend, ExportedAt: cr.ExportedAt, ToolVersion: cr.ToolVersion}
	if cr.Receipt != nil {
		j.Receipt = receiptToJSON(*cr.Receipt)
	}
	for _, a := range cr.Audit {
		j.Audit = append(j.Audit, auditJSON(a))
	}
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(data, '\n'))
	return err
}

//go:embed custody.html.tmpl
var custodyHTML string

var custodyTmpl = template.Must(template.New("custody").Funcs(template.FuncMap{
	"utc": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}).Parse(custodyHTML))

// WriteCustodyHTML writes the report as a printable HTML page.
func WriteCustodyHTML(w io.Writer, cr CustodyReport) error {
	return custodyTmpl.Execute(w, cr)
}

// writeFileAtomic writes path (which must not exist) through a synced
// temporary file in the same directory.
func writeFileAtomic(path string, fill func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".tmp-export-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, os.Remove(f.Name()))
		}
	}()
	if err := fill(f); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Link(f.Name(), path); err != nil {
		return err
	}
	if err := os.Remove(f.Name()); err != nil {
		return err
	}
	return syncDir(dir)
}
