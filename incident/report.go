package incident

import (
	"context"
	"strconv"
)

// ExportReport is the format an [ActionAuditExported] entry names for the
// printable deletion-trail report of one incident.
const ExportReport = "report"

// IncidentReport reads everything the printable deletion-trail report of
// one incident shows (auditors only) and records in the same transaction
// that it was handed out, as an export in format "report": like every
// export, no report leaves the system unrecorded.
func (s *Service) IncidentReport(ctx context.Context, a Actor, id string) (Detail, error) {
	if err := requireRole(a, RoleAuditor); err != nil {
		return Detail{}, err
	}
	var d Detail
	err := s.store.Tx(ctx, func(tx Tx) error {
		var err error
		if d, err = readDetail(ctx, tx, a, id, true); err != nil {
			return err
		}
		return s.record(ctx, tx, a, ActionAuditExported, id, map[string]string{"format": ExportReport, "entries": strconv.Itoa(len(d.Trail))})
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}
