package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tresor-evidence/tresor/policies"
)

// MaxDescription bounds the worker's description, in bytes.
const MaxDescription = 4000

// FlagInput is what a worker tells Tresor about a message. Category,
// Description and Platform may be empty when the flag comes from the phone;
// the worker completes them later with Submit.
type FlagInput struct {
	Channel     Channel
	Message     MessageRef
	Category    string
	Description string
	Platform    policies.Platform
	// Late marks a flag set on the phone while WhatsApp's sync with Tresor
	// was stuck, which reached Tresor only when the sync recovered; the
	// audit entry says so.
	Late bool
	// NotCaptured is set by the messenger adapter when it holds no copy
	// of the message's content; the worker then chooses (SubmitInput.Choice).
	NotCaptured CaptureGap
}

// SubmitInput completes a flagged incident.
type SubmitInput struct {
	Category    string
	Description string
	Platform    policies.Platform
	// Choice is required when the message was not captured (and refused
	// otherwise); Reason says why, for ChoiceNotSecurable.
	Choice UncapturedChoice
	Reason string
}

// Flag opens an incident for the acting worker. With a category it is
// submitted at once (see Submit); without, it waits in StateFlagged.
// Flagging the same WhatsApp message twice returns ErrDuplicate.
func (s *Service) Flag(ctx context.Context, a Actor, in FlagInput) (Incident, error) {
	if err := requireRole(a, RoleWorker, RoleSupervisor); err != nil {
		return Incident{}, err
	}
	switch in.Channel {
	case ChannelWhatsApp, ChannelUpload:
	default:
		return Incident{}, fmt.Errorf("%w: unknown channel %q", ErrInvalidInput, in.Channel)
	}
	if in.Message.Described() {
		seen, err := s.checkSeen(in.Message.Seen)
		if err != nil {
			return Incident{}, err
		}
		in.Message.Seen = seen
	} else if strings.TrimSpace(in.Message.ID) == "" {
		return Incident{}, fmt.Errorf("%w: the message id is missing; describe the message instead", ErrInvalidInput)
	}
	if in.Message.ID != "" {
		if err := checkMessageID(in.Message.ID); err != nil {
			return Incident{}, err
		}
	}
	if err := checkFileHash(in.Message.FileSHA256); err != nil {
		return Incident{}, err
	}
	if !in.NotCaptured.valid() || (in.NotCaptured != "" && in.Channel != ChannelWhatsApp) {
		return Incident{}, fmt.Errorf("%w: capture gap %q", ErrInvalidInput, in.NotCaptured)
	}
	id, err := s.newID()
	if err != nil {
		return Incident{}, err
	}
	if strings.TrimSpace(in.Message.ID) == "" {
		// A described message has no WhatsApp id: Tresor cannot delete
		// it on WhatsApp, and the walkthrough covers it.
		in.Message.ID = describedIDPrefix + id
	}
	now := s.now()
	inc := Incident{
		ID: id, Channel: in.Channel, ReporterID: a.ID, Message: in.Message,
		State: StateFlagged, NotCaptured: in.NotCaptured, CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		if err := tx.CreateIncident(ctx, &inc); err != nil {
			return fmt.Errorf("failed to create incident: %w", err)
		}
		details := map[string]string{"channel": string(in.Channel), "message_id": in.Message.ID, "file_sha256": in.Message.FileSHA256}
		if in.Late {
			details["late"] = "true"
		}
		if in.NotCaptured != "" {
			details["not_captured"] = string(in.NotCaptured)
		}
		if err := s.record(ctx, tx, a, ActionIncidentFlagged, inc.ID, details); err != nil {
			return err
		}
		if in.Category == "" || in.NotCaptured != "" {
			// Without a capture the worker first sees what Tresor has.
			return nil
		}
		return s.submit(ctx, tx, a, &inc, SubmitInput{Category: in.Category, Description: in.Description, Platform: in.Platform})
	})
	if err != nil {
		return Incident{}, err
	}
	return inc, nil
}

// Submit categorises and describes a flagged incident and starts securing:
// with a secure request when the category needs approval, else at once.
func (s *Service) Submit(ctx context.Context, a Actor, id string, in SubmitInput) (Incident, error) {
	if err := knownID("incident", id); err != nil {
		return Incident{}, err
	}
	var inc Incident
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if inc, err = visibleIncident(ctx, tx, a, id); err != nil {
			return err
		}
		if inc.ReporterID != a.ID {
			return fmt.Errorf("%w: only the reporter completes a flagged incident", ErrForbidden)
		}
		return s.submit(ctx, tx, a, &inc, in)
	})
	if err != nil {
		return Incident{}, err
	}
	return inc, nil
}

func (s *Service) submit(ctx context.Context, tx Tx, a Actor, inc *Incident, in SubmitInput) error {
	if inc.State != StateFlagged {
		return fmt.Errorf("%w: incident %s is %s, not flagged", ErrInvalidTransition, inc.ID, inc.State)
	}
	cat, err := s.policy.Category(in.Category)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	if inc.Receipt != nil {
		// An uploaded file is sealed on arrival: it may only go on under a
		// category that allows keeping content, and only while it exists.
		if cat.Securing != policies.SecureContent {
			return fmt.Errorf("%w: category %q; report it again without the file", ErrContentForbidden, cat.ID)
		}
		if !inc.staged() {
			return fmt.Errorf("%w: the uploaded file of incident %s was removed; report it again", ErrInvalidTransition, inc.ID)
		}
	}
	if _, err := s.policy.Steps(in.Platform); err != nil {
		return fmt.Errorf("%w: platform %q: %w", ErrInvalidInput, in.Platform, err)
	}
	desc := strings.TrimSpace(in.Description)
	if len(desc) > MaxDescription {
		return fmt.Errorf("%w: the description is longer than %d bytes", ErrInvalidInput, MaxDescription)
	}
	inc.Category, inc.Description, inc.Platform, inc.Securing = cat.ID, desc, in.Platform, cat.Securing
	if err := inc.applyChoice(cat, in); err != nil {
		return err
	}
	details := map[string]string{"category": cat.ID, "platform": string(in.Platform), "securing": string(inc.Securing)}
	if inc.Choice != "" {
		details["choice"] = string(inc.Choice)
	}
	if inc.NotSecuredReason != "" {
		details["reason_sha256"] = digest(inc.NotSecuredReason)
	}
	if inc.Choice == ChoiceNotSecurable && !cat.RequireApproval {
		// Nothing to secure and nobody to ask: the decision is the
		// worker's, on the record, and the deletion goes on.
		if err := s.record(ctx, tx, a, ActionIncidentSubmitted, inc.ID, details); err != nil {
			return err
		}
		return s.markNotSecured(ctx, tx, a, inc, map[string]string{"choice": string(inc.Choice), "reason_sha256": digest(inc.NotSecuredReason)})
	}
	if cat.RequireApproval {
		if err := inc.moveTo(StateAwaitingApproval); err != nil {
			return err
		}
	} else if err := inc.moveTo(StateSecuring); err != nil {
		return err
	}
	inc.UpdatedAt = s.now()
	if err := tx.UpdateIncident(ctx, inc); err != nil {
		return fmt.Errorf("failed to update incident: %w", err)
	}
	if err := s.record(ctx, tx, a, ActionIncidentSubmitted, inc.ID, details); err != nil {
		return err
	}
	if cat.RequireApproval {
		_, err := s.openRequest(ctx, tx, a, inc, Request{Kind: RequestSecure, RequiredApprovals: s.policy.ApprovalsFor(cat)})
		return err
	}
	return s.enqueue(ctx, tx, secureJob(inc))
}

// enqueue adds a job due now unless RunAt is set.
func (s *Service) enqueue(ctx context.Context, tx Tx, j Job) error {
	if j.RunAt.IsZero() {
		j.RunAt = s.now()
	}
	j.State, j.CreatedAt = JobPending, s.now()
	if err := tx.Enqueue(ctx, j); err != nil && !errors.Is(err, ErrDuplicate) {
		return fmt.Errorf("failed to enqueue %s: %w", j.Key, err)
	}
	return nil
}

// describedIDPrefix starts the message id Tresor gives a message the
// worker described by hand.
const describedIDPrefix = "described-"

// maxSeenChat bounds the chat name or number a worker types, in bytes.
const maxSeenChat = 200

// checkSeen validates a message described by hand: a chat name or number
// without control characters, a time received that is not in the future
// (an hour of slack for a phone's clock) and a known kind, if any.
func (s *Service) checkSeen(m SeenMessage) (SeenMessage, error) {
	m.Chat = strings.TrimSpace(m.Chat)
	switch {
	case m.Chat == "":
		return m, fmt.Errorf("%w: name the chat as WhatsApp shows it", ErrInvalidInput)
	case len(m.Chat) > maxSeenChat || strings.ContainsFunc(m.Chat, unicode.IsControl) || !utf8.ValidString(m.Chat):
		return m, fmt.Errorf("%w: the chat name must be one line of at most %d bytes", ErrInvalidInput, maxSeenChat)
	case m.ReceivedAt.IsZero():
		return m, fmt.Errorf("%w: say when the message was received", ErrInvalidInput)
	case m.ReceivedAt.After(s.now().Add(time.Hour)):
		return m, fmt.Errorf("%w: the time received lies in the future", ErrInvalidInput)
	case m.Kind != "" && !slices.Contains(MessageKinds, m.Kind):
		return m, fmt.Errorf("%w: unknown kind of message %q", ErrInvalidInput, m.Kind)
	}
	m.ReceivedAt = m.ReceivedAt.UTC()
	return m, nil
}
