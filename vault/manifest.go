package vault

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// manifestName is the name of the first tar entry of every bundle.
const manifestName = "manifest.json"

// manifestFormat identifies the manifest schema.
const manifestFormat = "tresor-bundle/v1"

// maxManifestSize bounds the manifest.json entry.
const maxManifestSize = 1 << 20

// maxParts bounds the number of parts in one bundle.
const maxParts = 1000

// Message is the metadata of the WhatsApp message a bundle secures.
type Message struct {
	ID        string
	Chat      string
	Sender    string
	SentAt    time.Time
	MediaType string
	FileName  string
	// WhatsAppFileSHA256 is the media hash WhatsApp reports (fileSHA256),
	// hex or base64, recorded as given.
	WhatsAppFileSHA256 string
	// Size is the media size WhatsApp reports, 0 if none.
	Size int64
	// SeenChat, ReceivedAt and Kind describe a message as its recipient
	// saw it, when the worker described it by hand (no WhatsApp id):
	// the chat's name or number, the time received and the kind of
	// message. Empty or zero otherwise; a manifest without them encodes
	// as before.
	SeenChat   string
	ReceivedAt time.Time
	Kind       string
}

// Manifest describes a bundle. It is stored, encrypted, as the first entry
// of the bundle's tar stream.
type Manifest struct {
	BundleID   string
	IncidentID string
	Category   string
	// MetadataOnly marks a bundle that by policy holds no content, only this
	// manifest (for example for suspected CSAM).
	MetadataOnly bool
	Message      Message
	CapturedAt   time.Time
	ToolVersion  string
	Parts        []PartInfo
}

// PartInfo describes one part of a bundle as recorded in its manifest.
type PartInfo struct {
	Name      string
	MediaType string
	Size      int64
	// SHA256 is the lowercase hex SHA-256 of the part's content.
	SHA256 string
	// WhatsAppSHA256 is WhatsApp's own hash of the file, as given, if any.
	WhatsAppSHA256 string
	// WhatsAppHashMismatch marks a part whose content differs from
	// WhatsApp's hash (kept when the policy seals such media): both
	// hashes are recorded, SHA256 is what was sealed.
	WhatsAppHashMismatch bool
}

type manifestJSON struct {
	Format       string      `json:"format"`
	BundleID     string      `json:"bundle_id"`
	IncidentID   string      `json:"incident_id"`
	Category     string      `json:"category"`
	MetadataOnly bool        `json:"metadata_only"`
	Message      messageJSON `json:"message"`
	CapturedAt   time.Time   `json:"captured_at"`
	ToolVersion  string      `json:"tool_version"`
	Parts        []partJSON  `json:"parts"`
}

type messageJSON struct {
	ID                 string     `json:"id"`
	Chat               string     `json:"chat"`
	Sender             string     `json:"sender"`
	SentAt             time.Time  `json:"sent_at"`
	MediaType          string     `json:"media_type"`
	FileName           string     `json:"file_name"`
	WhatsAppFileSHA256 string     `json:"whatsapp_file_sha256"`
	Size               int64      `json:"size"`
	SeenChat           string     `json:"seen_chat,omitempty"`
	ReceivedAt         *time.Time `json:"received_at,omitempty"`
	Kind               string     `json:"kind,omitempty"`
}

type partJSON struct {
	Name           string `json:"name"`
	MediaType      string `json:"media_type"`
	Size           int64  `json:"size"`
	SHA256         string `json:"sha256"`
	WhatsAppSHA256 string `json:"whatsapp_sha256"`
	// Only present when true, so bundles without a mismatch keep their
	// earlier manifest bytes.
	WhatsAppHashMismatch bool `json:"whatsapp_sha256_mismatch,omitempty"`
}

// marshalManifest returns the canonical JSON encoding of m.
// MarshalManifest encodes m in the format of a bundle's manifest.json.
func MarshalManifest(m Manifest) ([]byte, error) { return marshalManifest(m) }

func marshalManifest(m Manifest) ([]byte, error) {
	if err := checkManifest(m); err != nil {
		return nil, err
	}
	w := manifestJSON{
		Format:       manifestFormat,
		BundleID:     m.BundleID,
		IncidentID:   m.IncidentID,
		Category:     m.Category,
		MetadataOnly: m.MetadataOnly,
		Message: messageJSON{
			ID:                 m.Message.ID,
			Chat:               m.Message.Chat,
			Sender:             m.Message.Sender,
			SentAt:             m.Message.SentAt.UTC(),
			MediaType:          m.Message.MediaType,
			FileName:           m.Message.FileName,
			WhatsAppFileSHA256: m.Message.WhatsAppFileSHA256,
			Size:               m.Message.Size,
			SeenChat:           m.Message.SeenChat,
			Kind:               m.Message.Kind,
		},
		CapturedAt:  m.CapturedAt.UTC(),
		ToolVersion: m.ToolVersion,
		Parts:       []partJSON{},
	}
	if !m.Message.ReceivedAt.IsZero() {
		t := m.Message.ReceivedAt.UTC()
		w.Message.ReceivedAt = &t
	}
	for _, p := range m.Parts {
		w.Parts = append(w.Parts, partJSON(p))
	}
	data, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("failed to encode manifest: %w", err)
	}
	return append(data, '\n'), nil
}

// ParseManifest decodes and validates a manifest.json entry. Unknown fields,
// trailing data, invalid part names, hashes or sizes are errors wrapping
// ErrIntegrity.
func ParseManifest(data []byte) (Manifest, error) {
	if len(data) > maxManifestSize {
		return Manifest{}, fmt.Errorf("%w: manifest larger than %d bytes", ErrIntegrity, maxManifestSize)
	}
	if !utf8.Valid(data) {
		return Manifest{}, fmt.Errorf("%w: manifest is not valid UTF-8", ErrIntegrity)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w manifestJSON
	if err := dec.Decode(&w); err != nil {
		return Manifest{}, fmt.Errorf("%w: failed to decode manifest: %v", ErrIntegrity, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Manifest{}, fmt.Errorf("%w: trailing data after manifest", ErrIntegrity)
	}
	if w.Format != manifestFormat {
		return Manifest{}, fmt.Errorf("%w: unknown manifest format %q", ErrIntegrity, quoteShort(w.Format))
	}
	m := Manifest{
		BundleID:     w.BundleID,
		IncidentID:   w.IncidentID,
		Category:     w.Category,
		MetadataOnly: w.MetadataOnly,
		Message: Message{
			ID:                 w.Message.ID,
			Chat:               w.Message.Chat,
			Sender:             w.Message.Sender,
			SentAt:             w.Message.SentAt,
			MediaType:          w.Message.MediaType,
			FileName:           w.Message.FileName,
			WhatsAppFileSHA256: w.Message.WhatsAppFileSHA256,
			Size:               w.Message.Size,
			SeenChat:           w.Message.SeenChat,
			Kind:               w.Message.Kind,
		},
		CapturedAt:  w.CapturedAt,
		ToolVersion: w.ToolVersion,
	}
	if w.Message.ReceivedAt != nil {
		m.Message.ReceivedAt = *w.Message.ReceivedAt
	}
	for _, p := range w.Parts {
		m.Parts = append(m.Parts, PartInfo(p))
	}
	if err := checkManifest(m); err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrIntegrity, err)
	}
	return m, nil
}

// checkManifest validates a complete manifest (with part hashes).
func checkManifest(m Manifest) error {
	if err := checkID(m.BundleID); err != nil {
		return err
	}
	if m.MetadataOnly && len(m.Parts) > 0 {
		return fmt.Errorf("%w: metadata-only bundle with %d parts", ErrInvalidManifest, len(m.Parts))
	}
	if len(m.Parts) > maxParts {
		return fmt.Errorf("%w: more than %d parts", ErrInvalidManifest, maxParts)
	}
	for _, s := range []string{m.IncidentID, m.Category, m.ToolVersion, m.Message.ID, m.Message.Chat,
		m.Message.Sender, m.Message.MediaType, m.Message.FileName, m.Message.WhatsAppFileSHA256, m.Message.SeenChat, m.Message.Kind} {
		if !utf8.ValidString(s) {
			return fmt.Errorf("%w: a metadata field is not valid UTF-8", ErrInvalidManifest)
		}
	}
	for _, p := range m.Parts {
		if !utf8.ValidString(p.MediaType) || !utf8.ValidString(p.WhatsAppSHA256) {
			return fmt.Errorf("%w: a part field is not valid UTF-8", ErrInvalidManifest)
		}
		if p.WhatsAppHashMismatch && (p.WhatsAppSHA256 == "" || p.WhatsAppSHA256 == p.SHA256) {
			return fmt.Errorf("%w: part %q is marked as differing from a WhatsApp hash it matches", ErrInvalidManifest, p.Name)
		}
	}
	if m.Message.Size < 0 {
		return fmt.Errorf("%w: negative message size", ErrInvalidManifest)
	}
	seen := make(map[string]bool)
	for _, p := range m.Parts {
		if err := checkPartName(p.Name); err != nil {
			return err
		}
		if seen[p.Name] {
			return fmt.Errorf("%w: duplicate part name %q", ErrInvalidManifest, p.Name)
		}
		seen[p.Name] = true
		if p.Size < 0 {
			return fmt.Errorf("%w: part %q has negative size", ErrInvalidManifest, p.Name)
		}
		if !isHexHash(p.SHA256) {
			return fmt.Errorf("%w: part %q has invalid sha256 %q", ErrInvalidManifest, p.Name, quoteShort(p.SHA256))
		}
	}
	return nil
}

// isHexHash reports whether s is a SHA-256 in lowercase hex, the one form
// manifests and receipts use.
func isHexHash(s string) bool {
	b, err := hex.DecodeString(s)
	return err == nil && len(b) == 32 && hex.EncodeToString(b) == s
}

// checkPartName accepts names of 1 to 128 bytes of NFC-normalised UTF-8
// (so "Beweis-Übersicht.jpg" has one spelling, as tar and the file system
// store it) that hold no path separator ('/', '\\'), no control, format
// or line/paragraph separator characters (no hidden bidirectional
// overrides), none of Windows' reserved < > : " | ? *, do not start with
// '.' or a space or end with a space or '.', and are not the manifest's
// name: such names are safe as file names in any directory on any system
// and can never leave it. archive/tar stores non-ASCII names in a PAX
// record, which GNU tar and bsdtar read, so `age -d | tar -x` still opens
// a bundle.
func checkPartName(name string) error {
	bad := func() error { return fmt.Errorf("%w: invalid part name %q", ErrInvalidManifest, quoteShort(name)) }
	if name == "" || len(name) > 128 || name[0] == '.' || name[0] == ' ' || name == manifestName ||
		!utf8.ValidString(name) || !norm.NFC.IsNormalString(name) || strings.HasSuffix(name, " ") || strings.HasSuffix(name, ".") {
		return bad()
	}
	for _, r := range name {
		if r == '/' || r == '\\' || strings.ContainsRune(`<>:"|?*`, r) || r == utf8.RuneError ||
			unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, unicode.Cs) {
			return bad()
		}
	}
	return nil
}
