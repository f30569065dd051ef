package wa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident"
)

// Handle receives every whatsmeow event of the device; register it with
// (*whatsmeow.Client).AddEventHandlerWithSuccessStatus on a client with
// SynchronousAck set. A message's handler returns only once the capture
// (or the incident a reaction opens) is committed to the database, or,
// when the database stays away beyond the retry window, to the encrypted
// spool; whatsmeow sends the receipt only after that. It returns false
// only when the capture is lost, which is then audited (see the package
// doc: WhatsApp does not usefully redeliver). Malformed events (nil
// protobuf fields) are ignored, never a panic.
func (a *Adapter) Handle(evt any) bool {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.RetryWindow+2*handlerTimeout)
	defer cancel()
	switch e := evt.(type) {
	case *events.Message:
		return a.onMessage(ctx, e)
	case *events.UndecryptableMessage:
		return a.onUndecryptable(ctx, e)
	case *events.Star:
		a.onStar(ctx, e)
	case *events.LabelEdit:
		a.onLabelEdit(ctx, e)
	case *events.LabelAssociationMessage:
		a.onLabelMessage(ctx, e)
	case *events.AppStateSyncError:
		a.onAppStateSyncError(e)
	case *events.AppStateSyncComplete:
		a.onAppStateSyncComplete(e)
	case *events.Receipt:
		if e != nil && e.IsFromMe && e.Sender.Device == 0 {
			a.phoneSeen(ctx)
		}
	case *events.PairSuccess:
		a.onPairSuccess(ctx, e)
	case *events.Connected:
		a.setStatus(ctx, incident.DeviceConnected, "")
	case *events.Disconnected:
		a.setStatus(ctx, incident.DeviceDisconnected, "connection closed by WhatsApp; reconnecting")
	case *events.MediaRetry:
		a.onMediaRetry(ctx, e)
	case *events.DeleteForMe:
		if e != nil {
			a.opts.Log.Info("whatsapp confirmed a delete-for-me", "worker", a.worker, "message", logRef(e.MessageID))
		}
	case events.PermanentDisconnect:
		a.onPermanentDisconnect(ctx, e)
	}
	return true
}

func (a *Adapter) onMessage(ctx context.Context, e *events.Message) bool {
	if e == nil || e.Message == nil {
		return true
	}
	if notCaptured(e.Info.Chat) {
		return true
	}
	if e.Info.IsFromMe && e.Info.Sender.Device == 0 {
		a.phoneSeen(ctx)
	}
	if r := e.Message.GetReactionMessage(); r != nil {
		return a.onReaction(ctx, e, r)
	}
	rec, ok, err := recordFrom(e)
	if err != nil {
		a.lost(ctx, "message", e.Info.ID, lossEncode, err)
		return false
	}
	if !ok {
		return true
	}
	if e.UnavailableRequestID != "" {
		// The phone resent a message this device got no content of: the
		// content replaces the identity kept for it (onUndecryptable).
		at := a.now()
		return a.keep(ctx, "message", rec.ID, spoolEntry{Worker: a.worker, At: at, Capture: &rec},
			func(ctx context.Context) error { return a.reseal(ctx, rec) })
	}
	return a.keepCapture(ctx, rec)
}

// notCaptured reports chats the policy does not name: status updates
// (status@broadcast) and channels (newsletters).
func notCaptured(chat types.JID) bool {
	return chat == types.StatusBroadcastJID || chat.Server == types.NewsletterServer
}

// onUndecryptable keeps the identity of a message WhatsApp gave this
// device no content of (view-once), so that a star on it tells the worker
// why Tresor has only its metadata.
func (a *Adapter) onUndecryptable(ctx context.Context, e *events.UndecryptableMessage) bool {
	rec, ok := unavailableRecordFrom(e)
	if !ok {
		return true
	}
	return a.keepCapture(ctx, rec)
}

// flagKey identifies a flagged message as a flag event names it.
type flagKey struct {
	chat, sender types.JID // sender may be empty when the event does not tell
	id           string
	fromMe       bool
	knownFromMe  bool // false for label events, which do not tell
	via          string
	// late: the flag came with a full app-state sync or a recovery
	// (FromFullSync), set on the phone at setAt while the sync was stuck.
	late  bool
	setAt time.Time
}

// onReaction flags the reacted-to message when the worker's own device
// reacts with the policy's emoji.
func (a *Adapter) onReaction(ctx context.Context, e *events.Message, r *waE2E.ReactionMessage) bool {
	emoji := a.policy().FlagEmoji
	if !e.Info.IsFromMe || emoji == "" || r.GetText() != emoji {
		return true
	}
	key := r.GetKey()
	if key.GetID() == "" {
		return true
	}
	chat := e.Info.Chat
	if j, err := types.ParseJID(key.GetRemoteJID()); err == nil && !j.IsEmpty() {
		chat = j
	}
	var sender types.JID
	if p := key.GetParticipant(); p != "" {
		if j, err := types.ParseJID(p); err == nil {
			sender = j
		}
	}
	return a.keepFlag(ctx, flagKey{chat: chat, sender: sender, id: key.GetID(), fromMe: key.GetFromMe(), knownFromMe: true, via: "reaction"})
}

func (a *Adapter) onStar(ctx context.Context, e *events.Star) {
	if e == nil {
		return
	}
	if !e.FromFullSync {
		a.phoneSeen(ctx)
	}
	if !e.Action.GetStarred() || e.MessageID == "" || notCaptured(e.ChatJID) {
		return
	}
	// whatsmeow ignores the result of app-state events and never sends
	// them again: keepFlag does not give up before the spool has it.
	a.keepFlag(ctx, flagKey{chat: e.ChatJID, sender: e.SenderJID, id: e.MessageID, fromMe: e.IsFromMe, knownFromMe: true, via: "star",
		late: e.FromFullSync, setAt: e.Timestamp})
}

// onLabelEdit learns which label id carries the policy's label name.
func (a *Adapter) onLabelEdit(ctx context.Context, e *events.LabelEdit) {
	if e == nil || e.Action == nil || e.LabelID == "" {
		return
	}
	want := strings.TrimSpace(a.policy().FlagLabel)
	matches := want != "" && !e.Action.GetDeleted() && strings.EqualFold(strings.TrimSpace(e.Action.GetName()), want)
	err := a.updateDevice(ctx, func(d *incident.LinkedDevice) bool {
		switch {
		case matches && d.FlagLabelID != e.LabelID:
			d.FlagLabelID = e.LabelID
		case !matches && d.FlagLabelID == e.LabelID:
			d.FlagLabelID = ""
		default:
			return false
		}
		return true
	})
	if err != nil {
		a.opts.Log.Error("cannot record the flag label", "worker", a.worker, "err", incident.ErrorClass(err))
	}
}

func (a *Adapter) onLabelMessage(ctx context.Context, e *events.LabelAssociationMessage) {
	if e == nil || !e.Action.GetLabeled() || e.MessageID == "" || e.LabelID == "" {
		return
	}
	if !e.FromFullSync {
		a.phoneSeen(ctx)
	}
	var d incident.LinkedDevice
	err := a.retry(ctx, "a label", func(ctx context.Context) error {
		var err error
		d, err = a.store.Device(ctx, a.worker)
		return err
	})
	if err != nil {
		if !errors.Is(err, incident.ErrNotFound) {
			a.lost(ctx, "label", e.MessageID, lossDatabase, err)
		}
		return
	}
	if d.FlagLabelID == "" || d.FlagLabelID != e.LabelID {
		return
	}
	a.keepFlag(ctx, flagKey{chat: e.JID, id: e.MessageID, via: "label", late: e.FromFullSync, setAt: e.Timestamp})
}

// flag opens an incident for the worker, once per message: a message
// flagged already (ErrDuplicate) counts as done.
func (a *Adapter) flag(ctx context.Context, k flagKey) error {
	var user incident.User
	err := a.store.Tx(ctx, func(tx incident.Tx) error {
		var err error
		user, err = tx.User(ctx, a.worker)
		return err
	})
	if err != nil {
		return fmt.Errorf("failed to read worker %s: %w", a.worker, err)
	}
	if user.Disabled {
		a.opts.Log.Warn("flag from a disabled account ignored", "worker", a.worker, "via", k.via)
		return nil
	}
	if k.late {
		if fresh, err := a.setDuringStall(ctx, k.setAt); err != nil || !fresh {
			return err
		}
	}
	ref, captured, gap, err := a.refFor(ctx, k)
	if err != nil {
		return err
	}
	_, err = a.flagger.Flag(ctx, user.Actor(), incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: ref, Late: k.late, NotCaptured: gap})
	switch {
	case err == nil:
		a.opts.Log.Info("message flagged on the phone", "worker", a.worker, "via", k.via, "message", logRef(ref.ID), "captured", captured, "late", k.late, "not_captured", string(gap))
	case errors.Is(err, incident.ErrDuplicate):
	case errors.Is(err, incident.ErrForbidden), errors.Is(err, incident.ErrInvalidInput):
		// Retrying cannot help: the account may not flag, or the key is unusable.
		a.opts.Log.Warn("flag refused", "worker", a.worker, "via", k.via, "err", incident.ErrorClass(err))
		return nil
	default:
		return fmt.Errorf("failed to flag message %s: %w", ref.ID, err)
	}
	if captured {
		if err := a.store.ExtendCapture(ctx, a.worker, ref.ID, a.now().Add(a.opts.FlagHold)); err != nil && !errors.Is(err, incident.ErrNotFound) {
			return fmt.Errorf("failed to keep the capture of flagged message %s: %w", ref.ID, err)
		}
	}
	return nil
}

// refFor describes the flagged message: from its capture when there is
// one for the same chat (matched on the LID and the phone-number form),
// else from the flag's key alone. captured reports a stored capture; gap
// says why Tresor has no content of the message ("" when it has).
func (a *Adapter) refFor(ctx context.Context, k flagKey) (ref incident.MessageRef, captured bool, gap incident.CaptureGap, err error) {
	c, err := a.store.Capture(ctx, a.worker, k.id)
	switch {
	case err == nil:
		rec, err := a.openCapture(c)
		if err != nil {
			return incident.MessageRef{}, false, "", err
		}
		if a.sameChat(ctx, k.chat, rec) {
			ref, err := rec.ref()
			if err != nil {
				return incident.MessageRef{}, false, "", err
			}
			if ref.SenderAlt == "" {
				if j, err := types.ParseJID(ref.Sender); err == nil {
					ref.SenderAlt = jidString(a.altOf(ctx, j))
				}
			}
			// A star, label or own reaction names the chat as the phone
			// keys it (LID or phone number), which may differ from the
			// form the message arrived in: the delete-for-me patch must
			// use the phone's form to name the phone's message.
			if !k.chat.IsEmpty() {
				ref.Chat = jidString(k.chat.ToNonAD())
			}
			return ref, true, rec.gap(), nil
		}
		a.opts.Log.Warn("captured message with the flagged id is from another chat", "worker", a.worker, "message", logRef(k.id))
	case !errors.Is(err, incident.ErrNotFound):
		return incident.MessageRef{}, false, "", err
	}
	if gap, err = a.missingGap(ctx); err != nil {
		return incident.MessageRef{}, false, "", err
	}
	ref = incident.MessageRef{ID: k.id, Chat: jidString(k.chat), FromMe: k.fromMe}
	var sender types.JID
	switch {
	case k.fromMe:
		sender = a.dev.GetJID()
		if k.chat.Server == types.HiddenUserServer && !a.dev.GetLID().IsEmpty() {
			sender = a.dev.GetLID()
		}
	case !k.sender.IsEmpty():
		sender = k.sender
	case k.chat.Server == types.DefaultUserServer || k.chat.Server == types.HiddenUserServer:
		if k.knownFromMe {
			sender = k.chat // a received direct message: the chat is the sender
		}
	}
	ref.Sender = jidString(sender)
	ref.SenderAlt = jidString(a.altOf(ctx, sender))
	return ref, false, gap, nil
}

// missingGap says why a flagged message has no capture. Every message the
// device received since linking is kept for the capture window, so a
// device linked within the window most likely never received it; older
// devices have purged it. (A capture lost to a failing database cannot
// be told apart from here and is reported as one of these.)
func (a *Adapter) missingGap(ctx context.Context) (incident.CaptureGap, error) {
	d, err := a.store.Device(ctx, a.worker)
	if err != nil && !errors.Is(err, incident.ErrNotFound) {
		return "", fmt.Errorf("failed to read the device of worker %s: %w", a.worker, err)
	}
	if err == nil && !d.LinkedAt.IsZero() && a.now().Sub(d.LinkedAt) < a.captureWindow() {
		return incident.GapBeforeLinking, nil
	}
	return incident.GapOutsideWindow, nil
}

// sameChat reports whether a flag's chat is the captured message's chat
// in either address form.
func (a *Adapter) sameChat(ctx context.Context, chat types.JID, rec record) bool {
	if chat.IsEmpty() {
		return true
	}
	cands := []string{jidString(chat)}
	if alt := a.altOf(ctx, chat); !alt.IsEmpty() {
		cands = append(cands, jidString(alt))
	}
	for _, c := range cands {
		if c == rec.Chat {
			return true
		}
		if rec.IsGroup {
			continue
		}
		for _, addr := range rec.addresses() {
			if sameUser(c, addr) {
				return true
			}
		}
	}
	return false
}
