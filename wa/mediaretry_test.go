package wa

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"sync"
	"testing"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"go.mau.fi/whatsmeow/util/gcmutil"
	"go.mau.fi/whatsmeow/util/hkdfutil"
	"google.golang.org/protobuf/proto"
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

// TestExpiredMediaIsRequestedAgain: a 404 from the media server makes the
// adapter send a media retry receipt for the captured message and fail
// the fetch with ErrMediaRetryRequested (the job retries); the phone's
// answer puts the new path into the capture.
func TestExpiredMediaIsRequestedAgain(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	mc := newMediaCase(t, e, nil)
	mediaServer(t, e, http.NotFound)
	rc := &retryClient{netClient: e.cli}
	e.ad.cli = rc
	inc := flagged(t, e, "3A00000000000000R1", mc.msg)

	_, err := e.ad.FetchContent(ctx, inc)
	if !errors.Is(err, ErrMediaRetryRequested) {
		t.Fatalf("FetchContent of expired media = %v, want ErrMediaRetryRequested", err)
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
		StanzaID: proto.String("3A00000000000000R1"), DirectPath: proto.String("/v/t62.7118-24/reuploaded.enc"),
		Result: waMmsRetry.MediaRetryNotification_SUCCESS.Enum()}))
	got := capturedImage(t, e, "3A00000000000000R1")
	if got.GetDirectPath() != "/v/t62.7118-24/reuploaded.enc" || got.URL != nil || string(got.GetMediaKey()) != string(mc.msg.ImageMessage.MediaKey) {
		t.Fatalf("capture after retry: path %q, url %v", got.GetDirectPath(), got.URL)
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
