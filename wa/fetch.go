package wa

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waMmsRetry"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

var (
	// ErrNotCaptured: the message was not captured by the linked device,
	// its capture was purged, or WhatsApp gave the device no content of
	// it (view-once); its content cannot be fetched. It wraps
	// incident.ErrPermanent, so the secure job is not retried.
	ErrNotCaptured = fmt.Errorf("message not captured: %w", incident.ErrPermanent)
	// ErrMediaHash: the downloaded media does not match WhatsApp's
	// FileSHA256.
	ErrMediaHash = errors.New("media does not match WhatsApp's file hash")
)

// FetchContent returns the captured message's text and its media as
// parts. Media is downloaded with whatsmeow into a file that holds only
// ciphertext under a key in memory; each media part streams the
// plaintext, checked against WhatsApp's FileSHA256, and removes the file
// when closed. The caller closes every part's Content.
func (a *Adapter) FetchContent(ctx context.Context, inc incident.Incident) ([]incident.Part, error) {
	c, err := a.store.Capture(ctx, a.worker, inc.Message.ID)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, fmt.Errorf("message %s: %w", inc.Message.ID, ErrNotCaptured)
	}
	if err != nil {
		return nil, err
	}
	rec, err := a.openCapture(c)
	if err != nil {
		return nil, err
	}
	if g := rec.gap(); g != "" {
		return nil, fmt.Errorf("message %s (%s): %w", inc.Message.ID, g, ErrNotCaptured)
	}
	msg, err := rec.message()
	if err != nil {
		return nil, err
	}
	var parts []incident.Part
	if text := textOf(msg); text != "" {
		parts = append(parts, textPart("message.txt", text))
	}
	md := mediaOf(msg)
	if md == nil {
		if len(parts) == 0 {
			return nil, fmt.Errorf("message %s has neither text nor media to secure: %w", rec.ID, incident.ErrPermanent)
		}
		return parts, nil
	}
	if md.caption != "" {
		parts = append(parts, textPart("caption.txt", md.caption))
	}
	p, err := a.download(ctx, rec, md)
	if err != nil {
		return nil, err
	}
	return append(parts, p), nil
}

func textPart(name, text string) incident.Part {
	return incident.Part{Name: name, MediaType: "text/plain; charset=utf-8", Size: int64(len(text)), Content: strings.NewReader(text)}
}

// download fetches one media item into an encrypted temporary file and
// returns the part streaming its verified plaintext.
func (a *Adapter) download(ctx context.Context, rec record, md *media) (incident.Part, error) {
	id := rec.ID
	want := md.msg.GetFileSHA256()
	if len(want) != sha256.Size {
		return incident.Part{}, fmt.Errorf("media of message %s has no valid WhatsApp file hash", id)
	}
	f, err := newCryptFile(a.opts.TempDir)
	if err != nil {
		return incident.Part{}, err
	}
	keep := false
	defer func() {
		if !keep {
			if cerr := f.Close(); cerr != nil {
				a.opts.Log.Error("cannot remove encrypted media file", "err", incident.ErrorClass(cerr))
			}
		}
	}()
	err = a.cli.DownloadToFile(ctx, md.msg, f)
	mismatch := errors.Is(err, whatsmeow.ErrInvalidMediaSHA256)
	switch {
	case err == nil:
	case isExpiredMedia(err):
		return incident.Part{}, a.requestMediaRetry(ctx, rec, md, err)
	case mismatch && a.policy().MediaHashMismatch != policies.MediaMismatchRefuse:
		// whatsmeow checks the encrypted hash and the HMAC before it
		// decrypts and compares the file hash: the file is exactly what
		// the sender uploaded, only the stated file hash differs. Seal it
		// with both hashes; the manifest and the receipt mark it.
	default:
		return incident.Part{}, fmt.Errorf("failed to download media of message %s: %w", id, err)
	}
	// Verify before handing it on, whatever whatsmeow's warning setting.
	h := sha256.New()
	size, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62))
	if err != nil {
		return incident.Part{}, fmt.Errorf("failed to hash media of message %s: %w", id, err)
	}
	got := h.Sum(nil)
	if mismatch {
		a.opts.Log.Warn("media differ from WhatsApp's file hash; sealing them with both hashes as the policy says",
			"worker", a.worker, "message", logRef(id), "sha256", hex.EncodeToString(got), "whatsapp_sha256", hex.EncodeToString(want))
	} else {
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return incident.Part{}, fmt.Errorf("message %s: %w", id, ErrMediaHash)
		}
		if md.size > 0 && size != md.size {
			return incident.Part{}, fmt.Errorf("media of message %s is %d bytes, WhatsApp said %d", id, size, md.size)
		}
	}
	keep = true
	mt := md.mime
	if mt == "" {
		mt = "application/octet-stream"
	}
	return incident.Part{Name: mediaName(md, mt), MediaType: mt, Size: size, SHA256: hex.EncodeToString(got), WhatsAppSHA256: hex.EncodeToString(want),
		Content: newPlainReader(f, got)}, nil
}

// mediaName is the part's name in the bundle: the sender's file name
// reduced to a safe base name, or the kind with an extension.
func mediaName(md *media, mt string) string {
	if n := safeName(md.fileName); n != "" {
		return n
	}
	base := strings.ToLower(strings.TrimSpace(strings.SplitN(mt, ";", 2)[0]))
	ext, ok := extensions[base]
	if !ok {
		if exts, err := mime.ExtensionsByType(base); err == nil && len(exts) > 0 {
			ext = exts[0]
		}
	}
	return md.kind + ext
}

// extensions fixes the usual WhatsApp media types' extensions, which the
// system's MIME table lists in no useful order.
var extensions = map[string]string{
	"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/gif": ".gif",
	"video/mp4": ".mp4", "video/3gpp": ".3gp", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
	"application/pdf": ".pdf",
}

func safeName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." || len(name) > 200 {
		return ""
	}
	return name
}

// isExpiredMedia tells the download errors after which only the phone
// can help: the media's path is missing (whatsmeow's "no url present"),
// or the media server answers 403 (an expired signed URL), 404 or 410.
// The bridge asks the phone in the same cases (mautrix-whatsapp,
// pkg/connector/directmedia.go and pkg/msgconv/wa-media.go).
func isExpiredMedia(err error) bool {
	return errors.Is(err, whatsmeow.ErrNoURLPresent) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith403) ||
		errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith404) || errors.Is(err, whatsmeow.ErrMediaDownloadFailedWith410)
}

// ErrMediaRetryRequested: WhatsApp's servers no longer have the media;
// the phone was asked to upload it again (media retry receipt). The
// secure job fails with it and retries with backoff; the answer
// (events.MediaRetry) updates the capture with the new path meanwhile.
var ErrMediaRetryRequested = errors.New("media expired on WhatsApp's servers; asked the phone to upload it again")

func (a *Adapter) requestMediaRetry(ctx context.Context, rec record, md *media, cause error) error {
	info, err := rec.info()
	if err != nil {
		return err
	}
	if err := a.cli.SendMediaRetryReceipt(ctx, &info, md.msg.GetMediaKey()); err != nil {
		return fmt.Errorf("media of message %s expired (%v) and the retry request failed: %w", rec.ID, cause, err)
	}
	a.opts.Log.Info("asked the phone to re-upload expired media", "worker", a.worker, "message", logRef(rec.ID), "cause", incident.ErrorClass(cause))
	return fmt.Errorf("message %s: %w (%w)", rec.ID, ErrMediaRetryRequested, cause)
}

// onMediaRetry takes the phone's answer to a media retry receipt: the
// media's new path goes into the capture, so the next download works.
func (a *Adapter) onMediaRetry(ctx context.Context, e *events.MediaRetry) {
	if e == nil || e.MessageID == "" {
		return
	}
	c, err := a.store.Capture(ctx, a.worker, e.MessageID)
	if err != nil {
		if !errors.Is(err, incident.ErrNotFound) {
			a.opts.Log.Error("media retry: cannot read the capture", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		}
		return
	}
	rec, err := a.openCapture(c)
	if err != nil {
		a.opts.Log.Error("media retry: cannot open the capture", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		return
	}
	msg, err := rec.message()
	if err != nil {
		a.opts.Log.Error("media retry: cannot decode the message", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		return
	}
	md := mediaOf(msg)
	if md == nil {
		return
	}
	notif, err := whatsmeow.DecryptMediaRetryNotification(e, md.msg.GetMediaKey())
	if err != nil {
		a.opts.Log.Warn("media retry failed: the media cannot be secured", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		return
	}
	path := notif.GetDirectPath()
	if notif.GetResult() != waMmsRetry.MediaRetryNotification_SUCCESS || path == "" {
		a.opts.Log.Warn("media retry answered without media", "worker", a.worker, "message", logRef(e.MessageID), "result", notif.GetResult().String())
		return
	}
	if !setDirectPath(msg, path) {
		return
	}
	if rec.Message, err = proto.Marshal(msg); err != nil {
		a.opts.Log.Error("media retry: cannot encode the message", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		return
	}
	if err := a.reseal(ctx, rec); err != nil {
		a.opts.Log.Error("media retry: cannot store the new path", "worker", a.worker, "message", logRef(e.MessageID), "err", incident.ErrorClass(err))
		return
	}
	a.opts.Log.Info("the phone re-uploaded expired media", "worker", a.worker, "message", logRef(e.MessageID))
}

// setDirectPath points the message's media at a new path and drops the
// old URL, which would win over the path and has expired.
func setDirectPath(m *waE2E.Message, path string) bool {
	switch {
	case m.GetImageMessage() != nil:
		m.ImageMessage.DirectPath, m.ImageMessage.URL = proto.String(path), nil
	case m.GetVideoMessage() != nil:
		m.VideoMessage.DirectPath, m.VideoMessage.URL = proto.String(path), nil
	case m.GetPtvMessage() != nil:
		m.PtvMessage.DirectPath, m.PtvMessage.URL = proto.String(path), nil
	case m.GetAudioMessage() != nil:
		m.AudioMessage.DirectPath, m.AudioMessage.URL = proto.String(path), nil
	case m.GetDocumentMessage() != nil:
		m.DocumentMessage.DirectPath, m.DocumentMessage.URL = proto.String(path), nil
	case m.GetStickerMessage() != nil:
		m.StickerMessage.DirectPath, m.StickerMessage.URL = proto.String(path), nil
	default:
		return false
	}
	return true
}
