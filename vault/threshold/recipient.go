package threshold

import (
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

// PluginName is the age plugin name: recipients are "age1tresor1…",
// identities "AGE-PLUGIN-TRESOR-1…", the plugin binary age-plugin-tresor.
const PluginName = "tresor"

// MaxHolders bounds N. The recipient carries every holder's public key
// (the server needs them to seal without any secret), about 52 characters
// per holder, so ten holders make a recipient of some 540 characters.
const MaxHolders = 10

// Label is the age recipient label of threshold recipients. age refuses
// to mix recipients whose label sets differ, so a bundle sealed to a
// threshold recipient can never also be sealed to a single classic key
// that would open it alone.
const Label = "tresor-threshold"

const (
	version     = 1
	kindHolder  = 1
	kindCombine = 2
	groupSize   = 8
	keySize     = 32
)

// Errors callers branch on.
var (
	// ErrNotEnoughHolders: fewer holders than the threshold were given.
	ErrNotEnoughHolders = errors.New("not enough holders")
	// ErrTamperedShare: a share stanza failed to authenticate.
	ErrTamperedShare = errors.New("share stanza was changed or substituted")
)

// NotEnoughHoldersError says how many holders are missing.
type NotEnoughHoldersError struct {
	Have, Need int
}

func (e *NotEnoughHoldersError) Error() string {
	missing := e.Need - e.Have
	holders := "holders"
	if missing == 1 {
		holders = "holder"
	}
	return fmt.Sprintf("%s: %d of %d given, %d more %s needed", ErrNotEnoughHolders, e.Have, e.Need, missing, holders)
}

func (e *NotEnoughHoldersError) Unwrap() error { return ErrNotEnoughHolders }

// group identifies one set of holders: the first 8 bytes of SHA-256 over
// the recipient's encoded data. Stanzas and identities carry it so that a
// holder of one set is never tried on the shares of another.
type group [groupSize]byte

func (g group) String() string { return base64.RawStdEncoding.EncodeToString(g[:]) }

func groupOf(recipientData []byte) group {
	h := sha256.New()
	h.Write([]byte("tresor-threshold-group\x00"))
	h.Write(recipientData)
	var g group
	copy(g[:], h.Sum(nil))
	return g
}

// Recipient seals age file keys to K of N holders. It implements
// age.Recipient and age.RecipientWithLabels.
type Recipient struct {
	k     int
	keys  []*ecdh.PublicKey
	group group
	data  []byte
	rand  io.Reader
}

// ParseRecipient parses an "age1tresor1…" recipient. rand supplies the
// Shamir coefficients and the ephemeral keys (crypto/rand.Reader in
// production).
func ParseRecipient(s string, rand io.Reader) (*Recipient, error) {
	name, data, err := plugin.ParseRecipient(s)
	if err != nil {
		return nil, fmt.Errorf("invalid threshold recipient: %v", err)
	}
	if name != PluginName {
		return nil, fmt.Errorf("invalid threshold recipient: plugin %q, want %q", name, PluginName)
	}
	if strings.ToLower(s) != s {
		return nil, fmt.Errorf("invalid threshold recipient: not lowercase")
	}
	return ParseRecipientData(data, rand)
}

// ParseRecipientData parses the Bech32 payload of a threshold recipient:
// version (1), K, N, then N X25519 public keys of 32 bytes each.
func ParseRecipientData(data []byte, rand io.Reader) (*Recipient, error) {
	if len(data) < 3 || data[0] != version {
		return nil, fmt.Errorf("invalid threshold recipient: unknown version")
	}
	k, n := int(data[1]), int(data[2])
	if k < 2 || n < k || n > MaxHolders {
		return nil, fmt.Errorf("invalid threshold recipient: %d of %d holders, want 2 ≤ threshold ≤ holders ≤ %d", k, n, MaxHolders)
	}
	if len(data) != 3+n*keySize {
		return nil, fmt.Errorf("invalid threshold recipient: wrong length")
	}
	r := &Recipient{k: k, group: groupOf(data), data: append([]byte(nil), data...), rand: rand}
	seen := make(map[string]bool)
	for i := 0; i < n; i++ {
		raw := data[3+i*keySize : 3+(i+1)*keySize]
		if seen[string(raw)] {
			return nil, fmt.Errorf("invalid threshold recipient: holder %d repeats a key", i+1)
		}
		seen[string(raw)] = true
		pk, err := ecdh.X25519().NewPublicKey(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid threshold recipient: holder %d: %v", i+1, err)
		}
		r.keys = append(r.keys, pk)
	}
	return r, nil
}

// Threshold returns K.
func (r *Recipient) Threshold() int { return r.k }

// Holders returns N.
func (r *Recipient) Holders() int { return len(r.keys) }

// String returns the "age1tresor1…" encoding.
func (r *Recipient) String() string { return plugin.EncodeRecipient(PluginName, r.data) }

// Wrap implements age.Recipient.
func (r *Recipient) Wrap(fileKey []byte) ([]*age.Stanza, error) {
	s, _, err := r.WrapWithLabels(fileKey)
	return s, err
}

// WrapWithLabels implements age.RecipientWithLabels: one "tresor-share"
// stanza per holder, labelled Label.
func (r *Recipient) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	if len(fileKey) != shareSize {
		return nil, nil, fmt.Errorf("file key of %d bytes, want %d", len(fileKey), shareSize)
	}
	shares, err := split(fileKey, r.k, len(r.keys), r.rand)
	if err != nil {
		return nil, nil, err
	}
	stanzas := make([]*age.Stanza, len(shares))
	for i, sh := range shares {
		s, err := wrapShare(r.rand, r.keys[i], r.group, int(sh.x), r.k, sh.y)
		clear(sh.y)
		if err != nil {
			return nil, nil, err
		}
		stanzas[i] = s
	}
	return stanzas, []string{Label}, nil
}

// Set returns the set identifier of the recipient, as Fingerprints names it.
func (r *Recipient) Set() string { return r.group.String() }
