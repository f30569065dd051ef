package wa

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
)

// recordVersion is the layout of a sealed capture record.
const recordVersion = 1

// record is one captured message as sealed at rest: its key, the parts of
// its info that identify it, and its protobuf (with the media key).
type record struct {
	V            int       `json:"v"`
	ID           string    `json:"id"`
	Chat         string    `json:"chat"`
	Sender       string    `json:"sender"`
	SenderAlt    string    `json:"sender_alt,omitempty"`
	RecipientAlt string    `json:"recipient_alt,omitempty"`
	FromMe       bool      `json:"from_me"`
	IsGroup      bool      `json:"is_group"`
	Addressing   string    `json:"addressing,omitempty"`
	Timestamp    time.Time `json:"ts"`
	Type         string    `json:"type,omitempty"`
	Message      []byte    `json:"message"` // proto.Marshal of the unwrapped waE2E.Message
	// Unavailable is set for a message WhatsApp gave this device no
	// content of (events.UndecryptableMessage with IsUnavailable): its
	// UnavailableType, e.g. "view_once". Such a record holds the
	// message's identity only, so that a star on it can say why.
	Unavailable string `json:"unavailable,omitempty"`
}

// recordFrom builds the record of a received message. It reports false
// for messages with nothing to capture (no text, no media).
func recordFrom(evt *events.Message) (record, bool, error) {
	if evt == nil || evt.Message == nil || evt.Info.ID == "" || evt.Info.Chat.IsEmpty() {
		return record{}, false, nil
	}
	if evt.IsEdit {
		// An edit carries its own id; the original stays as captured.
		return record{}, false, nil
	}
	if textOf(evt.Message) == "" && mediaOf(evt.Message) == nil {
		return record{}, false, nil
	}
	raw, err := proto.Marshal(evt.Message)
	if err != nil {
		return record{}, false, fmt.Errorf("failed to encode message %s: %w", evt.Info.ID, err)
	}
	rec := recordOf(evt.Info)
	rec.Message = raw
	return rec, true, nil
}

// recordOf is the record of a message's identity, without its content.
func recordOf(info types.MessageInfo) record {
	return record{
		V: recordVersion, ID: info.ID, Chat: jidString(info.Chat), Sender: jidString(info.Sender),
		SenderAlt: jidString(info.SenderAlt), RecipientAlt: jidString(info.RecipientAlt), FromMe: info.IsFromMe,
		IsGroup: info.IsGroup, Addressing: string(info.AddressingMode), Timestamp: info.Timestamp.UTC(), Type: info.Type,
	}
}

// unavailableRecordFrom builds the record of a message WhatsApp sent no
// content of to this device. It reports false for other undecryptable
// messages: whatsmeow asks the sender to retry those, and the retried
// message arrives as an events.Message.
func unavailableRecordFrom(evt *events.UndecryptableMessage) (record, bool) {
	if evt == nil || !evt.IsUnavailable || evt.Info.ID == "" || evt.Info.Chat.IsEmpty() {
		return record{}, false
	}
	kind := string(evt.UnavailableType)
	if kind == "" {
		kind = "unknown"
	}
	rec := recordOf(evt.Info)
	rec.Unavailable = kind
	return rec, true
}

// gap is why the record holds no content, or "" when it does.
func (r record) gap() incident.CaptureGap {
	switch {
	case r.Unavailable == "":
		return ""
	case r.Unavailable == string(events.UnavailableTypeViewOnce):
		return incident.GapViewOnce
	default:
		return incident.GapLost
	}
}

func (r record) marshal() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("failed to encode capture record: %w", err)
	}
	return b, nil
}

func parseRecord(b []byte) (record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return record{}, fmt.Errorf("failed to decode capture record: %w", err)
	}
	if r.V != recordVersion {
		return record{}, fmt.Errorf("capture record version %d is not supported", r.V)
	}
	return r, nil
}

// message decodes the record's protobuf.
func (r record) message() (*waE2E.Message, error) {
	var m waE2E.Message
	if err := proto.Unmarshal(r.Message, &m); err != nil {
		return nil, fmt.Errorf("failed to decode message %s: %w", r.ID, err)
	}
	return &m, nil
}

// info rebuilds the message's identity as whatsmeow needs it, e.g. for a
// media retry receipt.
func (r record) info() (types.MessageInfo, error) {
	chat, err := types.ParseJID(r.Chat)
	if err != nil {
		return types.MessageInfo{}, fmt.Errorf("capture of message %s has a malformed chat: %w", r.ID, err)
	}
	var sender types.JID
	if r.Sender != "" {
		if sender, err = types.ParseJID(r.Sender); err != nil {
			return types.MessageInfo{}, fmt.Errorf("capture of message %s has a malformed sender: %w", r.ID, err)
		}
	}
	return types.MessageInfo{
		MessageSource: types.MessageSource{Chat: chat, Sender: sender, IsFromMe: r.FromMe, IsGroup: r.IsGroup},
		ID:            r.ID, Timestamp: r.Timestamp, Type: r.Type,
	}, nil
}

// ref is the record's metadata as the domain keeps it.
func (r record) ref() (incident.MessageRef, error) {
	m, err := r.message()
	if err != nil {
		return incident.MessageRef{}, err
	}
	ref := incident.MessageRef{ID: r.ID, Chat: r.Chat, Sender: r.Sender, SenderAlt: r.SenderAlt, FromMe: r.FromMe, SentAt: r.Timestamp}
	if md := mediaOf(m); md != nil {
		ref.MediaType, ref.FileName, ref.Size = md.mime, md.fileName, md.size
		ref.FileSHA256 = hex.EncodeToString(md.msg.GetFileSHA256())
	}
	return ref, nil
}

// addresses are every form of the chat and sender the record knows, for
// matching a flag that uses the other form (LID or phone number).
func (r record) addresses() []string {
	var out []string
	for _, s := range []string{r.Chat, r.Sender, r.SenderAlt, r.RecipientAlt} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// media is the downloadable part of a message.
type media struct {
	msg      whatsmeow.DownloadableMessage
	kind     string // image, video, audio, document, sticker
	mime     string
	fileName string
	size     int64
	caption  string
}

// mediaOf returns the message's media, or nil. Every getter is nil-safe.
func mediaOf(m *waE2E.Message) *media {
	switch {
	case m.GetImageMessage() != nil:
		x := m.GetImageMessage()
		return &media{msg: x, kind: "image", mime: x.GetMimetype(), size: int64(x.GetFileLength()), caption: x.GetCaption()}
	case m.GetVideoMessage() != nil:
		x := m.GetVideoMessage()
		return &media{msg: x, kind: "video", mime: x.GetMimetype(), size: int64(x.GetFileLength()), caption: x.GetCaption()}
	case m.GetPtvMessage() != nil:
		x := m.GetPtvMessage()
		return &media{msg: x, kind: "video", mime: x.GetMimetype(), size: int64(x.GetFileLength()), caption: x.GetCaption()}
	case m.GetAudioMessage() != nil:
		x := m.GetAudioMessage()
		return &media{msg: x, kind: "audio", mime: x.GetMimetype(), size: int64(x.GetFileLength())}
	case m.GetDocumentMessage() != nil:
		x := m.GetDocumentMessage()
		return &media{msg: x, kind: "document", mime: x.GetMimetype(), fileName: x.GetFileName(), size: int64(x.GetFileLength()), caption: x.GetCaption()}
	case m.GetStickerMessage() != nil:
		x := m.GetStickerMessage()
		return &media{msg: x, kind: "sticker", mime: x.GetMimetype(), size: int64(x.GetFileLength())}
	}
	return nil
}

// textOf returns the message's text (not a media caption).
func textOf(m *waE2E.Message) string {
	if t := m.GetConversation(); t != "" {
		return t
	}
	return m.GetExtendedTextMessage().GetText()
}

func jidString(j types.JID) string {
	if j.IsEmpty() {
		return ""
	}
	return j.ToNonAD().String()
}

// sameUser reports whether two addresses name the same account (device
// suffixes ignored); empty addresses match nothing.
func sameUser(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	ja, errA := types.ParseJID(a)
	jb, errB := types.ParseJID(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return ja.User == jb.User && ja.Server == jb.Server
}
