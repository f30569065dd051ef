package incident

import (
	"context"
	"fmt"
)

// CaptureLoss says what the WhatsApp adapter could not keep. Only codes
// and WhatsApp's message id enter the audit log, never content or
// addresses.
type CaptureLoss struct {
	WorkerID  string // empty when not even that is known (an unreadable fallback entry)
	What      string // "message", "star", "label" or "reaction"
	MessageID string // WhatsApp's id, when known
	Reason    string // a code such as "database_unavailable" or "fallback_failed"
}

// RecordCaptureLost appends "whatsapp.capture_lost" to the audit log for
// the worker's device, in one transaction with note, which is given that
// transaction and records the loss where the worker sees it
// (Tx.NoteCaptureLost). A nil note records the entry
// alone. The actor is System: nobody chose to lose the message.
func (s *Service) RecordCaptureLost(ctx context.Context, l CaptureLoss, note func(ctx context.Context, tx Tx) error) error {
	if l.What == "" || l.Reason == "" {
		return fmt.Errorf("%w: a lost capture needs what was lost and why", ErrInvalidInput)
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		if note != nil {
			if err := note(ctx, tx); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, System, ActionCaptureLost, "", map[string]string{
			"user_id": l.WorkerID, "what": l.What, "message_id": l.MessageID, "reason": l.Reason,
		})
	})
}
