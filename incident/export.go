package incident

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// RecordExport appends to the audit log that an auditor exported the trail
// selected by f, in format, with count entries. It runs in its own
// transaction; callers hand the export out only once it returned nil, so
// that no export leaves the system unrecorded.
func (s *Service) RecordExport(ctx context.Context, a Actor, f AuditFilter, format string, count int) error {
	if err := requireRole(a, RoleAuditor); err != nil {
		return err
	}
	switch format {
	case "csv", "jsonl", "json":
	default:
		return fmt.Errorf("%w: unknown export format %q", ErrInvalidInput, format)
	}
	if count < 0 {
		return fmt.Errorf("%w: negative entry count", ErrInvalidInput)
	}
	details := map[string]string{"format": format, "entries": strconv.Itoa(count)}
	for k, t := range map[string]time.Time{"from": f.From, "to": f.To} {
		if !t.IsZero() {
			details[k] = t.UTC().Format(time.RFC3339Nano)
		}
	}
	return s.store.Tx(ctx, func(tx Tx) error {
		if f.IncidentID != "" {
			if _, err := visibleIncident(ctx, tx, a, f.IncidentID); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, ActionAuditExported, f.IncidentID, details)
	})
}
