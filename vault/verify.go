package vault

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
)

// maxHeaderSize bounds the age header Verify inspects.
const maxHeaderSize = 1 << 20

// A VerifyReport is what Verify found out about a bundle.
type VerifyReport struct {
	BundleID         string
	CiphertextSHA256 string
	CiphertextSize   int64
	// StanzaTypes has the type of each recipient stanza in the age header,
	// e.g. "X25519", "ssh-ed25519", "mlkem768x25519", "piv-p256".
	StanzaTypes []string
	// Decrypted is true if the bundle was decrypted and every part's hash
	// checked (VerifyWithIdentity).
	Decrypted bool
	// ManifestSHA256 and Manifest are set only if Decrypted.
	ManifestSHA256 string
	Manifest       Manifest
}

// Verify checks bundle id without a key: it reads the whole ciphertext,
// hashes it, parses the age header and checks that the payload's length is
// well-formed. If want is not nil, the ciphertext hash and size and the
// recipient stanzas (count and, where the type is known from the
// fingerprint, type) must match it.
//
// With a receipt, Verify proves the stored ciphertext is bit for bit the
// one sealed. It cannot prove that the ciphertext decrypts, what it
// contains, or to whom it is encrypted beyond the count and type of
// stanzas (X25519 stanzas do not name their recipient): use
// VerifyWithIdentity for that. Without a receipt it only checks the form.
func (v *Vault) Verify(ctx context.Context, id string, want *Receipt) (VerifyReport, error) {
	if err := checkID(id); err != nil {
		return VerifyReport{}, err
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return VerifyReport{}, err
	}
	defer rc.Close()
	rep := VerifyReport{BundleID: id}
	hw := &hashWriter{w: io.Discard, h: sha256.New()}
	rec := &prefixRecorder{r: ctxReader{ctx, rc}, max: maxHeaderSize}
	if _, err := io.Copy(hw, rec); err != nil {
		return rep, fmt.Errorf("failed to read bundle %s: %w", id, err)
	}
	rep.CiphertextSHA256, rep.CiphertextSize = hex.EncodeToString(hw.h.Sum(nil)), hw.n
	if err := checkReceiptCiphertext(rep, want); err != nil {
		return rep, err
	}
	types, hlen, err := parseHeader(rec.buf)
	if err != nil {
		return rep, fmt.Errorf("%w: bundle %s: malformed age header: %v", ErrIntegrity, id, err)
	}
	rep.StanzaTypes = types
	if err := checkPayloadSize(rep.CiphertextSize - hlen); err != nil {
		return rep, fmt.Errorf("%w: bundle %s: %v", ErrIntegrity, id, err)
	}
	if err := checkReceiptStanzas(rep, want); err != nil {
		return rep, err
	}
	return rep, nil
}

// VerifyWithIdentity checks bundle id like Verify, and also decrypts it in
// the same pass with ids, checks the manifest and every part's size and
// SHA-256, and (with want) the manifest hash and parts. Nothing decrypted
// is kept.
func (v *Vault) VerifyWithIdentity(ctx context.Context, id string, ids []Identity, want *Receipt) (VerifyReport, error) {
	if err := checkID(id); err != nil {
		return VerifyReport{}, err
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return VerifyReport{}, err
	}
	defer rc.Close()
	rep := VerifyReport{BundleID: id}
	hw := &hashWriter{w: io.Discard, h: sha256.New()}
	rec := &prefixRecorder{r: io.TeeReader(ctxReader{ctx, rc}, hw), max: maxHeaderSize}
	src := &srcReader{r: rec}
	finish := func() error {
		if _, err := io.Copy(io.Discard, src); err != nil {
			return fmt.Errorf("failed to read bundle %s: %w", id, err)
		}
		rep.CiphertextSHA256, rep.CiphertextSize = hex.EncodeToString(hw.h.Sum(nil)), hw.n
		if err := checkReceiptCiphertext(rep, want); err != nil {
			return err
		}
		types, _, err := parseHeader(rec.buf)
		if err != nil {
			return fmt.Errorf("%w: bundle %s: malformed age header: %v", ErrIntegrity, id, err)
		}
		rep.StanzaTypes = types
		return checkReceiptStanzas(rep, want)
	}
	plain, err := decrypt(id, src, ids)
	if err != nil {
		// A receipt mismatch explains the failure better (an altered
		// header looks like a wrong identity).
		if ferr := finish(); errors.Is(ferr, ErrIntegrity) {
			return rep, ferr
		}
		return rep, err
	}
	m, msum, err := readBundle(id, &plainReader{id: id, src: src, r: plain}, nil)
	if err != nil {
		if ferr := finish(); errors.Is(ferr, ErrIntegrity) {
			return rep, ferr
		}
		return rep, err
	}
	if err := finish(); err != nil {
		return rep, err
	}
	rep.Decrypted, rep.ManifestSHA256, rep.Manifest = true, msum, m
	if want != nil {
		if want.ManifestSHA256 != "" && want.ManifestSHA256 != msum {
			return rep, fmt.Errorf("%w: bundle %s: manifest sha-256 %s, receipt says %s", ErrIntegrity, id, msum, want.ManifestSHA256)
		}
		if want.Parts != nil && !slices.Equal(want.Parts, m.Parts) {
			return rep, fmt.Errorf("%w: bundle %s: parts differ from the receipt", ErrIntegrity, id)
		}
	}
	return rep, nil
}

func checkReceiptCiphertext(rep VerifyReport, want *Receipt) error {
	if want == nil {
		return nil
	}
	id := rep.BundleID
	if want.BundleID != "" && want.BundleID != id {
		return fmt.Errorf("receipt is for bundle %s, not %s", want.BundleID, id)
	}
	switch {
	case rep.CiphertextSize < want.CiphertextSize:
		return fmt.Errorf("%w: bundle %s is truncated: %d bytes, receipt says %d", ErrIntegrity, id, rep.CiphertextSize, want.CiphertextSize)
	case rep.CiphertextSize > want.CiphertextSize:
		return fmt.Errorf("%w: bundle %s has grown: %d bytes, receipt says %d", ErrIntegrity, id, rep.CiphertextSize, want.CiphertextSize)
	case rep.CiphertextSHA256 != want.CiphertextSHA256:
		return fmt.Errorf("%w: bundle %s is altered: ciphertext sha-256 %s, receipt says %s", ErrIntegrity, id, rep.CiphertextSHA256, want.CiphertextSHA256)
	}
	return nil
}

func checkReceiptStanzas(rep VerifyReport, want *Receipt) error {
	if want == nil {
		return nil
	}
	wantStanzas := 0
	for _, fp := range want.Recipients {
		wantStanzas += stanzasFor(fp)
	}
	if len(rep.StanzaTypes) != wantStanzas {
		return fmt.Errorf("%w: bundle %s has %d recipient stanzas, receipt lists %d recipients",
			ErrIntegrity, rep.BundleID, len(rep.StanzaTypes), len(want.Recipients))
	}
	have := make(map[string]int)
	for _, t := range rep.StanzaTypes {
		have[t]++
	}
	need := make(map[string]int)
	for _, fp := range want.Recipients {
		if t := stanzaTypeFor(fp); t != "" {
			need[t] += stanzasFor(fp)
		}
	}
	for t, n := range need {
		if have[t] < n {
			return fmt.Errorf("%w: bundle %s has %d %s stanzas, receipt needs %d", ErrIntegrity, rep.BundleID, have[t], t, n)
		}
	}
	return nil
}
