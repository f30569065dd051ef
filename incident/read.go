package incident

import (
	"context"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// Incident returns one incident the actor may see.
func (s *Service) Incident(ctx context.Context, a Actor, id string) (Incident, error) {
	if err := knownID("incident", id); err != nil {
		return Incident{}, err
	}
	var inc Incident
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		inc, err = visibleIncident(ctx, tx, a, id)
		return err
	})
	return inc, err
}

// Incidents lists what the actor may see: a worker their own, supervisors
// and auditors all. Admins see none: they manage the system, not cases.
func (s *Service) Incidents(ctx context.Context, a Actor, f IncidentFilter) ([]Incident, error) {
	switch a.Role {
	case RoleWorker:
		f.ReporterID = a.ID
	case RoleSupervisor, RoleAuditor:
	default:
		return nil, requireRole(a, RoleWorker, RoleSupervisor, RoleAuditor)
	}
	var out []Incident
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Incidents(ctx, f)
		return err
	})
	return out, err
}

// Steps returns an incident's deletion walkthrough.
func (s *Service) Steps(ctx context.Context, a Actor, incidentID string) ([]Step, error) {
	if err := knownID("incident", incidentID); err != nil {
		return nil, err
	}
	var out []Step
	err := s.store.View(ctx, func(tx Tx) error {
		if _, err := visibleIncident(ctx, tx, a, incidentID); err != nil {
			return err
		}
		var err error
		out, err = tx.Steps(ctx, incidentID)
		return err
	})
	return out, err
}

// Requests lists requests: supervisors and auditors all, workers those of
// their own incidents.
func (s *Service) Requests(ctx context.Context, a Actor, f RequestFilter) ([]Request, error) {
	if err := requireRole(a, RoleWorker, RoleSupervisor, RoleAuditor); err != nil {
		return nil, err
	}
	if f.IncidentID != "" && knownID("incident", f.IncidentID) != nil {
		return []Request{}, nil // no incident has that id, so no request either
	}
	var out []Request
	err := s.store.View(ctx, func(tx Tx) error {
		all, err := tx.Requests(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range all {
			if a.Role == RoleWorker {
				if _, err := visibleIncident(ctx, tx, a, r.IncidentID); err != nil {
					continue
				}
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// Trail returns the audit entries of one incident (auditors and
// supervisors), or of a time range when f.IncidentID is empty (auditors).
func (s *Service) Trail(ctx context.Context, a Actor, f AuditFilter) ([]audit.Entry, error) {
	if f.IncidentID == "" {
		if err := requireRole(a, RoleAuditor); err != nil {
			return nil, err
		}
	} else if err := requireRole(a, RoleAuditor, RoleSupervisor); err != nil {
		return nil, err
	}
	var out []audit.Entry
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.AuditEntries(ctx, f)
		return err
	})
	return out, err
}

// VerifyAudit checks the whole audit log against the store's head and the
// given checkpoints.
func (s *Service) VerifyAudit(ctx context.Context, checkpoints ...tlog.Tree) (audit.Result, error) {
	head, err := s.store.AuditHead(ctx)
	if err != nil {
		return audit.Result{}, err
	}
	return audit.Verify(ctx, s.store.AuditSource(head.Seq), head, checkpoints...)
}

// Detail is everything an incident page shows, read in one transaction.
type Detail struct {
	Incident Incident
	Steps    []Step
	Requests []Request
	// Trail is set for auditors and supervisors, and People names the
	// accounts acting in it.
	Trail  []audit.Entry
	People map[string]Person
}

// IncidentDetail reads an incident the actor may see with its steps,
// requests and (for auditors and supervisors) audit trail, consistently
// and in one transaction.
func (s *Service) IncidentDetail(ctx context.Context, a Actor, id string) (Detail, error) {
	if err := knownID("incident", id); err != nil {
		return Detail{}, err
	}
	var d Detail
	err := s.store.View(ctx, func(tx Tx) (err error) {
		d, err = readDetail(ctx, tx, a, id, a.Role == RoleAuditor || a.Role == RoleSupervisor)
		return err
	})
	if err != nil {
		return Detail{}, err
	}
	return d, nil
}

// readDetail reads an incident the actor may see, its steps and requests,
// and with trail its audit trail and the people acting in it.
func readDetail(ctx context.Context, tx Tx, a Actor, id string, trail bool) (d Detail, err error) {
	if d.Incident, err = visibleIncident(ctx, tx, a, id); err != nil {
		return Detail{}, err
	}
	if d.Steps, err = tx.Steps(ctx, id); err != nil {
		return Detail{}, err
	}
	if d.Requests, err = tx.Requests(ctx, RequestFilter{IncidentID: id}); err != nil {
		return Detail{}, err
	}
	if !trail {
		return d, nil
	}
	if d.Trail, err = tx.AuditEntries(ctx, AuditFilter{IncidentID: id}); err != nil {
		return Detail{}, err
	}
	if d.People, err = people(ctx, tx, d.Trail); err != nil {
		return Detail{}, err
	}
	return d, nil
}
