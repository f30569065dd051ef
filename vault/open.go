package vault

import (
	"context"
	"fmt"
	"io"
)

// Open decrypts bundle id with ids and calls fn for each part, in order,
// with a reader of exactly the part's size. It returns the manifest.
//
// The data fn reads is not yet verified: Open checks each part's SHA-256
// after fn returns, and the end of the age stream after the last part. Only
// when Open returns nil is everything fn received authentic and complete;
// on error, the caller must discard it. fn need not read the whole part.
// Open never writes plaintext anywhere itself.
func (v *Vault) Open(ctx context.Context, id string, ids []Identity, fn func(PartInfo, io.Reader) error) (Manifest, error) {
	if err := checkID(id); err != nil {
		return Manifest{}, err
	}
	rc, err := v.b.Open(ctx, id)
	if err != nil {
		return Manifest{}, err
	}
	defer rc.Close()
	src := &srcReader{r: ctxReader{ctx, rc}}
	plain, err := decrypt(id, src, ids)
	if err != nil {
		return Manifest{}, err
	}
	m, _, err := readBundle(id, &plainReader{id: id, src: src, r: plain}, fn)
	if err != nil {
		return Manifest{}, err
	}
	// Anything after the age stream is tampering too.
	var extra [1]byte
	if n, _ := io.ReadFull(src, extra[:]); n != 0 {
		return Manifest{}, fmt.Errorf("%w: bundle %s: trailing data after the age stream", ErrIntegrity, id)
	}
	if src.err != nil {
		return Manifest{}, fmt.Errorf("failed to read bundle %s: %w", id, src.err)
	}
	return m, nil
}
