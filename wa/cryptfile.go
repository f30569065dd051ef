package wa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"

	"go.mau.fi/whatsmeow"
)

// cryptFile is a whatsmeow.File over a temporary file that holds only
// ciphertext: every byte written is XORed with an AES-256-CTR keystream
// at its absolute offset, under a random key that lives in memory only.
// CTR keeps lengths and works at any offset, so whatsmeow's
// DownloadToFile (write ciphertext, truncate the MAC, decrypt CBC in
// place) runs unchanged while the disk never sees WhatsApp's plaintext.
// Close removes the file; the key dies with the value.
type cryptFile struct {
	mu    sync.Mutex
	f     *os.File
	block cipher.Block
	iv    [aes.BlockSize]byte
	pos   int64
}

var _ whatsmeow.File = (*cryptFile)(nil)

func newCryptFile(dir string) (*cryptFile, error) {
	var key [32]byte
	c := &cryptFile{}
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("failed to generate media key: %w", err)
	}
	if _, err := rand.Read(c.iv[:]); err != nil {
		return nil, fmt.Errorf("failed to generate media iv: %w", err)
	}
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("failed to create media cipher: %w", err)
	}
	c.block = block
	f, err := os.CreateTemp(dir, "tresor-wa-*.enc")
	if err != nil {
		return nil, fmt.Errorf("failed to create media file: %w", err)
	}
	c.f = f
	return c, nil
}

// xor applies the keystream for the bytes at off to p, in place.
func (c *cryptFile) xor(p []byte, off int64) {
	if len(p) == 0 {
		return
	}
	var ctr [aes.BlockSize]byte
	hi, lo := binary.BigEndian.Uint64(c.iv[:8]), binary.BigEndian.Uint64(c.iv[8:])
	blk := uint64(off / aes.BlockSize)
	nlo := lo + blk
	if nlo < lo {
		hi++
	}
	binary.BigEndian.PutUint64(ctr[:8], hi)
	binary.BigEndian.PutUint64(ctr[8:], nlo)
	stream := cipher.NewCTR(c.block, ctr[:])
	if skip := int(off % aes.BlockSize); skip > 0 {
		var discard [aes.BlockSize]byte
		stream.XORKeyStream(discard[:skip], discard[:skip])
	}
	stream.XORKeyStream(p, p)
}

func (c *cryptFile) writeAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	buf := make([]byte, len(p)) // never touch the caller's plaintext
	copy(buf, p)
	c.xor(buf, off)
	return c.f.WriteAt(buf, off)
}

func (c *cryptFile) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("negative offset %d", off)
	}
	n, err := c.f.ReadAt(p, off)
	c.xor(p[:n], off)
	return n, err
}

func (c *cryptFile) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.writeAt(p, c.pos)
	c.pos += int64(n)
	return n, err
}

func (c *cryptFile) WriteAt(p []byte, off int64) (int, error) { return c.writeAt(p, off) }

func (c *cryptFile) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.readAt(p, c.pos)
	c.pos += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

func (c *cryptFile) ReadAt(p []byte, off int64) (int, error) { return c.readAt(p, off) }

func (c *cryptFile) Seek(offset int64, whence int) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = c.pos
	case io.SeekEnd:
		st, err := c.f.Stat()
		if err != nil {
			return 0, fmt.Errorf("failed to stat media file: %w", err)
		}
		base = st.Size()
	default:
		return 0, fmt.Errorf("invalid whence %d", whence)
	}
	if base+offset < 0 {
		return 0, fmt.Errorf("seek to negative offset %d", base+offset)
	}
	c.pos = base + offset
	return c.pos, nil
}

func (c *cryptFile) Truncate(size int64) error { return c.f.Truncate(size) }

func (c *cryptFile) Stat() (os.FileInfo, error) { return c.f.Stat() }

// Close closes and removes the file.
func (c *cryptFile) Close() error {
	cerr := c.f.Close()
	rerr := os.Remove(c.f.Name())
	if errors.Is(rerr, os.ErrNotExist) {
		rerr = nil
	}
	return errors.Join(cerr, rerr)
}

// plainReader streams a cryptFile's plaintext and fails at the end when
// it does not hash to want (WhatsApp's FileSHA256), so bytes changed on
// disk after the download are never sealed as evidence. Close removes
// the file.
type plainReader struct {
	c    *cryptFile
	off  int64
	h    hash.Hash
	want []byte
	done bool
}

func newPlainReader(c *cryptFile, want []byte) *plainReader {
	return &plainReader{c: c, h: sha256.New(), want: want}
}

func (r *plainReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, io.EOF
	}
	n, err := r.c.ReadAt(p, r.off)
	r.off += int64(n)
	r.h.Write(p[:n])
	if errors.Is(err, io.EOF) {
		r.done = true
		if len(r.want) > 0 && subtle.ConstantTimeCompare(r.h.Sum(nil), r.want) != 1 {
			return n, fmt.Errorf("%w: the media changed after it was downloaded", ErrMediaHash)
		}
	}
	return n, err
}

func (r *plainReader) Close() error { return r.c.Close() }
