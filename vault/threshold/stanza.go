package threshold

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
)

// StanzaType is the age header stanza type of one holder's share:
//
//	-> tresor-share SET INDEX K EPHEMERAL
//	BODY
//
// SET is the recipient's set identifier (8 bytes, unpadded base64), INDEX
// the holder (1…N, decimal), K the threshold (decimal), EPHEMERAL an
// X25519 public key (32 bytes, unpadded base64), BODY the 16-byte share
// sealed with ChaCha20-Poly1305 (32 bytes).
//
// The wrapping is age's X25519 construction with its own HKDF label, and
// the set, index and threshold bound into the key derivation, so a share
// moved to another index or set, or a changed K, fails to authenticate:
//
//	shared = X25519(ephemeral secret, holder public key)
//	key    = HKDF-SHA-256(ikm = shared, salt = EPHEMERAL || holder public key,
//	                      info = wrapLabel || SET || INDEX || K)
//	BODY   = ChaCha20-Poly1305(key, nonce = 0, share)
const StanzaType = "tresor-share"

const wrapLabel = "tresor-evidence/v1/threshold-share"

// shareSize is the size of a share: the 16-byte age file key.
const shareSize = 16

type shareStanza struct {
	group     group
	index, k  int
	ephemeral []byte
	body      []byte
}

var b64 = base64.RawStdEncoding.Strict()

func parseShareStanza(s *age.Stanza) (*shareStanza, error) {
	bad := func(what string) error {
		return fmt.Errorf("invalid %s stanza: %s", StanzaType, what)
	}
	if len(s.Args) != 4 {
		return nil, bad("want 4 arguments")
	}
	g, err := b64.DecodeString(s.Args[0])
	if err != nil || len(g) != groupSize {
		return nil, bad("bad set")
	}
	index, err := parseSmall(s.Args[1])
	if err != nil || index < 1 {
		return nil, bad("bad holder number")
	}
	k, err := parseSmall(s.Args[2])
	if err != nil || k < 2 || k > MaxHolders {
		return nil, bad("bad threshold")
	}
	eph, err := b64.DecodeString(s.Args[3])
	if err != nil || len(eph) != keySize {
		return nil, bad("bad ephemeral key")
	}
	if len(s.Body) != shareSize+chacha20poly1305.Overhead {
		return nil, bad("bad body length")
	}
	ps := &shareStanza{index: index, k: k, ephemeral: eph, body: s.Body}
	copy(ps.group[:], g)
	return ps, nil
}

// parseSmall parses a canonical decimal 0…255 (no sign, no leading zeros).
func parseSmall(s string) (int, error) {
	if s == "" || len(s) > 3 || len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("not a small number")
	}
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

func wrapKey(shared, ephemeral, holderPub []byte, g group, index, k int) ([]byte, error) {
	salt := append(append([]byte(nil), ephemeral...), holderPub...)
	info := append([]byte(wrapLabel), g[:]...)
	info = append(info, byte(index), byte(k))
	return hkdf.Key(sha256.New, shared, salt, string(info), chacha20poly1305.KeySize)
}

func wrapShare(rand io.Reader, to *ecdh.PublicKey, g group, index, k int, y []byte) (*age.Stanza, error) {
	eph, err := ecdh.X25519().GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("failed to generate ephemeral key: %w", err)
	}
	shared, err := eph.ECDH(to)
	if err != nil {
		return nil, fmt.Errorf("failed to wrap share %d: %w", index, err)
	}
	ephPub := eph.PublicKey().Bytes()
	key, err := wrapKey(shared, ephPub, to.Bytes(), g, index, k)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, err
	}
	body := aead.Seal(nil, make([]byte, chacha20poly1305.NonceSize), y, nil)
	return &age.Stanza{
		Type: StanzaType,
		Args: []string{g.String(), strconv.Itoa(index), strconv.Itoa(k), b64.EncodeToString(ephPub)},
		Body: body,
	}, nil
}

func (ps *shareStanza) unwrap(key *ecdh.PrivateKey) ([]byte, error) {
	eph, err := ecdh.X25519().NewPublicKey(ps.ephemeral)
	if err != nil {
		return nil, fmt.Errorf("%w: share %d: %v", ErrTamperedShare, ps.index, err)
	}
	shared, err := key.ECDH(eph)
	if err != nil {
		// A low-order ephemeral key gives an all-zero secret.
		return nil, fmt.Errorf("%w: share %d: %v", ErrTamperedShare, ps.index, err)
	}
	wk, err := wrapKey(shared, ps.ephemeral, key.PublicKey().Bytes(), ps.group, ps.index, ps.k)
	if err != nil {
		return nil, err
	}
	aead, err := chacha20poly1305.New(wk)
	if err != nil {
		return nil, err
	}
	y, err := aead.Open(nil, make([]byte, chacha20poly1305.NonceSize), ps.body, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: the share of holder %d does not authenticate", ErrTamperedShare, ps.index)
	}
	return y, nil
}
