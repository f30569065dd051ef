package wa

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waSyncAction"
	"go.mau.fi/whatsmeow/types"
	"google.golang.org/protobuf/proto"

	"github.com/tresor-evidence/tresor/incident"
)

// ErrRateLimited: WhatsApp asked Tresor to slow down; the job retries later.
var ErrRateLimited = errors.New("whatsapp rate limit")

const (
	minBackoff = time.Minute
	maxBackoff = 30 * time.Minute
)

// BuildDeleteForMe builds the app-state patch that deletes a message for
// the linked account only ("delete for me"), which whatsmeow has no
// builder for. Its shape follows WhatsApp Web's DeleteMessageForMe sync
// action and whatsmeow's BuildStar: collection regular_high, index
// [deleteMessageForMe, chat, id, fromMe, participant], version 3, the
// message time in seconds. Participant follows whatsmeow's parser of the
// same index (events.DeleteForMe, types/events/appstate.go): the sender
// of a received group message, and "0" for one's own messages and in
// direct chats. chat must be in the form (LID or phone number) the phone
// uses for the chat. Whether WhatsApp applies the patch is verified only
// with a real phone (see MANUAL_TEST.md).
func BuildDeleteForMe(chat, sender types.JID, id types.MessageID, fromMe bool, sentAt time.Time, deleteMedia bool) appstate.PatchInfo {
	fm, participant := "0", "0"
	if fromMe {
		fm = "1"
	}
	direct := chat.Server == types.DefaultUserServer || chat.Server == types.HiddenUserServer
	if !fromMe && !direct && !sender.IsEmpty() {
		participant = sender.ToNonAD().String()
	}
	action := &waSyncAction.DeleteMessageForMeAction{DeleteMedia: proto.Bool(deleteMedia)}
	if !sentAt.IsZero() {
		action.MessageTimestamp = proto.Int64(sentAt.Unix())
	}
	return appstate.PatchInfo{
		Type: appstate.WAPatchRegularHigh,
		Mutations: []appstate.MutationInfo{{
			Index:   []string{appstate.IndexDeleteMessageForMe, chat.ToNonAD().String(), id, fm, participant},
			Version: 3,
			Value:   &waSyncAction.SyncActionValue{DeleteMessageForMeAction: action},
		}},
	}
}

// Revoke deletes the incident's message on WhatsApp: for everyone when
// WhatsApp allows it (the worker's own message, or any message in a
// group where the account is admin, within RevokeWindow less
// RevokeMargin), otherwise for the linked account. Sends are serialized per device; after a rate limit
// every call fails with ErrRateLimited until the back-off has passed, so
// the durable job retries. The Revocation's Detail is the server's answer.
func (a *Adapter) Revoke(ctx context.Context, inc incident.Incident) (incident.Revocation, error) {
	m := inc.Message
	chat, err := types.ParseJID(m.Chat)
	if err != nil || chat.IsEmpty() || m.ID == "" {
		return incident.Revocation{Outcome: incident.RevokeNotPossible, At: a.now(),
			Detail: fmt.Sprintf("the message has no usable WhatsApp chat address (%q): delete it on the phone", m.Chat)}, nil
	}
	var sender types.JID
	if m.Sender != "" {
		if sender, err = types.ParseJID(m.Sender); err != nil {
			sender = types.EmptyJID
		}
	}
	a.sendMu.Lock()
	defer a.sendMu.Unlock()
	if now := a.now(); now.Before(a.notBefore) {
		return incident.Revocation{}, fmt.Errorf("%w: not before %s", ErrRateLimited, a.notBefore.Format(time.RFC3339))
	}
	rev, err := a.revoke(ctx, chat, sender, m)
	if err != nil {
		if isRateLimit(err) {
			if a.backoff == 0 {
				a.backoff = minBackoff
			} else {
				a.backoff = min(2*a.backoff, maxBackoff)
			}
			a.notBefore = a.now().Add(a.backoff)
			return incident.Revocation{}, fmt.Errorf("%w: %w", ErrRateLimited, err)
		}
		return incident.Revocation{}, err
	}
	a.backoff, a.notBefore = 0, time.Time{}
	if err := a.store.DeleteCapture(ctx, a.worker, m.ID); err != nil {
		a.opts.Log.Error("cannot remove the capture of a revoked message", "worker", a.worker, "err", incident.ErrorClass(err))
	}
	return rev, nil
}

func (a *Adapter) revoke(ctx context.Context, chat, sender types.JID, m incident.MessageRef) (incident.Revocation, error) {
	// WhatsApp's limit holds for the sender and for group admins alike;
	// an unknown send time is treated as past it.
	inTime := !m.SentAt.IsZero() && a.now().Sub(m.SentAt) < a.opts.RevokeWindow-RevokeMargin
	why := "WhatsApp does not let a recipient revoke a message for everyone"
	switch {
	case m.FromMe && inTime:
		return a.sendRevoke(ctx, chat, types.EmptyJID, m.ID, "sender revoke")
	case m.FromMe:
		why = a.pastLimit(m)
	case chat.Server == types.GroupServer && !sender.IsEmpty():
		admin, err := a.isGroupAdmin(ctx, chat)
		if err != nil {
			if isRateLimit(err) {
				return incident.Revocation{}, err
			}
			a.opts.Log.Warn("cannot tell whether the account is group admin; deleting for me", "worker", a.worker, "err", incident.ErrorClass(err))
		}
		switch {
		case admin && inTime:
			return a.sendRevoke(ctx, chat, sender, m.ID, "group admin revoke")
		case admin:
			why = "the account administers the group, but " + a.pastLimit(m)
		default:
			why = "WhatsApp lets only the sender and group admins revoke a message for everyone"
		}
	}
	patch := BuildDeleteForMe(chat, sender, m.ID, m.FromMe, m.SentAt, true)
	if err := a.cli.SendAppState(ctx, patch); err != nil {
		return incident.Revocation{}, fmt.Errorf("failed to delete message %s for the linked account: %w", m.ID, err)
	}
	return incident.Revocation{Outcome: incident.DeletedForMe, At: a.now(),
		Detail: fmt.Sprintf("WhatsApp accepted the delete-for-me app-state patch (%s, deleteMessageForMe, media deleted) for the linked account; %s. The other participants keep their copy: ask them to delete it, or report the message in WhatsApp.", patch.Type, why)}, nil
}

// pastLimit says why a revoke for everyone was not tried.
func (a *Adapter) pastLimit(m incident.MessageRef) string {
	if m.SentAt.IsZero() {
		return "the send time is unknown, so Tresor cannot tell whether WhatsApp still allows revoking for everyone"
	}
	return fmt.Sprintf("the %s WhatsApp allows for revoking for everyone had passed (Tresor stops %s earlier so that the revoke cannot arrive late)",
		fmtHours(a.opts.RevokeWindow), fmtHours(RevokeMargin))
}

func fmtHours(d time.Duration) string { return fmt.Sprintf("%g h", d.Hours()) }

func (a *Adapter) sendRevoke(ctx context.Context, chat, sender types.JID, id, kind string) (incident.Revocation, error) {
	msg := a.cli.BuildRevoke(chat, sender, id)
	resp, err := a.cli.SendMessage(ctx, chat, msg)
	if err != nil {
		return incident.Revocation{}, fmt.Errorf("failed to revoke message %s: %w", id, err)
	}
	at := resp.Timestamp.UTC()
	if at.IsZero() {
		at = a.now()
	}
	return incident.Revocation{Outcome: incident.RevokedForEveryone, At: at,
		Detail: fmt.Sprintf("WhatsApp acknowledged the %s as message %s at %s; it gives no confirmation that every recipient applied it.", kind, resp.ID, at.Format(time.RFC3339))}, nil
}

// isGroupAdmin asks WhatsApp whether the linked account administers chat.
func (a *Adapter) isGroupAdmin(ctx context.Context, chat types.JID) (bool, error) {
	info, err := a.cli.GetGroupInfo(ctx, chat)
	if err != nil {
		return false, fmt.Errorf("failed to read group info: %w", err)
	}
	if info == nil {
		return false, nil
	}
	own, lid := a.dev.GetJID(), a.dev.GetLID()
	for _, p := range info.Participants {
		if !p.IsAdmin && !p.IsSuperAdmin {
			continue
		}
		for _, j := range []types.JID{p.JID, p.PhoneNumber, p.LID} {
			if j.IsEmpty() {
				continue
			}
			if (!own.IsEmpty() && j.User == own.User && j.Server == own.Server) || (!lid.IsEmpty() && j.User == lid.User && j.Server == lid.Server) {
				return true, nil
			}
		}
	}
	return false, nil
}

// isRateLimit recognises WhatsApp's 429 answers.
func isRateLimit(err error) bool {
	var iq *whatsmeow.IQError
	if errors.As(err, &iq) && iq.Code == 429 {
		return true
	}
	return errors.Is(err, whatsmeow.ErrIQRateOverLimit) || strings.Contains(err.Error(), "rate-overlimit")
}
