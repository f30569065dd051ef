package vault

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"filippo.io/age"
)

// A spool holds one part of unknown size or hash while Seal learns both.
//
// The part is age-encrypted to a fresh X25519 identity that exists only in
// this process's memory, into a temporary file that is unlinked right after
// it is created: its plaintext never reaches disk, a crash leaves no name
// behind, and the file's blocks are freed when it is closed.
type spool struct {
	f    *os.File
	id   *age.X25519Identity
	size int64
	sum  []byte
}

// newSpool reads r to its end (at most max bytes, max < 0 for no limit) into
// an encrypted spool in dir.
func newSpool(dir string, r io.Reader, max int64) (_ *spool, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("failed to generate spool key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".tresor-spool-*")
	if err != nil {
		return nil, fmt.Errorf("failed to create spool file: %w", err)
	}
	s := &spool{f: f, id: id}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Close())
		}
	}()
	if err := os.Remove(f.Name()); err != nil {
		return nil, fmt.Errorf("failed to unlink spool file: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w, err := age.Encrypt(bw, id.Recipient())
	if err != nil {
		return nil, fmt.Errorf("failed to encrypt spool: %w", err)
	}
	h := newPipeHash()
	defer h.Stop()
	src := r
	if max >= 0 {
		src = io.LimitReader(r, max+1)
	}
	n, err := io.Copy(io.MultiWriter(w, h), src)
	if err != nil {
		return nil, fmt.Errorf("failed to spool part: %w", err)
	}
	if max >= 0 && n > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("failed to spool part: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("failed to spool part: %w", err)
	}
	s.size, s.sum = n, h.Sum()
	return s, nil
}

// reader returns the spooled plaintext. It must be read to its end for the
// final chunk to be authenticated.
func (s *spool) reader() (io.Reader, error) {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("failed to rewind spool: %w", err)
	}
	r, err := age.Decrypt(bufio.NewReaderSize(s.f, 1<<16), s.id)
	if err != nil {
		return nil, fmt.Errorf("failed to read spool: %w", err)
	}
	return r, nil
}

func (s *spool) Close() error {
	s.id = nil
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("failed to close spool: %w", err)
	}
	return nil
}
