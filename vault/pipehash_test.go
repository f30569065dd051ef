package vault

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"testing"
	"testing/iotest"
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

func TestPipeHashCopyFrom(t *testing.T) {
	data := make([]byte, 3*pipeBufferSize+17)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(data)
	for _, tc := range []struct {
		name    string
		n       int64
		wantErr error
	}{
		{"exact", int64(len(data)), nil},
		{"source shorter", int64(len(data)) + 1, io.EOF},
		{"source longer", int64(len(data)) - 17, nil},
	} {
		p := newPipeHash()
		var out bytes.Buffer
		n, err := p.copyFrom(&out, iotest.HalfReader(bytes.NewReader(data)), tc.n)
		if err != tc.wantErr {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.wantErr)
		}
		copied := min(tc.n, int64(len(data)))
		if n != copied || !bytes.Equal(out.Bytes(), data[:copied]) {
			t.Errorf("%s: copied %d bytes, want %d", tc.name, n, copied)
		}
		if tc.name == "exact" && !bytes.Equal(p.Sum(), want[:]) {
			t.Errorf("%s: hash differs", tc.name)
		}
		p.Stop()
	}
}
