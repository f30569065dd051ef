package wa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/util/cbcutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// memVault keeps what it is given, for checking the bytes in tests.
type memVault struct {
	mu    sync.Mutex
	parts map[string][]byte
	meta  []incident.Part
}

func (v *memVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.parts = map[string][]byte{}
	v.meta = nil
	h := sha256.New()
	for _, p := range parts {
		b, err := io.ReadAll(p.Content)
		if err != nil {
			return incident.Receipt{}, err
		}
		v.parts[p.Name] = b
		p.Content = nil
		v.meta = append(v.meta, p)
		h.Write(b)
	}
	return incident.Receipt{BundleID: id, CiphertextSHA256: hex.EncodeToString(h.Sum(nil)), Recipients: []string{"age1test"}, SealedAt: m.CapturedAt}, nil
}

func (v *memVault) Destroy(ctx context.Context, id string) (incident.Destruction, error) {
	return incident.Destruction{BundleID: id}, nil
}

// encryptedMedia encrypts plain the way WhatsApp does for an image:
// HKDF-SHA256 of the media key with "WhatsApp Image Keys" gives IV,
// cipher key and MAC key; AES-256-CBC, then HMAC-SHA256 truncated to 10
// bytes. It uses whatsmeow's own upload-side helpers.
func encryptedMedia(t *testing.T, plain []byte) (mediaKey, enc, fileSHA, encSHA []byte) {
	t.Helper()
	mediaKey = make([]byte, 32)
	if _, err := rand.Read(mediaKey); err != nil {
		t.Fatal(err)
	}
	keys := hkdfutil.SHA256(mediaKey, nil, []byte(whatsmeow.MediaImage), 112)
	var buf bytes.Buffer
	fileSHA, encSHA, _, _, err := cbcutil.EncryptStream(keys[16:48], keys[:16], keys[48:80], bytes.NewReader(plain), &buf)
	if err != nil {
		t.Fatal(err)
	}
	return mediaKey, buf.Bytes(), fileSHA, encSHA
}

// mediaPath is a direct path in WhatsApp's form; whatsmeow appends
// "&hash=…" to it.
const mediaPath = "/v/t62.7118-24/media.enc?ccb=11-4&oh=01_Q5Aa&oe=69A0B1C2&_nc_sid=5e03e0"

// mediaServer serves h over TLS as the only host of the client's fake
// media connection, and wires the client to trust it.
func mediaServer(t *testing.T, e *env, h http.HandlerFunc) {
	t.Helper()
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	e.cli.SetMediaHTTPClient(ts.Client())
	e.cli.mu.Lock()
	e.cli.mediaHosts = []string{ts.Listener.Addr().String()}
	e.cli.mu.Unlock()
}

// serveBody answers every media request with body.
func serveBody(body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body) // a failed write shows up as a download error in the test
	}
}

type mediaCase struct {
	plain []byte
	enc   []byte
	msg   *waE2E.Message
}

// newMediaCase is a random JPEG-ish image encrypted as WhatsApp does,
// served from a local TLS server, and the message referring to it.
func newMediaCase(t *testing.T, e *env, tamper func(enc []byte)) mediaCase {
	t.Helper()
	plain := make([]byte, 200_000)
	if _, err := rand.Read(plain); err != nil {
		t.Fatal(err)
	}
	copy(plain, "\xff\xd8\xff\xe0TRESOR-PLAINTEXT-MARKER")
	key, enc, fileSHA, encSHA := encryptedMedia(t, plain)
	if tamper != nil {
		tamper(enc)
	}
	mediaServer(t, e, serveBody(enc))
	msg := &waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		URL: proto.String("https://mmg.whatsapp.net" + mediaPath), DirectPath: proto.String(mediaPath), Mimetype: proto.String("image/jpeg"),
		MediaKey: key, FileSHA256: fileSHA, FileEncSHA256: encSHA, FileLength: proto.Uint64(uint64(len(plain))),
		Caption: proto.String("schau mal"),
	}}
	return mediaCase{plain: plain, enc: enc, msg: msg}
}

// needles are chunks of the plaintext that must never be on disk.
func needles(plain []byte) [][]byte {
	var out [][]byte
	for off := 0; off+64 <= len(plain); off += len(plain) / 8 {
		out = append(out, plain[off:off+64])
	}
	return append(out, []byte("TRESOR-PLAINTEXT-MARKER"))
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// flagged captures msg, flags it with a star and returns the incident.
func flagged(t *testing.T, e *env, id string, msg *waE2E.Message) incident.Incident {
	t.Helper()
	e.handle(received(id, msg))
	e.handle(star(youthLID, types.EmptyJID, id, false, true))
	for _, inc := range e.incidents() {
		if inc.Message.ID == id {
			return inc
		}
	}
	t.Fatalf("message %s not flagged", id)
	return incident.Incident{}
}

func TestFetchContentDecryptsIntoEncryptedFile(t *testing.T) {
	e := newEnv(t)
	mc := newMediaCase(t, e, nil)
	inc := flagged(t, e, "3A00000000000000M1", mc.msg)
	if inc.Message.FileSHA256 != hex.EncodeToString(mc.msg.ImageMessage.FileSHA256) {
		t.Fatalf("flagged ref has file hash %q", inc.Message.FileSHA256)
	}

	parts, err := e.ad.FetchContent(context.Background(), inc)
	if err != nil {
		t.Fatal(err)
	}
	// Downloaded and decrypted by whatsmeow, yet on disk only ciphertext.
	if files := dirEntries(t, e.tempDir); len(files) != 1 {
		t.Fatalf("temp dir holds %v, want one encrypted media file", files)
	}
	scanDir(t, e.tempDir, needles(mc.plain)...)
	if len(parts) != 2 || parts[0].Name != "caption.txt" || parts[1].Name != "image.jpg" {
		t.Fatalf("parts = %+v", parts)
	}
	p := parts[1]
	want := sha256.Sum256(mc.plain)
	if p.MediaType != "image/jpeg" || p.Size != int64(len(mc.plain)) || p.WhatsAppSHA256 != hex.EncodeToString(want[:]) {
		t.Fatalf("media part = %+v", p)
	}
	caption, err := io.ReadAll(parts[0].Content)
	if err != nil || string(caption) != "schau mal" {
		t.Fatalf("caption = %q, %v", caption, err)
	}
	got, err := io.ReadAll(p.Content)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, mc.plain) {
		t.Fatal("streamed media differs from the original")
	}
	if err := p.Content.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if files := dirEntries(t, e.tempDir); len(files) != 0 {
		t.Fatalf("temp dir holds %v after close", files)
	}
}

func TestFetchContentRefusesTamperedMedia(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(enc []byte)
		msg    func(m *waE2E.ImageMessage)
		refuse bool // policy: media_hash_mismatch: refuse
		want   error
	}{
		{name: "ciphertext changed", tamper: func(enc []byte) { enc[100] ^= 1 }, want: whatsmeow.ErrInvalidMediaEncSHA256},
		{name: "ciphertext and its hash changed", tamper: func(enc []byte) { enc[100] ^= 1 },
			msg: func(m *waE2E.ImageMessage) { m.FileEncSHA256 = nil }, want: whatsmeow.ErrInvalidMediaHMAC},
		{name: "file hash does not match and the policy refuses", msg: func(m *waE2E.ImageMessage) { m.FileSHA256 = bytes.Repeat([]byte{1}, 32) },
			refuse: true, want: whatsmeow.ErrInvalidMediaSHA256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(p *policies.Policy) {
				if tc.refuse {
					p.MediaHashMismatch = policies.MediaMismatchRefuse
				}
			})
			mc := newMediaCase(t, e, tc.tamper)
			if tc.msg != nil {
				tc.msg(mc.msg.ImageMessage)
			}
			inc := flagged(t, e, "3A00000000000000M2", mc.msg)
			parts, err := e.ad.FetchContent(context.Background(), inc)
			if !errors.Is(err, tc.want) {
				t.Fatalf("FetchContent = %d parts, %v; want %v", len(parts), err, tc.want)
			}
			if files := dirEntries(t, e.tempDir); len(files) != 0 {
				t.Fatalf("temp dir holds %v after a refused download", files)
			}
		})
	}
}

func TestMediaChangedOnDiskIsRefusedWhileStreaming(t *testing.T) {
	e := newEnv(t)
	mc := newMediaCase(t, e, nil)
	inc := flagged(t, e, "3A00000000000000M3", mc.msg)
	parts, err := e.ad.FetchContent(context.Background(), inc)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, p := range parts {
			if c, ok := p.Content.(io.Closer); ok {
				if err := c.Close(); err != nil {
					t.Error(err)
				}
			}
		}
	}()
	files := dirEntries(t, e.tempDir)
	if len(files) != 1 {
		t.Fatalf("temp dir = %v", files)
	}
	f, err := os.OpenFile(filepath.Join(e.tempDir, files[0]), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	if _, err := f.ReadAt(b, 500); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x80 // CTR is malleable: the flip would reach the plaintext
	if _, err := f.WriteAt(b, 500); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(parts[1].Content); !errors.Is(err, ErrMediaHash) {
		t.Fatalf("reading changed media: %v, want ErrMediaHash", err)
	}
}

func TestFetchContentOfText(t *testing.T) {
	e := newEnv(t)
	inc := flagged(t, e, "3A00000000000000T1", &waE2E.Message{ExtendedTextMessage: &waE2E.ExtendedTextMessage{Text: proto.String(secretText)}})
	parts, err := e.ad.FetchContent(context.Background(), inc)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].Name != "message.txt" || parts[0].Size != int64(len(secretText)) {
		t.Fatalf("parts = %+v", parts)
	}
	if b, err := io.ReadAll(parts[0].Content); err != nil || string(b) != secretText {
		t.Fatalf("text = %q, %v", b, err)
	}
	inc.Message.ID = "3A00000000000000T9"
	if _, err := e.ad.FetchContent(context.Background(), inc); !errors.Is(err, ErrNotCaptured) {
		t.Fatalf("uncaptured message: %v, want ErrNotCaptured", err)
	}
}

// TestSecureAndRevokeThroughTheService runs the domain's own jobs over
// the adapter: the vault receives WhatsApp's exact bytes, then the
// message is deleted for the linked account.
func TestSecureAndRevokeThroughTheService(t *testing.T) {
	e := newEnv(t, func(p *policies.Policy) {
		for i := range p.Categories {
			if p.Categories[i].ID == "violence" {
				p.Categories[i].RequireApproval = false
			}
		}
	})
	ctx := context.Background()
	mc := newMediaCase(t, e, nil)
	e.svc = incident.NewService(e.store, e.pol, e.vault, e.ad, incident.WithClock(e.clock.Now))
	e.ad.flagger = e.svc
	inc := flagged(t, e, "3A00000000000000S1", mc.msg)
	if _, err := e.svc.Submit(ctx, e.worker.Actor(), inc.ID, incident.SubmitInput{Category: "violence", Platform: policies.Platform("android")}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // secure, then revoke
		if ran, err := e.svc.RunDue(ctx); err != nil || !ran {
			t.Fatalf("RunDue = %v, %v", ran, err)
		}
	}
	if !bytes.Equal(e.vault.parts["image.jpg"], mc.plain) || string(e.vault.parts["caption.txt"]) != "schau mal" {
		t.Fatalf("vault got %d parts, image matches: %v", len(e.vault.parts), bytes.Equal(e.vault.parts["image.jpg"], mc.plain))
	}
	if files := dirEntries(t, e.tempDir); len(files) != 0 {
		t.Fatalf("temp dir holds %v after sealing", files)
	}
	got, err := e.svc.Incident(ctx, e.worker.Actor(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != incident.StateWalkthrough || got.Revocation == nil || got.Revocation.Outcome != incident.DeletedForMe {
		t.Fatalf("incident after jobs: state %s, revocation %+v", got.State, got.Revocation)
	}
	if len(e.cli.patches) != 1 || len(e.cli.messages) != 0 {
		t.Fatalf("sent %d patches, %d messages", len(e.cli.patches), len(e.cli.messages))
	}
	if _, err := e.store.Capture(ctx, e.worker.ID, "3A00000000000000S1"); err == nil {
		t.Fatal("capture kept after the message was deleted on WhatsApp")
	}
}

// TestFileHashMismatchIsSealedWithBothHashes: media whose encrypted hash
// and HMAC verify (exactly what was uploaded) but whose plaintext differs
// from the message's file hash are, by the default policy, handed on
// with both hashes: SHA256 is what is sealed, WhatsAppSHA256 what the
// message stated, and the vault marks the difference.
func TestFileHashMismatchIsSealedWithBothHashes(t *testing.T) {
	e := newEnv(t)
	mc := newMediaCase(t, e, nil)
	stated := bytes.Repeat([]byte{1}, 32)
	mc.msg.ImageMessage.FileSHA256 = stated
	inc := flagged(t, e, "3A00000000000000M4", mc.msg)
	parts, err := e.ad.FetchContent(context.Background(), inc)
	if err != nil {
		t.Fatalf("FetchContent with a differing file hash under the default policy: %v", err)
	}
	defer closeAll(t, parts)
	real := sha256.Sum256(mc.plain)
	p := parts[1]
	if p.SHA256 != hex.EncodeToString(real[:]) || p.WhatsAppSHA256 != hex.EncodeToString(stated) || p.Size != int64(len(mc.plain)) {
		t.Fatalf("part = %+v", p)
	}
	if b, err := io.ReadAll(p.Content); err != nil || !bytes.Equal(b, mc.plain) {
		t.Fatalf("content: %d bytes, %v", len(b), err)
	}
	scanDir(t, e.tempDir, needles(mc.plain)...)
}
