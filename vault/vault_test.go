package vault_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

var testTime = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

type fixture struct {
	v   *vault.Vault
	b   vault.Backend
	id  *age.X25519Identity
	ids []vault.Identity
}

func newFixture(t *testing.T, b vault.Backend) *fixture {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	recs, fps, err := vault.ParseRecipients([]string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(b, recs, fps, vault.WithClock(func() time.Time { return testTime }),
		vault.WithTempDir(t.TempDir()), vault.WithToolVersion("test"))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{v: v, b: b, id: id, ids: []vault.Identity{id}}
}

func newFSFixture(t *testing.T) (*fixture, string) {
	dir := t.TempDir()
	b, err := vault.NewFSBackend(dir)
	if err != nil {
		t.Fatal(err)
	}
	return newFixture(t, b), dir
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// onlyReader hides every method but Read (no Seek).
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func openAll(t *testing.T, f *fixture, id string) (vault.Manifest, map[string][]byte, error) {
	t.Helper()
	got := make(map[string][]byte)
	m, err := f.v.Open(context.Background(), id, f.ids, func(p vault.PartInfo, r io.Reader) error {
		data, err := io.ReadAll(r)
		got[p.Name] = data
		return err
	})
	return m, got, err
}

func TestSealOpenRoundTrip(t *testing.T) {
	f, dir := newFSFixture(t)
	ctx := context.Background()
	photo := bytes.Repeat([]byte("jpeg"), 50000)
	video := bytes.Repeat([]byte("mp4!"), 70000)
	text := []byte("a message text")
	m := vault.Manifest{
		IncidentID: "inc-42", Category: "threat",
		Message: vault.Message{ID: "3EB0", Chat: "chat@g.us", Sender: "4915@s.whatsapp.net", SentAt: testTime,
			MediaType: "image/jpeg", FileName: "IMG.jpg", WhatsAppFileSHA256: "q83vEjRWeJA=", Size: int64(len(photo))},
	}
	rc, err := f.v.Seal(ctx, m,
		vault.Part{Name: "photo.jpg", MediaType: "image/jpeg", Size: int64(len(photo)), WhatsAppSHA256: "q83vEjRWeJA=", R: bytes.NewReader(photo)},
		vault.Part{Name: "video.mp4", MediaType: "video/mp4", Size: -1, R: onlyReader{bytes.NewReader(video)}},
		vault.Part{Name: "text.txt", MediaType: "text/plain", Size: int64(len(text)), R: onlyReader{bytes.NewReader(text)}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if !vault.ValidID(rc.BundleID) || len(rc.Recipients) != 1 || len(rc.Parts) != 3 || !rc.SealedAt.Equal(testTime) {
		t.Fatalf("bad receipt %+v", rc)
	}
	for i, want := range [][]byte{photo, video, text} {
		if rc.Parts[i].SHA256 != sum(want) || rc.Parts[i].Size != int64(len(want)) {
			t.Errorf("part %d: receipt %+v", i, rc.Parts[i])
		}
	}
	got, gotParts, err := openAll(t, f, rc.BundleID)
	if err != nil {
		t.Fatal(err)
	}
	if got.IncidentID != "inc-42" || got.Message.WhatsAppFileSHA256 != "q83vEjRWeJA=" || !got.CapturedAt.Equal(testTime) || got.ToolVersion != "test" {
		t.Errorf("manifest %+v", got)
	}
	if !bytes.Equal(gotParts["photo.jpg"], photo) || !bytes.Equal(gotParts["video.mp4"], video) || !bytes.Equal(gotParts["text.txt"], text) {
		t.Error("parts differ after Open")
	}
	rep, err := f.v.VerifyWithIdentity(ctx, rc.BundleID, f.ids, &rc)
	if err != nil {
		t.Fatal(err)
	}
	if rep.ManifestSHA256 != rc.ManifestSHA256 || !rep.Decrypted || strings.Join(rep.StanzaTypes, ",") != "X25519" {
		t.Errorf("report %+v", rep)
	}

	// The file is a standard age file holding a standard tar stream with
	// manifest.json first.
	path := filepath.Join(dir, rc.BundleID[:2], rc.BundleID+".age")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() != rc.CiphertextSize {
		t.Errorf("bundle file mode %v size %d", fi.Mode(), fi.Size())
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Errorf("shard dir: %v %v", di.Mode(), err)
	}
	ct, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum(ct) != rc.CiphertextSHA256 {
		t.Error("receipt hash differs from file")
	}
	plain, err := age.Decrypt(bytes.NewReader(ct), f.id)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(plain)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Name == "manifest.json" {
			data, _ := io.ReadAll(tr)
			if sum(data) != rc.ManifestSHA256 {
				t.Error("manifest hash differs from receipt")
			}
			if !bytes.Contains(data, []byte(`"sha256": "`+sum(photo)+`"`)) {
				t.Errorf("manifest lacks the photo's hash:\n%s", data)
			}
		}
	}
	if strings.Join(names, ",") != "manifest.json,photo.jpg,video.mp4,text.txt" {
		t.Errorf("tar entries %v", names)
	}
}

// TestStandardTools opens a bundle with the age command and tar, if both
// are installed.
func TestStandardTools(t *testing.T) {
	ageBin, err := exec.LookPath("age")
	if err != nil {
		t.Skip("age not on PATH")
	}
	tarBin, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("tar not on PATH")
	}
	f, dir := newFSFixture(t)
	content := []byte("evidence\n")
	rc, err := f.v.Seal(context.Background(), vault.Manifest{}, vault.Part{Name: "e.txt", Size: -1, R: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "key.txt")
	if err := os.WriteFile(key, []byte(f.id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cmd := exec.Command("sh", "-c", `"$1" -d -i "$2" "$3" | "$4" -x -C "$5"`, "sh", ageBin, key,
		filepath.Join(dir, rc.BundleID[:2], rc.BundleID+".age"), tarBin, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("age | tar: %v\n%s", err, b)
	}
	got, err := os.ReadFile(filepath.Join(out, "e.txt"))
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("e.txt = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataOnly(t *testing.T) {
	f := newFixture(t, vaulttest.NewMemBackend())
	ctx := context.Background()
	m := vault.Manifest{IncidentID: "inc-1", Category: "csam-suspected", MetadataOnly: true,
		Message: vault.Message{ID: "ABC", MediaType: "image/jpeg", WhatsAppFileSHA256: "0a1b", Size: 1234}}
	if _, err := f.v.Seal(ctx, m, vault.Part{Name: "x.jpg", Size: 1, R: strings.NewReader("x")}); !errors.Is(err, vault.ErrInvalidManifest) {
		t.Fatalf("metadata-only with a part: %v", err)
	}
	rc, err := f.v.Seal(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	got, parts, err := openAll(t, f, rc.BundleID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.MetadataOnly || len(got.Parts) != 0 || len(parts) != 0 || got.Message.WhatsAppFileSHA256 != "0a1b" {
		t.Errorf("manifest %+v", got)
	}
}

func TestSizeMismatch(t *testing.T) {
	f, dir := newFSFixture(t)
	ctx := context.Background()
	data := []byte("0123456789")
	for _, tc := range []struct {
		name string
		size int64
		r    io.Reader
	}{
		{"seekable short", 20, bytes.NewReader(data)},
		{"seekable long", 5, bytes.NewReader(data)},
		{"stream short", 20, onlyReader{bytes.NewReader(data)}},
		{"stream long", 5, onlyReader{bytes.NewReader(data)}},
		{"declared short", 20, onlyReader{bytes.NewReader(data)}},
		{"declared long", 5, onlyReader{bytes.NewReader(data)}},
	} {
		p := vault.Part{Name: "p", Size: tc.size, R: tc.r}
		if strings.HasPrefix(tc.name, "declared") {
			p.SHA256 = sum(data)
		}
		_, err := f.v.Seal(ctx, vault.Manifest{}, p)
		if !errors.Is(err, vault.ErrSizeMismatch) {
			t.Errorf("%s: %v, want ErrSizeMismatch", tc.name, err)
		}
	}
	assertEmpty(t, f, dir)
}

// TestDeclaredHash seals parts whose hash the caller declares: read once,
// checked as they stream, and nothing published when they do not match.
func TestDeclaredHash(t *testing.T) {
	f, dir := newFSFixture(t)
	ctx := context.Background()
	data := []byte("media as WhatsApp delivered it")
	rc, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "media.jpg", Size: int64(len(data)), SHA256: sum(data),
		R: onlyReader{bytes.NewReader(data)}})
	if err != nil {
		t.Fatal(err)
	}
	if rc.Parts[0].SHA256 != sum(data) || rc.Parts[0].Size != int64(len(data)) {
		t.Errorf("receipt part = %+v", rc.Parts[0])
	}
	if _, got, err := openAll(t, f, rc.BundleID); err != nil || !bytes.Equal(got["media.jpg"], data) {
		t.Fatalf("Open: %v, %q", err, got["media.jpg"])
	}
	if _, err := f.v.Destroy(ctx, rc.BundleID); err != nil {
		t.Fatal(err)
	}

	other := sum([]byte("something else"))
	for _, tc := range []struct {
		name string
		p    vault.Part
		want error
	}{
		{"wrong hash, one pass", vault.Part{Name: "p", Size: int64(len(data)), SHA256: other, R: onlyReader{bytes.NewReader(data)}}, vault.ErrIntegrity},
		{"wrong hash, seekable", vault.Part{Name: "p", Size: int64(len(data)), SHA256: other, R: bytes.NewReader(data)}, vault.ErrIntegrity},
		{"wrong hash, unknown size", vault.Part{Name: "p", Size: -1, SHA256: other, R: onlyReader{bytes.NewReader(data)}}, vault.ErrIntegrity},
		{"upper case hex", vault.Part{Name: "p", Size: int64(len(data)), SHA256: strings.ToUpper(sum(data)), R: bytes.NewReader(data)}, vault.ErrInvalidManifest},
		{"short hex", vault.Part{Name: "p", Size: int64(len(data)), SHA256: "abc", R: bytes.NewReader(data)}, vault.ErrInvalidManifest},
	} {
		_, err := f.v.Seal(ctx, vault.Manifest{}, tc.p)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), `"p"`) && tc.want == vault.ErrInvalidManifest {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	assertEmpty(t, f, dir)
}

// assertEmpty checks that no bundle is listed and no file is left.
func assertEmpty(t *testing.T, f *fixture, dir string) {
	t.Helper()
	if err := f.v.List(context.Background(), func(id string) error {
		t.Errorf("unexpected bundle %s", id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			t.Errorf("leftover file %s", path)
		}
		return nil
	})
}

func TestSealRejects(t *testing.T) {
	f := newFixture(t, vaulttest.NewMemBackend())
	ctx := context.Background()
	for _, name := range []string{"", "../x", "a/b", ".hidden", "manifest.json", "x\x00y", strings.Repeat("a", 129)} {
		if _, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: name, Size: 1, R: strings.NewReader("x")}); !errors.Is(err, vault.ErrInvalidManifest) {
			t.Errorf("part name %q: %v", name, err)
		}
	}
	if _, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: -1, R: strings.NewReader("x")},
		vault.Part{Name: "a", Size: -1, R: strings.NewReader("y")}); !errors.Is(err, vault.ErrInvalidManifest) {
		t.Errorf("duplicate part: %v", err)
	}
	if _, err := f.v.Seal(ctx, vault.Manifest{BundleID: "../../etc"}); !errors.Is(err, vault.ErrInvalidID) {
		t.Errorf("bad id: %v", err)
	}
	if _, err := f.v.Seal(ctx, vault.Manifest{Message: vault.Message{Sender: "\xff"}}); !errors.Is(err, vault.ErrInvalidManifest) {
		t.Errorf("invalid UTF-8: %v", err)
	}
	rc, err := f.v.Seal(ctx, vault.Manifest{BundleID: "0123456789abcdef0123456789abcdef"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Seal(ctx, vault.Manifest{BundleID: rc.BundleID}); !errors.Is(err, vault.ErrExists) {
		t.Errorf("same id twice: %v", err)
	}
	small, err := vault.New(f.b, []vault.Recipient{f.id.Recipient()}, []string{"x"}, vault.WithMaxPartSize(4))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: -1, R: strings.NewReader("12345")}); !errors.Is(err, vault.ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	none, err := vault.New(f.b, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := none.Seal(ctx, vault.Manifest{}); !errors.Is(err, vault.ErrNoRecipients) {
		t.Errorf("no recipients: %v", err)
	}
	for _, id := range []string{"../x", "", "ABCDEF0123456789ABCD"} {
		if _, err := f.v.Verify(ctx, id, nil); !errors.Is(err, vault.ErrInvalidID) {
			t.Errorf("Verify(%q): %v", id, err)
		}
		if _, err := f.v.Open(ctx, id, f.ids, nil); !errors.Is(err, vault.ErrInvalidID) {
			t.Errorf("Open(%q): %v", id, err)
		}
		if _, err := f.v.Destroy(ctx, id); !errors.Is(err, vault.ErrInvalidID) {
			t.Errorf("Destroy(%q): %v", id, err)
		}
	}
	if _, err := f.v.Verify(ctx, "ffffffffffffffffffffffffffffffff", nil); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("missing bundle: %v", err)
	}
}

func TestParseRecipients(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	const ssh = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN alice@example"
	recs, fps, err := vault.ParseRecipients([]string{"# vault keys", "", "  " + id.Recipient().String() + "  ", ssh})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || fps[0] != id.Recipient().String() || !strings.HasPrefix(fps[1], "ssh-ed25519 SHA256:") {
		t.Errorf("fingerprints %q", fps)
	}
	for _, bad := range []string{"age1notavalidkey", "ssh-ed25519 AAAAbroken", "pgp:12345", "age1yubikey1qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjkl"} {
		_, _, err := vault.ParseRecipients([]string{id.Recipient().String(), bad})
		if err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseRecipients(%q): %v, want an error naming it", bad, err)
		}
	}
	_, _, err = vault.ParseRecipients([]string{id.String()})
	if err == nil || strings.Contains(err.Error(), id.String()) {
		t.Errorf("identity as recipient: %v (must fail without echoing the key)", err)
	}
	if _, _, err := vault.ParseRecipients([]string{"# nothing"}); err == nil {
		t.Error("no recipients accepted")
	}
	if _, _, err := vault.ParseRecipients([]string{id.Recipient().String(), id.Recipient().String()}); err == nil {
		t.Error("duplicate recipient accepted")
	}
}

func TestWrongIdentity(t *testing.T) {
	f := newFixture(t, vaulttest.NewMemBackend())
	ctx := context.Background()
	rc, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 1, R: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := age.GenerateX25519Identity()
	if _, err := f.v.Open(ctx, rc.BundleID, []vault.Identity{other}, nil); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("Open: %v, want ErrNoIdentity", err)
	}
	if _, err := f.v.VerifyWithIdentity(ctx, rc.BundleID, []vault.Identity{other}, &rc); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("VerifyWithIdentity: %v, want ErrNoIdentity", err)
	}
	if _, err := f.v.Open(ctx, rc.BundleID, nil, nil); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("no identities: %v", err)
	}
}

func TestTamper(t *testing.T) {
	b := vaulttest.NewMemBackend()
	f := newFixture(t, b)
	ctx := context.Background()
	content := bytes.Repeat([]byte("evidence"), 20000) // several age chunks
	rc, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: -1, R: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := b.Get(rc.BundleID)
	hdrEnd := bytes.Index(orig, []byte("\n---")) + 48
	cases := []struct {
		name    string
		data    []byte
		keyless string // substring of the keyless Verify error with receipt
	}{
		{"truncated in payload", orig[:len(orig)-100], "truncated"},
		{"truncated at chunk boundary", orig[:hdrEnd+16+65536+16], "truncated"},
		{"truncated in header", orig[:40], "truncated"},
		{"empty", nil, "truncated"},
		{"bit flip in payload", flip(orig, len(orig)/2), "altered"},
		{"bit flip in last byte", flip(orig, len(orig)-1), "altered"},
		{"bit flip in header", flip(orig, 30), "altered"},
		{"appended", append(bytes.Clone(orig), 0), "grown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b.Set(rc.BundleID, tc.data)
			_, err := f.v.Verify(ctx, rc.BundleID, &rc)
			if !errors.Is(err, vault.ErrIntegrity) || !strings.Contains(err.Error(), tc.keyless) || !strings.Contains(err.Error(), rc.BundleID) {
				t.Errorf("Verify with receipt: %v, want ErrIntegrity naming %q and the id", err, tc.keyless)
			}
			if _, err := f.v.VerifyWithIdentity(ctx, rc.BundleID, f.ids, &rc); !errors.Is(err, vault.ErrIntegrity) {
				t.Errorf("VerifyWithIdentity with receipt: %v, want ErrIntegrity", err)
			}
			// Without the receipt, decryption alone detects it.
			if _, err := f.v.VerifyWithIdentity(ctx, rc.BundleID, f.ids, nil); err == nil {
				t.Errorf("VerifyWithIdentity without receipt accepted it")
			} else if !errors.Is(err, vault.ErrIntegrity) && !errors.Is(err, vault.ErrNoIdentity) {
				t.Errorf("VerifyWithIdentity without receipt: %v", err)
			}
			if _, _, err := openAll(t, f, rc.BundleID); err == nil {
				t.Errorf("Open accepted it")
			}
		})
	}
	b.Set(rc.BundleID, orig)
	if _, err := f.v.VerifyWithIdentity(ctx, rc.BundleID, f.ids, &rc); err != nil {
		t.Fatalf("restored bundle: %v", err)
	}
	// Keyless structural check without a receipt.
	b.Set(rc.BundleID, orig[:len(orig)-(len(orig)-hdrEnd-16)%(65536+16)+5])
	if _, err := f.v.Verify(ctx, rc.BundleID, nil); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("keyless Verify of a partial chunk: %v", err)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}

// plant stores a hand-made bundle: tar entries encrypted to f's identity.
func plant(t *testing.T, f *fixture, b *vaulttest.MemBackend, id string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, f.id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: typ, Size: int64(len(e.data)), Mode: 0o600, Linkname: e.link}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b.Set(id, buf.Bytes())
}

type tarEntry struct {
	name string
	data []byte
	typ  byte
	link string
}

func manifestFor(id string, parts ...string) []byte {
	var ps []string
	for i := 0; i+1 < len(parts); i += 2 {
		ps = append(ps, `{"name":"`+parts[i]+`","media_type":"","size":`+strconv.Itoa(len(parts[i+1]))+`,"sha256":"`+sum([]byte(parts[i+1]))+`","whatsapp_sha256":""}`)
	}
	return []byte(`{"format":"tresor-bundle/v1","bundle_id":"` + id + `","incident_id":"","category":"","metadata_only":false,` +
		`"message":{"id":"","chat":"","sender":"","sent_at":"0001-01-01T00:00:00Z","media_type":"","file_name":"","whatsapp_file_sha256":"","size":0},` +
		`"captured_at":"2026-11-27T10:00:00Z","tool_version":"x","parts":[` + strings.Join(ps, ",") + `]}`)
}

func TestMaliciousBundles(t *testing.T) {
	b := vaulttest.NewMemBackend()
	f := newFixture(t, b)
	const id = "abcdefabcdefabcdefabcdefabcdef00"
	good := manifestFor(id, "a.txt", "hello")
	cases := []struct {
		name    string
		entries []tarEntry
		want    string
	}{
		{"valid", []tarEntry{{name: "manifest.json", data: good}, {name: "a.txt", data: []byte("hello")}}, ""},
		{"traversal entry", []tarEntry{{name: "manifest.json", data: good}, {name: "../../etc/cron.d/x", data: []byte("hello")}}, "path traversal"},
		{"absolute entry", []tarEntry{{name: "manifest.json", data: good}, {name: "/etc/passwd", data: []byte("hello")}}, "path traversal"},
		{"traversal first", []tarEntry{{name: "../manifest.json", data: good}}, "path traversal"},
		{"traversal in manifest", []tarEntry{{name: "manifest.json", data: manifestFor(id, "../a.txt", "hello")}, {name: "../a.txt", data: []byte("hello")}}, "invalid part name"},
		{"symlink", []tarEntry{{name: "manifest.json", data: good}, {name: "a.txt", typ: tar.TypeSymlink, link: "/etc/passwd"}}, "type"},
		{"manifest not first", []tarEntry{{name: "a.txt", data: []byte("hello")}, {name: "manifest.json", data: good}}, "not manifest.json"},
		{"extra entry", []tarEntry{{name: "manifest.json", data: good}, {name: "a.txt", data: []byte("hello")}, {name: "b.txt", data: []byte("x")}}, "after the last part"},
		{"missing part", []tarEntry{{name: "manifest.json", data: good}}, "missing"},
		{"altered part", []tarEntry{{name: "manifest.json", data: good}, {name: "a.txt", data: []byte("HELLO")}}, "sha-256"},
		{"wrong size", []tarEntry{{name: "manifest.json", data: good}, {name: "a.txt", data: []byte("hello!")}}, "manifest says"},
		{"other bundle's manifest", []tarEntry{{name: "manifest.json", data: manifestFor("0000000000000000000000000000000f")}}, "manifest of bundle"},
		{"bad json", []tarEntry{{name: "manifest.json", data: []byte("{")}}, "decode manifest"},
		{"unknown field", []tarEntry{{name: "manifest.json", data: bytes.Replace(good, []byte(`"format"`), []byte(`"extra":1,"format"`), 1)}}, "unknown field"},
		{"no tar", nil, "manifest entry"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plant(t, f, b, id, tc.entries)
			called := 0
			_, err := f.v.Open(context.Background(), id, f.ids, func(p vault.PartInfo, r io.Reader) error {
				called++
				_, err := io.Copy(io.Discard, r)
				return err
			})
			if tc.want == "" {
				if err != nil {
					t.Fatalf("valid bundle: %v", err)
				}
				return
			}
			if !errors.Is(err, vault.ErrIntegrity) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want ErrIntegrity mentioning %q", err, tc.want)
			}
			if _, err := f.v.VerifyWithIdentity(context.Background(), id, f.ids, nil); !errors.Is(err, vault.ErrIntegrity) {
				t.Errorf("VerifyWithIdentity: %v", err)
			}
		})
	}
}

// TestDiskFull fails the backend's writes with ENOSPC mid-bundle.
func TestDiskFull(t *testing.T) {
	mem := vaulttest.NewMemBackend()
	f := newFixture(t, mem)
	ctx := context.Background()
	first, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 3, R: strings.NewReader("abc")})
	if err != nil {
		t.Fatal(err)
	}
	mem.FailWrite = func(written int64) error {
		if written >= 100000 {
			return &os.PathError{Op: "write", Path: "bundle", Err: syscall.ENOSPC}
		}
		return nil
	}
	_, err = f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "big", Size: -1, R: bytes.NewReader(make([]byte, 1<<20))})
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, vault.ErrStorageFull) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("Seal on a full disk: %v", err)
	}
	mem.FailWrite = nil
	var ids []string
	if err := f.v.List(ctx, func(id string) error { ids = append(ids, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != first.BundleID {
		t.Errorf("bundles after failure: %v", ids)
	}
	if _, err := f.v.VerifyWithIdentity(ctx, first.BundleID, f.ids, &first); err != nil {
		t.Errorf("earlier bundle harmed: %v", err)
	}
}

// TestTmpfsFull fills a real 4 MiB tmpfs (root only).
func TestTmpfsFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	b, err := vault.NewFSBackend(filepath.Join(dir, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, b)
	ctx := context.Background()
	small, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 1 << 20, R: bytes.NewReader(make([]byte, 1<<20))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "b", Size: 8 << 20, R: bytes.NewReader(make([]byte, 8<<20))})
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, vault.ErrStorageFull) {
		t.Fatalf("Seal of 8 MiB on 4 MiB tmpfs: %v", err)
	}
	// The spool on a full disk fails just as cleanly.
	spooling, err := vault.New(b, []vault.Recipient{f.id.Recipient()}, []string{"x"}, vault.WithTempDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spooling.Seal(ctx, vault.Manifest{}, vault.Part{Name: "c", Size: -1, R: onlyReader{bytes.NewReader(make([]byte, 8<<20))}}); !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, vault.ErrStorageFull) {
		t.Fatalf("spooling 8 MiB on 4 MiB tmpfs: %v", err)
	}
	if _, err := f.v.VerifyWithIdentity(ctx, small.BundleID, f.ids, &small); err != nil {
		t.Errorf("earlier bundle harmed: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("leftovers in tmpfs: %v", entries)
	}
	filepath.WalkDir(filepath.Join(dir, "vault"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, small.BundleID+".age") {
			t.Errorf("leftover %s", path)
		}
		return nil
	})
	// Space is free again: a small bundle fits.
	if _, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "d", Size: 1 << 20, R: bytes.NewReader(make([]byte, 1<<20))}); err != nil {
		t.Errorf("Seal after failure: %v", err)
	}
}

func TestRewrap(t *testing.T) {
	b := vaulttest.NewMemBackend()
	oldF := newFixture(t, b)
	ctx := context.Background()
	rc, err := oldF.v.Seal(ctx, vault.Manifest{IncidentID: "i"}, vault.Part{Name: "a", Size: 5, R: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	newF := newFixture(t, b)
	second, _ := age.GenerateX25519Identity()
	recs, fps, err := vault.ParseRecipients([]string{newF.id.Recipient().String(), second.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := vault.New(b, recs, fps)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v2.Rewrap(ctx, rc.BundleID, newF.ids); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("rewrap with a non-matching identity: %v", err)
	}
	rec, err := v2.Rewrap(ctx, rc.BundleID, oldF.ids)
	if err != nil {
		t.Fatal(err)
	}
	if rec.OldCiphertextSHA256 != rc.CiphertextSHA256 || rec.NewCiphertextSHA256 == rc.CiphertextSHA256 ||
		rec.ManifestSHA256 != rc.ManifestSHA256 || len(rec.NewRecipients) != 2 {
		t.Errorf("record %+v", rec)
	}
	if _, err := oldF.v.Open(ctx, rc.BundleID, oldF.ids, nil); !errors.Is(err, vault.ErrNoIdentity) {
		t.Errorf("old identity still opens: %v", err)
	}
	newRC := rc
	newRC.CiphertextSHA256, newRC.CiphertextSize, newRC.Recipients = rec.NewCiphertextSHA256, rec.NewCiphertextSize, fps
	rep, err := v2.VerifyWithIdentity(ctx, rc.BundleID, []vault.Identity{second}, &newRC)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Manifest.IncidentID != "i" || len(rep.StanzaTypes) != 2 {
		t.Errorf("report %+v", rep)
	}
}

func TestDestroy(t *testing.T) {
	f, _ := newFSFixture(t)
	ctx := context.Background()
	rc, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 1, R: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := f.v.Destroy(ctx, rc.BundleID)
	if err != nil {
		t.Fatal(err)
	}
	if cert.BundleID != rc.BundleID || cert.CiphertextSHA256 != rc.CiphertextSHA256 || cert.CiphertextSize != rc.CiphertextSize ||
		!cert.DestroyedAt.Equal(testTime) || cert.VersionsRemoved != 1 || !strings.HasPrefix(cert.Backend, "file://") {
		t.Errorf("certificate %+v", cert)
	}
	if _, err := f.v.Destroy(ctx, rc.BundleID); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("second Destroy: %v", err)
	}
}

func TestExport(t *testing.T) {
	f := newFixture(t, vaulttest.NewMemBackend())
	ctx := context.Background()
	rc, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: 1, R: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "release")
	audit := []vault.AuditRecord{{Seq: 7, Time: testTime, Actor: "<script>alert(1)</script>", Action: "handover.approved", Details: map[string]string{"to": "Polizei"}}}
	cr, err := f.v.Export(ctx, rc.BundleID, out, vault.ExportOptions{Receipt: &rc, Audit: audit})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, cr.FileName))
	if err != nil || sum(data) != rc.CiphertextSHA256 {
		t.Fatalf("exported bundle: %v", err)
	}
	html, err := os.ReadFile(filepath.Join(out, "custody.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{rc.CiphertextSHA256, rc.ManifestSHA256, "handover.approved", "Polizei", "&lt;script&gt;", rc.Recipients[0]} {
		if !strings.Contains(string(html), want) {
			t.Errorf("custody.html lacks %q", want)
		}
	}
	if strings.Contains(string(html), "<script>") {
		t.Error("custody.html is not escaped")
	}
	js, err := os.ReadFile(filepath.Join(out, "custody.json"))
	if err != nil || !bytes.Contains(js, []byte(`"seq": 7`)) || !bytes.Contains(js, []byte(rc.CiphertextSHA256)) {
		t.Errorf("custody.json: %v\n%s", err, js)
	}
	if _, err := f.v.Export(ctx, rc.BundleID, out, vault.ExportOptions{}); err == nil {
		t.Error("Export overwrote an earlier export")
	}
	bad := rc
	bad.CiphertextSHA256 = strings.Repeat("0", 64)
	if _, err := f.v.Export(ctx, rc.BundleID, t.TempDir(), vault.ExportOptions{Receipt: &bad}); !errors.Is(err, vault.ErrIntegrity) {
		t.Errorf("Export with a mismatching receipt: %v", err)
	}
}

func TestReceiptJSON(t *testing.T) {
	f := newFixture(t, vaulttest.NewMemBackend())
	rc, err := f.v.Seal(context.Background(), vault.Manifest{}, vault.Part{Name: "a", Size: 1, R: strings.NewReader("a")})
	if err != nil {
		t.Fatal(err)
	}
	data, err := vault.MarshalReceipt(rc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := vault.UnmarshalReceipt(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.CiphertextSHA256 != rc.CiphertextSHA256 || len(got.Parts) != 1 || got.Parts[0] != rc.Parts[0] || !got.SealedAt.Equal(rc.SealedAt) {
		t.Errorf("round trip: %+v vs %+v", got, rc)
	}
}

func TestContextCanceled(t *testing.T) {
	f, dir := newFSFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.v.Seal(ctx, vault.Manifest{}, vault.Part{Name: "a", Size: -1, R: strings.NewReader("a")}); !errors.Is(err, context.Canceled) {
		t.Errorf("Seal: %v", err)
	}
	assertEmpty(t, f, dir)
}

// TestSealMarksWhatsAppHashMismatch: a part sealed although its content
// differs from WhatsApp's hash carries both hashes and the mark, in the
// receipt and in the sealed manifest; a matching part carries no mark.
func TestSealMarksWhatsAppHashMismatch(t *testing.T) {
	f, _ := newFSFixture(t)
	ctx := context.Background()
	photo, doc := bytes.Repeat([]byte("jpeg"), 1000), []byte("%PDF-1.7 a document")
	stated := sum([]byte("what the message said"))
	rc, err := f.v.Seal(ctx, vault.Manifest{IncidentID: "inc-43", Category: "threat"},
		vault.Part{Name: "photo.jpg", MediaType: "image/jpeg", Size: int64(len(photo)), SHA256: sum(photo), WhatsAppSHA256: stated, R: bytes.NewReader(photo)},
		vault.Part{Name: "doc.pdf", MediaType: "application/pdf", Size: int64(len(doc)), SHA256: sum(doc), WhatsAppSHA256: sum(doc), R: bytes.NewReader(doc)},
	)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := openAll(t, f, rc.BundleID)
	if err != nil {
		t.Fatal(err)
	}
	for name, parts := range map[string][]vault.PartInfo{"receipt": rc.Parts, "manifest": got.Parts} {
		if p := parts[0]; !p.WhatsAppHashMismatch || p.SHA256 != sum(photo) || p.WhatsAppSHA256 != stated {
			t.Errorf("%s: mismatching part %+v", name, p)
		}
		if p := parts[1]; p.WhatsAppHashMismatch {
			t.Errorf("%s: matching part marked %+v", name, p)
		}
	}
	b, err := vault.MarshalManifest(got)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"whatsapp_sha256_mismatch": true`); n != 1 {
		t.Errorf("manifest.json marks %d parts:\n%s", n, b)
	}
}
