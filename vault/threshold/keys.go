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

// holder is one holder's secret: which set, which share.
type holder struct {
	group group
	k, n  int
	index int
	key   *ecdh.PrivateKey
}

// Identity holds the keys of one or more holders. With K holders of the
// same set it opens a bundle; with fewer it reports how many are missing.
type Identity struct {
	holders []holder
}

// Generate creates a recipient for K of N holders and the N holder
// identities, holder i at index i (1…N).
func Generate(k, n int, rand io.Reader) (*Recipient, []*Identity, error) {
	if k < 2 || n < k || n > MaxHolders {
		return nil, nil, fmt.Errorf("%d of %d holders: want 2 ≤ threshold ≤ holders ≤ %d", k, n, MaxHolders)
	}
	data := []byte{version, byte(k), byte(n)}
	var keys []*ecdh.PrivateKey
	for i := 0; i < n; i++ {
		key, err := ecdh.X25519().GenerateKey(rand)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to generate holder key: %w", err)
		}
		keys = append(keys, key)
		data = append(data, key.PublicKey().Bytes()...)
	}
	r, err := ParseRecipientData(data, rand)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]*Identity, n)
	for i, key := range keys {
		ids[i] = &Identity{holders: []holder{{group: r.group, k: k, n: n, index: i + 1, key: key}}}
	}
	return r, ids, nil
}

// ParseIdentity parses an "AGE-PLUGIN-TRESOR-1…" identity: one holder or
// a combined identity of several (see Combine). Errors never quote it.
func ParseIdentity(s string) (*Identity, error) {
	name, data, err := plugin.ParseIdentity(s)
	if err != nil {
		return nil, fmt.Errorf("invalid holder identity: the text is mistyped or incomplete (its checksum does not match)")
	}
	if name != PluginName {
		return nil, fmt.Errorf("invalid holder identity: it belongs to the age plugin %q, not %q", name, PluginName)
	}
	return ParseIdentityData(data)
}

// holderSize is the encoded size of one holder: group, K, N, index, key.
const holderSize = groupSize + 3 + keySize

// ParseIdentityData parses the Bech32 payload of an identity: version (1),
// kind (1 holder, 2 combined), [count when combined], then per holder the
// group (8 bytes), K, N, index and the X25519 secret key (32 bytes).
func ParseIdentityData(data []byte) (*Identity, error) {
	if len(data) < 2 || data[0] != version {
		return nil, fmt.Errorf("invalid holder identity: unknown version")
	}
	count, rest := 1, data[2:]
	switch data[1] {
	case kindHolder:
	case kindCombine:
		if len(rest) < 1 {
			return nil, fmt.Errorf("invalid holder identity: wrong length")
		}
		count, rest = int(rest[0]), rest[1:]
		if count < 1 {
			return nil, fmt.Errorf("invalid holder identity: no holders")
		}
	default:
		return nil, fmt.Errorf("invalid holder identity: unknown kind")
	}
	if len(rest) != count*holderSize {
		return nil, fmt.Errorf("invalid holder identity: wrong length")
	}
	id := &Identity{}
	for i := 0; i < count; i++ {
		b := rest[i*holderSize : (i+1)*holderSize]
		var h holder
		copy(h.group[:], b)
		h.k, h.n, h.index = int(b[groupSize]), int(b[groupSize+1]), int(b[groupSize+2])
		if h.k < 2 || h.n < h.k || h.n > MaxHolders || h.index < 1 || h.index > h.n {
			return nil, fmt.Errorf("invalid holder identity: holder %d of %d, threshold %d", h.index, h.n, h.k)
		}
		key, err := ecdh.X25519().NewPrivateKey(b[groupSize+3:])
		if err != nil {
			return nil, fmt.Errorf("invalid holder identity: %v", err)
		}
		h.key = key
		if err := id.add(h); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// add appends h unless the same holder is already there.
func (id *Identity) add(h holder) error {
	for _, o := range id.holders {
		if o.group == h.group && o.index == h.index {
			if !o.key.Equal(h.key) {
				return fmt.Errorf("invalid holder identity: two different keys for holder %d", h.index)
			}
			return nil
		}
	}
	if len(id.holders) >= 255 {
		return fmt.Errorf("invalid holder identity: too many holders")
	}
	id.holders = append(id.holders, h)
	return nil
}

// Combine merges holder identities into one. age tries identities one by
// one and a single holder cannot open anything, so the holders who open a
// bundle together must be one identity.
func Combine(ids ...*Identity) (*Identity, error) {
	out := &Identity{}
	for _, id := range ids {
		for _, h := range id.holders {
			if err := out.add(h); err != nil {
				return nil, err
			}
		}
	}
	if len(out.holders) == 0 {
		return nil, fmt.Errorf("no holders to combine")
	}
	return out, nil
}

// Merge returns ids with every threshold identity among them combined into
// one, placed last (so that other identities are tried first, and a
// shortage of holders is the error reported when nothing else matches).
func Merge(ids []age.Identity) ([]age.Identity, error) {
	var out []age.Identity
	var th []*Identity
	for _, id := range ids {
		if t, ok := id.(*Identity); ok {
			th = append(th, t)
			continue
		}
		out = append(out, id)
	}
	if len(th) == 0 {
		return out, nil
	}
	c, err := Combine(th...)
	if err != nil {
		return nil, err
	}
	return append(out, c), nil
}

// String returns the "AGE-PLUGIN-TRESOR-1…" encoding: a single holder's
// identity, or a combined one.
func (id *Identity) String() string {
	return plugin.EncodeIdentity(PluginName, id.data())
}

func (id *Identity) data() []byte {
	var data []byte
	if len(id.holders) == 1 {
		data = []byte{version, kindHolder}
	} else {
		data = []byte{version, kindCombine, byte(len(id.holders))}
	}
	for _, h := range id.holders {
		data = append(data, h.group[:]...)
		data = append(data, byte(h.k), byte(h.n), byte(h.index))
		data = append(data, h.key.Bytes()...)
	}
	return data
}

// Holders returns how many holders the identity holds.
func (id *Identity) Holders() int { return len(id.holders) }

// Fingerprints names the holders without revealing anything secret:
// "holder I of N, set G" where G identifies the recipient (see
// RecipientSet). They go into the opening's audit entry.
func (id *Identity) Fingerprints() []string {
	var fps []string
	for _, h := range id.holders {
		fps = append(fps, fmt.Sprintf("holder %d of %d (%d needed), set %s", h.index, h.n, h.k, h.group))
	}
	return fps
}

// Set returns the set identifier of the recipient, as Fingerprints names it.
func (r *Recipient) Set() string { return r.group.String() }

// Unwrap implements age.Identity. It returns age.ErrIncorrectIdentity when
// the file has no shares for these holders, a *NotEnoughHoldersError when
// it has but too few holders are present, and an error wrapping
// ErrTamperedShare when a holder's share fails to authenticate.
func (id *Identity) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	var shareStanzas []*shareStanza
	for _, s := range stanzas {
		if s.Type != StanzaType {
			continue
		}
		ps, err := parseShareStanza(s)
		if err != nil {
			return nil, err
		}
		shareStanzas = append(shareStanzas, ps)
	}
	if len(shareStanzas) == 0 {
		return nil, age.ErrIncorrectIdentity
	}
	var short *NotEnoughHoldersError
	for _, g := range id.groups() {
		var shares []share
		k := 0
		for _, h := range id.holders {
			if h.group != g {
				continue
			}
			k = h.k
			for _, ps := range shareStanzas {
				if ps.group != g || ps.index != h.index {
					continue
				}
				if ps.k != h.k {
					clearShares(shares)
					return nil, fmt.Errorf("%w: share %d says %d holders are needed, the holder's key says %d", ErrTamperedShare, ps.index, ps.k, h.k)
				}
				y, err := ps.unwrap(h.key)
				if err != nil {
					clearShares(shares)
					return nil, err
				}
				shares = append(shares, share{x: byte(h.index), y: y})
			}
		}
		if len(shares) == 0 {
			continue
		}
		if len(shares) < k {
			if short == nil || len(shares) > short.Have {
				short = &NotEnoughHoldersError{Have: len(shares), Need: k}
			}
			clearShares(shares)
			continue
		}
		fileKey, err := combine(shares, k)
		clearShares(shares)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrTamperedShare, err)
		}
		return fileKey, nil
	}
	if short != nil {
		return nil, short
	}
	return nil, age.ErrIncorrectIdentity
}

func (id *Identity) groups() []group {
	var gs []group
	for _, h := range id.holders {
		found := false
		for _, g := range gs {
			found = found || g == h.group
		}
		if !found {
			gs = append(gs, h.group)
		}
	}
	return gs
}

func clearShares(shares []share) {
	for _, s := range shares {
		clear(s.y)
	}
}

// Complete returns a *NotEnoughHoldersError unless the identity holds at
// least K holders of some set: what opening will need.
func (id *Identity) Complete() error {
	var best *NotEnoughHoldersError
	for _, g := range id.groups() {
		have, need := 0, 0
		for _, h := range id.holders {
			if h.group == g {
				have, need = have+1, h.k
			}
		}
		if have >= need {
			return nil
		}
		if best == nil || have > best.Have {
			best = &NotEnoughHoldersError{Have: have, Need: need}
		}
	}
	if best == nil {
		return fmt.Errorf("%w: no holders", ErrNotEnoughHolders)
	}
	return best
}
