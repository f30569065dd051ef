package wa

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"

	"go.mau.fi/whatsmeow"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
)

// retryClient records media retry receipts instead of sending them.
type retryClient struct {
	*netClient
	mu       sync.Mutex
	receipts []types.MessageInfo
	keys     [][]byte
}

func (c *retryClient) SendMediaRetryReceipt(ctx context.Context, info *types.MessageInfo, mediaKey []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.receipts = append(c.receipts, *info)
	c.keys = append(c.keys, mediaKey)
	return nil
}

// mediaRetryEvent is the phone's answer as whatsmeow parses it: the
// notification encrypted with AES-GCM under HKDF(media key, "WhatsApp
// Media Retry Notification"), the message id as additional data.
func mediaRetryEvent(t *testing.T, id string, mediaKey []byte, notif *waMmsRetry.MediaRetryNotification) *events.MediaRetry {
	t.Helper()
	plain, err := proto.Marshal(notif)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, 12)
	if _, err := rand.Read(iv); err != nil {
		t.Fatal(err)
	}
	key := hkdfutil.SHA256(mediaKey, nil, []byte("WhatsApp Media Retry Notification"), 32)
	ct, err := gcmutil.Encrypt(key, iv, plain, []byte(id))
	if err != nil {
		t.Fatal(err)
	}
	return &events.MediaRetry{Ciphertext: ct, IV: iv, MessageID: types.MessageID(id)}
}

// TestExpiredMediaIsRequestedAgain: an expired signed URL (403 from the
// media server) makes the adapter send a media retry receipt for the
// captured message and fail the fetch with ErrMediaRetryRequested (the
// job retries); the phone's answer puts the new path into the capture,
// and the next fetch downloads the re-uploaded media.
func TestExpiredMediaIsRequestedAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mc := newMediaCase(t, e, nil)
	const reuploaded = "/v/t62.7118-24/reuploaded.enc?ccb=11-4&oh=01_Q5Ab&oe=69A0B1C3"
	var requests []string
	mediaServer(t, e, func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.URL.Path)
		if r.URL.Path != "/v/t62.7118-24/reuploaded.enc" {
			http.Error(w, "URL signature expired", http.StatusForbidden)
			return
		}
		_, _ = w.Write(mc.enc)
	})
	rc := &retryClient{netClient: e.cli}
	e.ad.cli = rc
	inc := flagged(t, e, "3A00000000000000R1", mc.msg)

	_, err := e.ad.FetchContent(ctx, inc)
	if !errors.Is(err, ErrMediaRetryRequested) || !errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith403) {
		t.Fatalf("FetchContent of expired media = %v, want ErrMediaRetryRequested after a 403", err)
	}
	if len(requests) != 1 {
		t.Fatalf("media server saw %v", requests)
	}
	if len(rc.receipts) != 1 || rc.receipts[0].ID != "3A00000000000000R1" || rc.receipts[0].Chat.IsEmpty() ||
		string(rc.keys[0]) != string(mc.msg.ImageMessage.MediaKey) {
		t.Fatalf("retry receipts = %+v", rc.receipts)
	}
	if files := dirEntries(t, e.tempDir); len(files) != 0 {
		t.Fatalf("temp dir holds %v after a failed download", files)
	}

	// The phone cannot help: nothing changes.
	e.handle(&events.MediaRetry{MessageID: "3A00000000000000R1", Error: &events.MediaRetryError{Code: 2}})
	if got := capturedImage(t, e, "3A00000000000000R1"); got.GetDirectPath() != mediaPath {
		t.Fatalf("a failed retry changed the capture: %v", got.GetDirectPath())
	}
	// A notification that does not decrypt under the media key is ignored.
	e.handle(mediaRetryEvent(t, "3A00000000000000R1", make([]byte, 32), &waMmsRetry.MediaRetryNotification{
		DirectPath: proto.String("/forged"), Result: waMmsRetry.MediaRetryNotification_SUCCESS.Enum()}))
	if got := capturedImage(t, e, "3A00000000000000R1"); got.GetDirectPath() != mediaPath {
		t.Fatal("a forged retry answer changed the capture")
	}
	// The phone re-uploaded: the capture gets the new path, the stale URL goes.
	e.handle(mediaRetryEvent(t, "3A00000000000000R1", mc.msg.ImageMessage.MediaKey, &waMmsRetry.MediaRetryNotification{
		StanzaID: proto.String("3A00000000000000R1"), DirectPath: proto.String(reuploaded),
		Result: waMmsRetry.MediaRetryNotification_SUCCESS.Enum()}))
	got := capturedImage(t, e, "3A00000000000000R1")
	if got.GetDirectPath() != reuploaded || got.URL != nil || string(got.GetMediaKey()) != string(mc.msg.ImageMessage.MediaKey) {
		t.Fatalf("capture after retry: path %q, url %v", got.GetDirectPath(), got.URL)
	}
	parts, err := e.ad.FetchContent(ctx, inc)
	if err != nil {
		t.Fatalf("FetchContent after the re-upload: %v", err)
	}
	defer closeAll(t, parts)
	if b, err := io.ReadAll(parts[1].Content); err != nil || !bytes.Equal(b, mc.plain) {
		t.Fatalf("re-uploaded media: %d bytes, %v", len(b), err)
	}
	if len(rc.receipts) != 1 {
		t.Fatalf("%d retry receipts after a successful download", len(rc.receipts))
	}
}

// TestMediaRetryTriggers: each way WhatsApp says the media are gone asks
// the phone again; other failures do not.
func TestMediaRetryTriggers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		noPath bool
		retry  bool
	}{
		{name: "403 expired signed URL", status: http.StatusForbidden, retry: true},
		{name: "404", status: http.StatusNotFound, retry: true},
		{name: "410", status: http.StatusGone, retry: true},
		{name: "no path in the message", noPath: true, retry: true},
		{name: "401 is not expiry", status: http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			mc := newMediaCase(t, e, nil)
			mediaServer(t, e, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(tc.status) })
			if tc.noPath {
				mc.msg.ImageMessage.DirectPath, mc.msg.ImageMessage.URL = nil, nil
			}
			rc := &retryClient{netClient: e.cli}
			e.ad.cli = rc
			inc := flagged(t, e, "3A00000000000000R2", mc.msg)
			_, err := e.ad.FetchContent(context.Background(), inc)
			if got := errors.Is(err, ErrMediaRetryRequested); got != tc.retry || err == nil {
				t.Fatalf("FetchContent = %v; retry requested %v, want %v", err, got, tc.retry)
			}
			if want := map[bool]int{true: 1}[tc.retry]; len(rc.receipts) != want {
				t.Fatalf("%d retry receipts, want %d", len(rc.receipts), want)
			}
		})
	}
}

func closeAll(t *testing.T, parts []incident.Part) {
	t.Helper()
	for _, p := range parts {
		if c, ok := p.Content.(io.Closer); ok {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}
	}
}

// capturedImage opens the stored capture of a message.
func capturedImage(t *testing.T, e *env, id string) *waE2E.ImageMessage {
	t.Helper()
	c, err := e.store.Capture(context.Background(), e.worker.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := e.ad.openCapture(c)
	if err != nil {
		t.Fatal(err)
	}
	m, err := rec.message()
	if err != nil {
		t.Fatal(err)
	}
	return m.GetImageMessage()
}
