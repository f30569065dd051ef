package wa

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/proto/waServerSync"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident"
)

// TestBuildDeleteForMe checks each case of the delete-for-me index, and
// that whatsmeow's own parser of that index (the one that turns the
// phone's delete-for-me into events.DeleteForMe) reads it back as the
// same message: "0" as participant for one's own messages and in direct
// chats, the sender for received group messages.
func TestBuildDeleteForMe(t *testing.T) {
	e := newEnv(t)
	sentAt := time.Date(2026, 11, 26, 20, 15, 3, 0, time.UTC)
	for _, tc := range []struct {
		name         string
		chat, sender types.JID
		fromMe       bool
		wantIndex    []string
		wantSender   types.JID // what whatsmeow's parser reads back
	}{
		{"received direct message (LID chat)", youthLID, youthLID, false,
			[]string{"deleteMessageForMe", "200000000000002@lid", "MSG1", "0", "0"}, types.EmptyJID},
		{"received direct message (phone-number chat)", youthPN, youthPN, false,
			[]string{"deleteMessageForMe", "4917012345678@s.whatsapp.net", "MSG1", "0", "0"}, types.EmptyJID},
		{"received in a group", groupJID, types.NewADJID(youthPN.User, 0, 3), false,
			[]string{"deleteMessageForMe", "120363000000000001@g.us", "MSG1", "0", "4917012345678@s.whatsapp.net"}, youthPN},
		{"received in a group from a LID", groupJID, youthLID, false,
			[]string{"deleteMessageForMe", "120363000000000001@g.us", "MSG1", "0", "200000000000002@lid"}, youthLID},
		{"own message in a group", groupJID, ownPN, true,
			// whatsmeow's docs: WhatsApp puts "0" for one's own messages.
			[]string{"deleteMessageForMe", "120363000000000001@g.us", "MSG1", "1", "0"}, types.EmptyJID},
		{"own message in a group, own LID", groupJID, ownLID, true,
			[]string{"deleteMessageForMe", "120363000000000001@g.us", "MSG1", "1", "0"}, types.EmptyJID},
		{"own direct message", youthPN, ownPN, true,
			[]string{"deleteMessageForMe", "4917012345678@s.whatsapp.net", "MSG1", "1", "0"}, types.EmptyJID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := BuildDeleteForMe(tc.chat, tc.sender, "MSG1", tc.fromMe, sentAt, true)
			if p.Type != appstate.WAPatchRegularHigh || len(p.Mutations) != 1 {
				t.Fatalf("patch = %+v", p)
			}
			m := p.Mutations[0]
			if !slices.Equal(m.Index, tc.wantIndex) || m.Version != 3 {
				t.Fatalf("index %q version %d, want %q version 3", m.Index, m.Version, tc.wantIndex)
			}
			a := m.Value.GetDeleteMessageForMeAction()
			if a == nil || !a.GetDeleteMedia() || a.GetMessageTimestamp() != sentAt.Unix() {
				t.Fatalf("action = %v", a)
			}
			var evts []any
			//lint:ignore SA1019 whatsmeow's own parser of app-state mutations, run on the built index
			err := e.cli.DangerousInternals().CollectEventsToDispatch(context.Background(), p.Type, []appstate.Mutation{{
				Operation: waServerSync.SyncdMutation_SET, Action: m.Value, Version: m.Version, Index: m.Index}}, false, &evts)
			if err != nil {
				t.Fatal(err)
			}
			var got *events.DeleteForMe
			for _, ev := range evts {
				if d, ok := ev.(*events.DeleteForMe); ok {
					got = d
				}
			}
			if got == nil || got.ChatJID != tc.chat.ToNonAD() || got.MessageID != "MSG1" || got.IsFromMe != tc.fromMe || got.SenderJID != tc.wantSender {
				t.Fatalf("whatsmeow reads the index back as %+v", got)
			}
		})
	}
	if a := BuildDeleteForMe(youthPN, youthPN, "X", false, time.Time{}, false).Mutations[0].Value.GetDeleteMessageForMeAction(); a.MessageTimestamp != nil || a.GetDeleteMedia() {
		t.Fatalf("unknown time must be left out: %v", a)
	}
}

func TestBuildRevokeKeys(t *testing.T) {
	e := newEnv(t)
	own := e.cli.BuildRevoke(youthPN, types.EmptyJID, "MSG2")
	k := own.GetProtocolMessage().GetKey()
	if own.GetProtocolMessage().GetType() != waE2E.ProtocolMessage_REVOKE || !k.GetFromMe() || k.GetRemoteJID() != youthPN.String() ||
		k.GetID() != "MSG2" || k.Participant != nil {
		t.Fatalf("own revoke = %v", own)
	}
	admin := e.cli.BuildRevoke(groupJID, types.NewADJID(youthPN.User, 0, 3), "MSG3")
	k = admin.GetProtocolMessage().GetKey()
	if k.GetFromMe() || k.GetRemoteJID() != groupJID.String() || k.GetParticipant() != youthPN.String() {
		t.Fatalf("admin revoke = %v", admin)
	}
}

func revokeIncident(m incident.MessageRef) incident.Incident {
	return incident.Incident{ID: "inc1", Channel: incident.ChannelWhatsApp, Message: m, State: incident.StateRevoking}
}

func TestRevokeOwnMessageForEveryone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := incident.MessageRef{ID: "MSG4", Chat: youthPN.String(), Sender: ownPN.String(), FromMe: true, SentAt: t0.Add(-DefaultRevokeWindow + RevokeMargin + time.Minute)}
	rev, err := e.ad.Revoke(ctx, revokeIncident(m))
	if err != nil {
		t.Fatal(err)
	}
	if rev.Outcome != incident.RevokedForEveryone || !strings.Contains(rev.Detail, "3EB0REVOKE0001") || !rev.At.Equal(t0.Add(time.Hour)) {
		t.Fatalf("revocation = %+v", rev)
	}
	if len(e.cli.messages) != 1 || len(e.cli.patches) != 0 {
		t.Fatalf("sent %d messages, %d patches", len(e.cli.messages), len(e.cli.patches))
	}
	s := e.cli.messages[0]
	k := s.msg.GetProtocolMessage().GetKey()
	if s.to != youthPN || s.msg.GetProtocolMessage().GetType() != waE2E.ProtocolMessage_REVOKE || !k.GetFromMe() || k.GetID() != "MSG4" {
		t.Fatalf("sent %v to %v", s.msg, s.to)
	}
	// Within the safety margin before WhatsApp's limit only
	// delete-for-me is left, and the detail says why and what now.
	m.SentAt = t0.Add(-DefaultRevokeWindow + RevokeMargin)
	rev, err = e.ad.Revoke(ctx, revokeIncident(m))
	if err != nil || rev.Outcome != incident.DeletedForMe || !strings.Contains(rev.Detail, "60 h") || !strings.Contains(rev.Detail, "1 h earlier") ||
		!strings.Contains(rev.Detail, "keep their copy") {
		t.Fatalf("late revoke = %+v, %v", rev, err)
	}
	if len(e.cli.messages) != 1 {
		t.Fatalf("revoked for everyone inside the safety margin: %d messages", len(e.cli.messages))
	}
	if idx := e.cli.patches[0].Mutations[0].Index; !slices.Equal(idx, []string{"deleteMessageForMe", youthPN.String(), "MSG4", "1", "0"}) {
		t.Fatalf("index = %q", idx)
	}
}

func TestRevokeReceivedDirectMessageDeletesForMe(t *testing.T) {
	e := newEnv(t)
	m := incident.MessageRef{ID: "MSG5", Chat: youthLID.String(), Sender: youthLID.String(), SenderAlt: youthPN.String(), SentAt: t0.Add(-time.Minute)}
	rev, err := e.ad.Revoke(context.Background(), revokeIncident(m))
	if err != nil || rev.Outcome != incident.DeletedForMe || !strings.Contains(rev.Detail, "recipient") {
		t.Fatalf("revocation = %+v, %v", rev, err)
	}
	if len(e.cli.messages) != 0 || len(e.cli.patches) != 1 || e.cli.groupCalls != 0 {
		t.Fatalf("sent %d messages, %d patches, %d group lookups", len(e.cli.messages), len(e.cli.patches), e.cli.groupCalls)
	}
	if idx := e.cli.patches[0].Mutations[0].Index; !slices.Equal(idx, []string{"deleteMessageForMe", youthLID.String(), "MSG5", "0", "0"}) {
		t.Fatalf("index = %q", idx)
	}
}

func TestRevokeInGroupAsAdmin(t *testing.T) {
	recent := t0.Add(-DefaultRevokeWindow + RevokeMargin + time.Minute)
	admin := &types.GroupInfo{Participants: []types.GroupParticipant{{JID: ownPN, PhoneNumber: ownPN, IsAdmin: true}}}
	for _, tc := range []struct {
		name   string
		info   *types.GroupInfo
		err    error
		sentAt time.Time
		want   incident.RevokeOutcome
		detail string
	}{
		{"admin by LID", &types.GroupInfo{Participants: []types.GroupParticipant{
			{JID: youthLID, LID: youthLID, IsAdmin: true},
			{JID: ownLID, LID: ownLID, PhoneNumber: ownPN, IsAdmin: true}}}, nil, recent, incident.RevokedForEveryone, ""},
		{"super admin by phone number", &types.GroupInfo{Participants: []types.GroupParticipant{
			{JID: ownPN, PhoneNumber: ownPN, IsSuperAdmin: true}}}, nil, recent, incident.RevokedForEveryone, ""},
		{"admin past the time limit", admin, nil, t0.Add(-DefaultRevokeWindow + RevokeMargin), incident.DeletedForMe, "administers the group, but the 60 h"},
		{"admin, send time unknown", admin, nil, time.Time{}, incident.DeletedForMe, "send time is unknown"},
		{"member only", &types.GroupInfo{Participants: []types.GroupParticipant{
			{JID: ownLID, LID: ownLID}, {JID: youthLID, IsAdmin: true}}}, nil, recent, incident.DeletedForMe, "only the sender and group admins"},
		{"group not readable", nil, whatsmeow.ErrIQForbidden, recent, incident.DeletedForMe, "only the sender and group admins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.cli.groupInfo, e.cli.groupErr = tc.info, tc.err
			m := incident.MessageRef{ID: "MSG6", Chat: groupJID.String(), Sender: youthLID.String(), SentAt: tc.sentAt}
			rev, err := e.ad.Revoke(context.Background(), revokeIncident(m))
			if err != nil || rev.Outcome != tc.want || !strings.Contains(rev.Detail, tc.detail) {
				t.Fatalf("revocation = %+v, %v; want %s (%q)", rev, err, tc.want, tc.detail)
			}
			if tc.want == incident.RevokedForEveryone {
				k := e.cli.messages[0].msg.GetProtocolMessage().GetKey()
				if k.GetFromMe() || k.GetParticipant() != youthLID.String() || e.cli.messages[0].to != groupJID {
					t.Fatalf("admin revoke key = %v", k)
				}
			} else if idx := e.cli.patches[0].Mutations[0].Index; idx[4] != youthLID.String() {
				t.Fatalf("delete-for-me index = %q", idx)
			}
		})
	}
}

func TestRevokeBacksOffOnRateLimit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	inc := revokeIncident(incident.MessageRef{ID: "MSG7", Chat: youthPN.String(), Sender: youthPN.String()})
	e.cli.patchErr = whatsmeow.ErrIQRateOverLimit
	if _, err := e.ad.Revoke(ctx, inc); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("rate-limited revoke: %v, want ErrRateLimited", err)
	}
	e.cli.patchErr = nil
	if _, err := e.ad.Revoke(ctx, inc); !errors.Is(err, ErrRateLimited) || len(e.cli.patches) != 0 {
		t.Fatalf("revoke during back-off: %v, %d patches sent", err, len(e.cli.patches))
	}
	e.clock.Advance(minBackoff)
	if rev, err := e.ad.Revoke(ctx, inc); err != nil || rev.Outcome != incident.DeletedForMe {
		t.Fatalf("revoke after back-off: %+v, %v", rev, err)
	}
	// Other failures are returned for the job to retry, without back-off.
	e.cli.patchErr = errors.New("no app state keys found, creating app state keys is not yet supported")
	if _, err := e.ad.Revoke(ctx, inc); err == nil || errors.Is(err, ErrRateLimited) {
		t.Fatalf("failed patch: %v", err)
	}
	e.cli.patchErr = nil
	if _, err := e.ad.Revoke(ctx, inc); err != nil {
		t.Fatal(err)
	}
}

// serialClient fails the test if two sends overlap.
type serialClient struct {
	*netClient
	mu       sync.Mutex
	inflight int
	overlap  bool
}

func (c *serialClient) SendAppState(ctx context.Context, p appstate.PatchInfo) error {
	c.mu.Lock()
	c.inflight++
	c.overlap = c.overlap || c.inflight > 1
	c.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	c.mu.Lock()
	c.inflight--
	c.mu.Unlock()
	return c.netClient.SendAppState(ctx, p)
}

func TestRevokesAreSerialized(t *testing.T) {
	e := newEnv(t)
	sc := &serialClient{netClient: e.cli}
	e.ad.cli = sc
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inc := revokeIncident(incident.MessageRef{ID: "MSG8" + string(rune('a'+i)), Chat: youthPN.String(), Sender: youthPN.String()})
			if _, err := e.ad.Revoke(context.Background(), inc); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if sc.overlap || len(e.cli.patches) != 8 {
		t.Fatalf("overlap %v, %d patches", sc.overlap, len(e.cli.patches))
	}
}

func TestRevokeWithoutUsableChat(t *testing.T) {
	e := newEnv(t)
	rev, err := e.ad.Revoke(context.Background(), revokeIncident(incident.MessageRef{ID: "MSG9", Chat: ""}))
	if err != nil || rev.Outcome != incident.RevokeNotPossible {
		t.Fatalf("revocation = %+v, %v", rev, err)
	}
}

// TestRevokeOwnGroupMessagePastLimit: an own group message past the
// revoke limit is deleted for the linked account with "0" as participant
// (whatsmeow's docs), not the account's own address.
func TestRevokeOwnGroupMessagePastLimit(t *testing.T) {
	e := newEnv(t)
	m := incident.MessageRef{ID: "MSGA", Chat: groupJID.String(), Sender: ownLID.String(), FromMe: true, SentAt: t0.Add(-DefaultRevokeWindow)}
	rev, err := e.ad.Revoke(context.Background(), revokeIncident(m))
	if err != nil || rev.Outcome != incident.DeletedForMe {
		t.Fatalf("revocation = %+v, %v", rev, err)
	}
	if e.cli.groupCalls != 0 || len(e.cli.messages) != 0 {
		t.Fatalf("%d group lookups, %d messages for an own message", e.cli.groupCalls, len(e.cli.messages))
	}
	if idx := e.cli.patches[0].Mutations[0].Index; !slices.Equal(idx, []string{"deleteMessageForMe", groupJID.String(), "MSGA", "1", "0"}) {
		t.Fatalf("index = %q", idx)
	}
}

// TestDeleteForMeUsesThePhonesChatForm: a message that arrived in one
// address form and was starred on the phone in the other is deleted
// under the phone's form.
func TestDeleteForMeUsesThePhonesChatForm(t *testing.T) {
	for _, tc := range []struct {
		name             string
		arrived, starred types.JID
	}{
		{"arrived by phone number, starred by LID", youthPN, youthLID},
		{"arrived by LID, starred by phone number", youthLID, youthPN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			if err := e.devices.LIDMap.PutLIDMapping(ctx, youthLID, youthPN); err != nil {
				t.Fatal(err)
			}
			evt := received("3A00000000000000C1", textMessage(secretText))
			evt.Info.Chat, evt.Info.Sender = tc.arrived, tc.arrived
			e.handle(evt)
			e.handle(star(tc.starred, types.EmptyJID, "3A00000000000000C1", false, true))
			list := e.incidents()
			if len(list) != 1 {
				t.Fatalf("incidents = %d", len(list))
			}
			if _, err := e.ad.Revoke(ctx, list[0]); err != nil {
				t.Fatal(err)
			}
			if idx := e.cli.patches[0].Mutations[0].Index; idx[1] != tc.starred.String() || idx[4] != "0" {
				t.Fatalf("index = %q, want the chat as %s", idx, tc.starred)
			}
		})
	}
}
