package vault

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
)

// FuzzReadBundle feeds arbitrary plaintext (normally a tar stream) to the
// bundle reader, without the age layer: it must never panic or hang, every
// error must wrap ErrIntegrity, and what it accepts must match its manifest.
func FuzzReadBundle(f *testing.F) {
	const id = "abcdefabcdefabcdefabcdefabcdef00"
	tarOf := func(entries ...[2]string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			tw.WriteHeader(&tar.Header{Name: e[0], Typeflag: tar.TypeReg, Size: int64(len(e[1])), Mode: 0o600})
			tw.Write([]byte(e[1]))
		}
		tw.Close()
		return buf.Bytes()
	}
	sum := sha256.Sum256([]byte("hello"))
	m, err := marshalManifest(Manifest{BundleID: id, Parts: []PartInfo{{Name: "a.txt", Size: 5, SHA256: hex.EncodeToString(sum[:])}}})
	if err != nil {
		f.Fatal(err)
	}
	empty, err := marshalManifest(Manifest{BundleID: id, MetadataOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tarOf([2]string{"manifest.json", string(m)}, [2]string{"a.txt", "hello"}))
	f.Add(tarOf([2]string{"manifest.json", string(empty)}))
	f.Add(tarOf([2]string{"../x", "x"}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, plain []byte) {
		pr := &plainReader{id: id, src: &srcReader{r: bytes.NewReader(nil)}, r: bytes.NewReader(plain)}
		var total int64
		m, _, err := readBundle(id, pr, func(p PartInfo, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			total += n
			if n != p.Size {
				return fmt.Errorf("part %q: read %d bytes, manifest says %d", p.Name, n, p.Size)
			}
			return err
		})
		if err != nil {
			if !errors.Is(err, ErrIntegrity) {
				t.Fatalf("error does not wrap ErrIntegrity: %v", err)
			}
			return
		}
		if m.BundleID != id {
			t.Fatalf("accepted manifest of %q", m.BundleID)
		}
		var want int64
		for _, p := range m.Parts {
			want += p.Size
		}
		if total != want || total > int64(len(plain)) {
			t.Fatalf("read %d part bytes from %d input bytes, manifest says %d", total, len(plain), want)
		}
	})
}
