package wa

import (
	"errors"
	"testing"
	"time"

	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"
)

// replayedStar is a star as a full sync or a recovery dispatches it: set
// on the phone at setAt.
func replayedStar(id string, setAt time.Time) *events.Star {
	s := star(youthLID, types.EmptyJID, id, false, true)
	s.FromFullSync, s.Timestamp = true, setAt
	return s
}

func TestStarSetDuringAStalledSyncFlagsLateAfterRecovery(t *testing.T) {
	e := newEnv(t)
	e.handle(&events.PairSuccess{ID: ownDev, LID: ownLID, Platform: "smba"}) // linked at t0
	// The first full sync after linking replays stars set before: none flags.
	e.handle(replayedStar("3A00000000000000P0", t0.Add(-time.Hour)))
	if n := len(e.incidents()); n != 0 {
		t.Fatalf("incidents = %d after the first sync, want 0", n)
	}
	e.clock.Advance(99 * time.Hour)
	e.handle(received("3A00000000000000P1", textMessage(secretText)))
	e.handle(star(youthLID, types.EmptyJID, "3A00000000000000P1", false, true)) // seen live
	e.handle(received("3A00000000000000P2", imageMessage()))

	// regular_high stops syncing: a full sync first, as the bridge does…
	e.handle(&events.AppStateSyncError{Name: appstate.WAPatchRegularHigh, Error: errors.New("mismatching LTHash")})
	e.ad.bg.Wait()
	if len(e.cli.fetches) != 1 || e.cli.fetches[0] != (fetchCall{appstate.WAPatchRegularHigh, true}) {
		t.Fatalf("fetches = %+v, want one full sync of regular_high", e.cli.fetches)
	}
	e.handle(&events.AppStateSyncError{Name: appstate.WAPatchRegularHigh, Error: errors.New("mismatching LTHash")})
	e.ad.bg.Wait()
	if len(e.cli.fetches) != 1 {
		t.Fatalf("fetches = %d, want the full sync tried once", len(e.cli.fetches))
	}
	// …and when the full sync fails too, a recovery request to the phone.
	e.handle(&events.AppStateSyncError{Name: appstate.WAPatchRegularHigh, FullSync: true, Error: errors.New("mismatching LTHash")})
	e.handle(&events.AppStateSyncError{Name: appstate.WAPatchRegularHigh, FullSync: true, Error: errors.New("mismatching LTHash")})
	e.ad.bg.Wait()
	if len(e.cli.peer) != 1 {
		t.Fatalf("peer messages = %d, want one recovery request", len(e.cli.peer))
	}
	req := e.cli.peer[0].GetProtocolMessage().GetPeerDataOperationRequestMessage()
	if e.cli.peer[0].GetProtocolMessage().GetType() != waE2E.ProtocolMessage_PEER_DATA_OPERATION_REQUEST_MESSAGE ||
		req.GetPeerDataOperationRequestType() != waE2E.PeerDataOperationRequestType_COMPANION_SYNCD_SNAPSHOT_FATAL_RECOVERY ||
		req.GetSyncdCollectionFatalRecoveryRequest().GetCollectionName() != string(appstate.WAPatchRegularHigh) {
		t.Fatalf("recovery request = %v", e.cli.peer[0])
	}

	// The recovery's copy arrives as a full sync: the star seen live, the
	// one set during the stall, one set before linking and one set longer
	// ago than the capture window.
	stalled := e.clock.Now().Add(-30 * time.Minute)
	e.handle(replayedStar("3A00000000000000P1", e.clock.Now().Add(-time.Hour)))
	e.handle(replayedStar("3A00000000000000P2", stalled))
	e.handle(replayedStar("3A00000000000000P0", t0.Add(-time.Hour)))
	e.handle(replayedStar("3A00000000000000P3", t0.Add(time.Hour)))
	e.handle(&events.AppStateSyncComplete{Name: appstate.WAPatchRegularHigh, Recovery: true})

	got := map[string]bool{}
	for _, inc := range e.incidents() {
		got[inc.Message.ID] = true
		if inc.Message.ID == "3A00000000000000P2" && inc.Message.MediaType != "image/jpeg" {
			t.Fatalf("late incident without its capture: %+v", inc.Message)
		}
	}
	if len(got) != 2 || !got["3A00000000000000P1"] || !got["3A00000000000000P2"] {
		t.Fatalf("incidents for %v, want the live star and the one set during the stall", got)
	}
	late := map[string]string{}
	for _, en := range e.auditEntries("incident.flagged") {
		late[en.Details["message_id"]] = en.Details["late"]
	}
	if late["3A00000000000000P2"] != "true" || late["3A00000000000000P1"] != "" {
		t.Fatalf("late marks = %v, want only the stalled star late", late)
	}

	// Recovered: the next error starts over with a full sync.
	e.handle(&events.AppStateSyncError{Name: appstate.WAPatchRegularHigh, Error: errors.New("again")})
	e.ad.bg.Wait()
	if len(e.cli.fetches) != 2 {
		t.Fatalf("fetches = %d after recovery and a new error, want 2", len(e.cli.fetches))
	}
}
