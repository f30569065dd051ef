package incident

import (
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/policies"
)

// State is where an incident stands in the flow of DESIGN.md.
type State string

const (
	// StateFlagged: flagged on the phone, waiting for the worker to
	// categorise and describe it.
	StateFlagged State = "flagged"
	// StateAwaitingApproval: a secure request waits for four-eyes approval.
	StateAwaitingApproval State = "awaiting_approval"
	// StateSecuring: the secure job is queued or running.
	StateSecuring State = "securing"
	// StateRevoking: secured (or not to be secured); the revoke job is
	// queued or running.
	StateRevoking State = "revoking"
	// StateWalkthrough: the worker works through the deletion steps.
	StateWalkthrough State = "walkthrough"
	// StateClosed: every deletion step is confirmed or marked impossible.
	StateClosed State = "closed"
)

// transitions is the state machine: from → allowed next states.
var transitions = map[State][]State{
	StateFlagged:          {StateAwaitingApproval, StateSecuring, StateRevoking},
	StateAwaitingApproval: {StateSecuring, StateRevoking, StateFlagged},
	StateSecuring:         {StateRevoking, StateFlagged},
	StateRevoking:         {StateWalkthrough},
	StateWalkthrough:      {StateClosed},
	StateClosed:           nil,
}

// CanTransition reports whether the flow allows moving from one state to another.
func CanTransition(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Channel is how the incident reached Tresor.
type Channel string

const (
	ChannelWhatsApp Channel = "whatsapp" // flagged on the phone or picked from recent messages
	ChannelUpload   Channel = "upload"   // a file received on another channel
)

// EvidenceDecision records whether the incident's evidence is in the vault.
type EvidenceDecision string

const (
	EvidencePending    EvidenceDecision = ""            // not decided yet
	EvidenceSecured    EvidenceDecision = "secured"     // a bundle is in the vault
	EvidenceNotSecured EvidenceDecision = "not_secured" // a supervisor rejected securing
)

// MessageRef identifies the flagged message without its content.
type MessageRef struct {
	ID         string    // WhatsApp message id, or the upload's id
	Chat       string    // chat JID
	Sender     string    // sender JID (phone-number or LID address)
	SenderAlt  string    // the sender's other address form, when known
	FromMe     bool      // sent by the worker's own account
	SentAt     time.Time // when WhatsApp says it was sent
	MediaType  string    // e.g. image/jpeg; empty for text
	FileName   string    // the name the sender gave, if any
	FileSHA256 string    // WhatsApp's own hash of the media, when known
	Size       int64     // media size in bytes, when known

	// Seen is how the worker described the message by hand, as WhatsApp
	// shows it to them, when they could not pick it from the capture
	// (no linked device). It is metadata like the rest: it stays on the
	// incident and never enters the audit log.
	Seen SeenMessage
}

// SeenMessage describes a message as its recipient sees it in WhatsApp,
// which shows no message ids: the chat's name or number, when it arrived
// and what kind of message it was.
type SeenMessage struct {
	Chat       string      // the chat's name or number as shown
	ReceivedAt time.Time   // as shown next to the message
	Kind       MessageKind // what the message was
}

// Described reports whether the message was described by hand.
func (m MessageRef) Described() bool { return m.Seen.Chat != "" }

// MessageKind is the kind of a message as people see it.
type MessageKind string

// The kinds a worker can tell a message apart by.
const (
	KindPhoto    MessageKind = "photo"
	KindVideo    MessageKind = "video"
	KindVoice    MessageKind = "voice"
	KindAudio    MessageKind = "audio"
	KindDocument MessageKind = "document"
	KindText     MessageKind = "text"
	KindOther    MessageKind = "other"
)

// MessageKinds lists every kind, in display order.
var MessageKinds = []MessageKind{KindPhoto, KindVideo, KindVoice, KindAudio, KindDocument, KindText, KindOther}

// Receipt is the vault's proof that a bundle was sealed.
type Receipt struct {
	BundleID         string
	CiphertextSHA256 string
	CiphertextSize   int64
	ManifestSHA256   string
	Recipients       []string
	MetadataOnly     bool
	// WhatsAppHashMismatch: media were sealed although their content
	// differs from the file hash WhatsApp stated (the policy's
	// MediaHashMismatch is seal); the manifest records both hashes.
	WhatsAppHashMismatch bool
	SealedAt             time.Time
}

// Revocation is what happened when Tresor deleted the message on WhatsApp.
type Revocation struct {
	Outcome RevokeOutcome
	Detail  string // the server's answer or why nothing could be done
	At      time.Time
}

// RevokeOutcome classifies a deletion attempt on WhatsApp.
type RevokeOutcome string

const (
	RevokedForEveryone RevokeOutcome = "revoked_for_everyone"
	DeletedForMe       RevokeOutcome = "deleted_for_me"
	RevokeNotPossible  RevokeOutcome = "not_possible"   // e.g. no linked device; the walkthrough covers it
	RevokeLeftToWorker RevokeOutcome = "left_to_worker" // the policy leaves deletion to the walkthrough
)

// Incident is one flagged message and everything done about it.
type Incident struct {
	ID          string
	Category    string // a policies.Category id; empty while flagged
	Channel     Channel
	ReporterID  string
	Platform    policies.Platform // the worker's phone platform, for the walkthrough
	Message     MessageRef
	Description string
	State       State
	Securing    policies.SecuringMode

	Evidence         EvidenceDecision
	Receipt          *Receipt // set when Evidence is EvidenceSecured
	NotSecuredReason string
	Revocation       *Revocation

	// NotCaptured says why Tresor has only the metadata of the message
	// ("" when it was captured); Choice is what the worker decided then.
	NotCaptured CaptureGap
	Choice      UncapturedChoice

	RetentionUntil *time.Time // when the bundle is due for destruction
	LegalHold      bool
	DestroyedAt    *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
	// Version increases with every update; the store refuses an update
	// whose Version is stale (ErrConflict).
	Version int64
}

// moveTo changes the state if the flow allows it.
func (inc *Incident) moveTo(to State) error {
	if !CanTransition(inc.State, to) {
		return fmt.Errorf("%w: incident %s cannot go from %s to %s", ErrInvalidTransition, inc.ID, inc.State, to)
	}
	inc.State = to
	return nil
}

// mayRevoke enforces the invariant that nothing is deleted on WhatsApp
// before the evidence is secured or a decision not to secure it exists.
func (inc *Incident) mayRevoke() error {
	switch inc.Evidence {
	case EvidenceSecured:
		if inc.Receipt == nil {
			return fmt.Errorf("%w: incident %s has no receipt", ErrNotSecured, inc.ID)
		}
		return nil
	case EvidenceNotSecured:
		return nil
	default:
		return fmt.Errorf("%w: incident %s", ErrNotSecured, inc.ID)
	}
}

// visibleTo says whether an actor may read the incident.
func (inc *Incident) visibleTo(a Actor) bool {
	switch a.Role {
	case RoleSupervisor, RoleAuditor:
		return true
	case RoleWorker:
		return inc.ReporterID == a.ID
	default:
		return a.ID == System.ID
	}
}
