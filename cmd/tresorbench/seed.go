package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/policies"
)

// Who signs in during the load phase.
const (
	workerName  = "fachkraft01"
	auditorName = "pruefung"
	benchPass   = "tresorbench correct horse battery"
)

// database is a fresh, migrated store and how to get rid of it.
type database struct {
	store   *sqlstore.Store
	cleanup func() error
	where   string
}

// openDatabase makes an empty database: a SQLite file in a temporary
// folder, or a new schema in the PostgreSQL database at pgURL.
func openDatabase(ctx context.Context, kind, pgURL string, keep bool) (*database, error) {
	var dbURL, where string
	var drop func() error
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "tresorbench-")
		if err != nil {
			return nil, err
		}
		where = filepath.Join(dir, "tresor.db")
		dbURL = "sqlite:" + where
		drop = func() error {
			if keep {
				return nil
			}
			return os.RemoveAll(dir)
		}
	case "postgres":
		var b [6]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		schema := "tresorbench_" + hex.EncodeToString(b[:])
		admin, err := gorm.Open(postgres.Open(pgURL), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		if err := admin.WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
			return nil, fmt.Errorf("postgres: %w", err)
		}
		drop = func() error {
			err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error
			if db, derr := admin.DB(); derr == nil {
				_ = db.Close()
			}
			return err
		}
		u, err := url.Parse(pgURL)
		if err != nil {
			return nil, fmt.Errorf("postgres url: %w", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dbURL, where = u.String(), "schema "+schema
	}
	s, err := sqlstore.Open(ctx, dbURL, sqlstore.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := s.Migrate(ctx, time.Now()); err != nil {
		_ = s.Close()
		return nil, err
	}
	return &database{store: s, where: where, cleanup: func() error {
		err := s.Close()
		if derr := drop(); err == nil {
			err = derr
		}
		return err
	}}, nil
}

// seeded is what the load phase needs to know about the data.
type seeded struct {
	mine []string // the signed-in worker's incident ids
	all  []string // every incident id
}

// seed adds the users, then the incidents with their request, decision,
// walkthrough steps and audit entries, in batches of one transaction
// each. Incidents go back a year; the signed-in worker has o.mine of them.
func seed(ctx context.Context, s *sqlstore.Store, svc *incident.Service, pol *policies.Policy, o options) (seeded, error) {
	var out seeded
	workers := make([]incident.User, 20)
	for i := range workers {
		u, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: fmt.Sprintf("fachkraft%02d", i+1), Role: incident.RoleWorker, Password: benchPass})
		if err != nil {
			return out, err
		}
		workers[i] = u
	}
	sup, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: "leitung1", Role: incident.RoleSupervisor, Password: benchPass})
	if err != nil {
		return out, err
	}
	if _, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: auditorName, Role: incident.RoleAuditor, Password: benchPass}); err != nil {
		return out, err
	}

	var platforms []policies.Platform
	for _, g := range pol.Platforms() {
		platforms = append(platforms, g.ID)
	}
	var cats []policies.Category
	for _, c := range pol.Categories {
		if c.Securing == policies.SecureContent {
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		return out, fmt.Errorf("the policy has no category that secures content")
	}
	perIncident := o.audit / o.incidents
	extra := o.audit % o.incidents
	start := time.Now().UTC().Add(-365 * 24 * time.Hour).Truncate(time.Microsecond)
	step := 365 * 24 * time.Hour / time.Duration(o.incidents)
	const batch = 250
	for first := 0; first < o.incidents; first += batch {
		last := min(first+batch, o.incidents)
		err := s.Tx(ctx, func(tx incident.Tx) error {
			for i := first; i < last; i++ {
				// Every tenth incident belongs to the signed-in worker
				// until they have o.mine; the rest go round the others.
				reporter := workers[1+i%(len(workers)-1)]
				if len(out.mine) < o.mine && (i%(o.incidents/o.mine) == 0 || o.incidents-i <= o.mine-len(out.mine)) {
					reporter = workers[0]
				}
				n := perIncident
				if i < extra {
					n++
				}
				id, err := seedIncident(ctx, tx, pol, reporter, sup, cats[i%len(cats)], platforms[i%len(platforms)], i, start.Add(time.Duration(i)*step), n)
				if err != nil {
					return err
				}
				if reporter.ID == workers[0].ID {
					out.mine = append(out.mine, id)
				}
				out.all = append(out.all, id)
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("seeding incidents %d–%d: %w", first, last, err)
		}
	}
	return out, nil
}

// seedIncident writes one incident as the workflow leaves it: most are
// closed, some in the walkthrough, a few wait for approval. It appends
// nAudit entries for it.
func seedIncident(ctx context.Context, tx incident.Tx, pol *policies.Policy, reporter, sup incident.User, cat policies.Category,
	pl policies.Platform, i int, at time.Time, nAudit int) (string, error) {
	id := randomID()
	state := incident.StateClosed
	switch i % 10 {
	case 7, 8:
		state = incident.StateWalkthrough
	case 9:
		state = incident.StateAwaitingApproval
	}
	inc := incident.Incident{ID: id, Category: cat.ID, Channel: incident.ChannelWhatsApp, ReporterID: reporter.ID, Platform: pl,
		Message: incident.MessageRef{ID: fmt.Sprintf("wamid.bench.%08d", i), Chat: "491700000000@s.whatsapp.net", Sender: "491711111111@s.whatsapp.net",
			SentAt: at.Add(-time.Hour), MediaType: "image/jpeg", FileSHA256: randomID() + randomID(), Size: 184320},
		Description: "Bild einer Prügelei, weitergeleitet in der Gruppe", State: state, Securing: cat.Securing,
		CreatedAt: at, UpdatedAt: at.Add(2 * time.Hour)}
	if state != incident.StateAwaitingApproval {
		retention := at.Add(180 * 24 * time.Hour)
		inc.Evidence, inc.RetentionUntil = incident.EvidenceSecured, &retention
		inc.Receipt = &incident.Receipt{BundleID: id, CiphertextSHA256: randomID() + randomID(), CiphertextSize: 190000,
			ManifestSHA256: randomID() + randomID(), Recipients: []string{"age1benchrecipient"}, SealedAt: at.Add(time.Hour)}
		inc.Revocation = &incident.Revocation{Outcome: incident.RevokeNotPossible, Detail: "no WhatsApp device is linked", At: at.Add(time.Hour)}
	}
	if err := tx.CreateIncident(ctx, &inc); err != nil {
		return "", err
	}
	req := incident.Request{ID: randomID(), IncidentID: id, Kind: incident.RequestSecure, RequesterID: reporter.ID, Reason: "Beweis sichern",
		State: incident.RequestPending, RequiredApprovals: 1, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
	if state != incident.StateAwaitingApproval {
		decided := at.Add(30 * time.Minute)
		req.State, req.DecidedAt = incident.RequestApproved, &decided
		req.Decisions = []incident.Decision{{ActorID: sup.ID, Approve: true, Reason: "sichern", At: decided}}
	}
	if err := tx.CreateRequest(ctx, &req); err != nil {
		return "", err
	}
	if state != incident.StateAwaitingApproval {
		psteps, err := pol.Steps(pl)
		if err != nil {
			return "", err
		}
		steps := make([]incident.Step, 0, len(psteps)+len(cat.ExtraSteps))
		for n, ps := range append(psteps, cat.ExtraSteps...) {
			st := incident.Step{IncidentID: id, Key: ps.ID, Position: n, Platform: pl, Title: ps.Title, State: incident.StepOpen, DueAt: at.Add(48 * time.Hour)}
			if state == incident.StateClosed || n%2 == 0 {
				done := at.Add(3 * time.Hour)
				st.State, st.DoneAt, st.DoneBy = incident.StepDone, &done, reporter.ID
			}
			steps = append(steps, st)
		}
		if err := tx.CreateSteps(ctx, steps); err != nil {
			return "", err
		}
	}
	actions := []string{"incident.flagged", "request.opened", "request.approved", "evidence.secured", "message.revoked", "walkthrough.started"}
	for n := range nAudit {
		action, actor := "step.done", reporter.ID
		switch {
		case n < len(actions):
			action, actor = actions[n], []string{reporter.ID, reporter.ID, sup.ID, "system", "system", "system"}[n]
		case n == nAudit-1 && state == incident.StateClosed:
			action = "incident.closed"
		}
		if _, err := tx.Append(ctx, audit.Entry{Time: at.Add(time.Duration(n) * time.Minute), Actor: actor, Action: action, IncidentID: id,
			Details: map[string]string{"seq_in_incident": fmt.Sprint(n)}}); err != nil {
			return "", err
		}
	}
	return id, nil
}

func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return hex.EncodeToString(b[:])
}
