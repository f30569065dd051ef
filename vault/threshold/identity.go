package threshold

import (
	"crypto/ecdh"
	"fmt"
	"io"

	"filippo.io/age"
	"filippo.io/age/plugin"
)

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
