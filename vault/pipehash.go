package vault

import (
	"crypto/sha256"
	"hash"
	"io"
)

// pipeHash computes a SHA-256 on its own goroutine, so that hashing runs
// on a second core while the caller encrypts and writes. Write copies the
// data into one of a few reusable buffers; Sum waits for the hash. Every
// pipeHash must end with Sum or Stop, or its goroutine stays.
type pipeHash struct {
	work chan []byte
	free chan []byte
	done chan struct{}
	h    hash.Hash
}

const (
	pipeBuffers    = 4
	pipeBufferSize = 256 << 10
)

func newPipeHash() *pipeHash {
	p := &pipeHash{work: make(chan []byte, pipeBuffers), free: make(chan []byte, pipeBuffers),
		done: make(chan struct{}), h: sha256.New()}
	for range pipeBuffers {
		p.free <- make([]byte, 0, pipeBufferSize)
	}
	go func() {
		defer close(p.done)
		for b := range p.work {
			p.h.Write(b) // hash.Hash.Write never fails
			p.free <- b[:0]
		}
	}()
	return p
}

// Write queues a copy of b for hashing; it never fails.
func (p *pipeHash) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		buf := <-p.free
		k := min(len(b), cap(buf))
		p.work <- append(buf, b[:k]...)
		b = b[k:]
	}
	return n, nil
}

// copyFrom reads exactly n bytes from r into the pipe's own buffers and
// writes each to w while the hash goroutine reads the same buffer: both
// only read it, so the plaintext is neither copied nor held twice. It
// returns the number of bytes copied and io.EOF if r ended early.
func (p *pipeHash) copyFrom(w io.Writer, r io.Reader, n int64) (int64, error) {
	var done int64
	for done < n {
		buf := <-p.free
		k, err := io.ReadFull(r, buf[:min(int64(cap(buf)), n-done)])
		if k > 0 {
			p.work <- buf[:k]
			done += int64(k)
			if _, werr := w.Write(buf[:k]); werr != nil {
				return done, werr
			}
		} else {
			p.free <- buf
		}
		if err == io.ErrUnexpectedEOF {
			return done, io.EOF
		} else if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Sum waits for everything written and returns the hash.
func (p *pipeHash) Sum() []byte {
	p.Stop()
	return p.h.Sum(nil)
}

// Stop ends the goroutine; it is safe to call more than once.
func (p *pipeHash) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.work)
	<-p.done
}
