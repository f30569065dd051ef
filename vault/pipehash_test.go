package vault

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"testing"
)

func TestPipeHash(t *testing.T) {
	for _, size := range []int{0, 1, pipeBufferSize - 1, pipeBufferSize, 3*pipeBufferSize + 17, 20 * pipeBufferSize} {
		data := make([]byte, size)
		if _, err := rand.Read(data); err != nil {
			t.Fatal(err)
		}
		p := newPipeHash()
		// Uneven writes, larger and smaller than a buffer.
		for rest := data; len(rest) > 0; {
			k := min(len(rest), 1+len(rest)%(pipeBufferSize+5000))
			if n, err := p.Write(rest[:k]); n != k || err != nil {
				t.Fatal(n, err)
			}
			rest = rest[k:]
		}
		want := sha256.Sum256(data)
		if got := p.Sum(); !bytes.Equal(got, want[:]) {
			t.Fatalf("size %d: hash differs", size)
		}
		p.Stop() // after Sum: harmless
	}
}

func BenchmarkPipeHash(b *testing.B) {
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	p := newPipeHash()
	for b.Loop() {
		_, _ = p.Write(buf)
	}
	p.Sum()
}
