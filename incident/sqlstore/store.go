package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tresor-evidence/tresor/incident"
)

var _ incident.Store = (*Store)(nil)

// Tx runs fn in one database transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx incident.Tx) error) error {
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&tx{db: db, dialect: s.dialect})
	})
	return translate(err)
}

// View runs fn in a read-only transaction: on SQLite on a query-only
// connection beside the writer, on PostgreSQL as READ ONLY. Writes fail.
func (s *Store) View(ctx context.Context, fn func(tx incident.Tx) error) error {
	var opts []*sql.TxOptions
	if s.dialect == Postgres {
		// BEGIN READ ONLY in one round trip.
		opts = append(opts, &sql.TxOptions{ReadOnly: true})
	}
	err := s.reader.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&tx{db: db, dialect: s.dialect})
	}, opts...)
	return translate(err)
}

// tx implements incident.Tx on one GORM transaction.
type tx struct {
	db      *gorm.DB
	dialect Dialect
}

var _ incident.Tx = (*tx)(nil)

// q returns the transaction with ctx.
func (t *tx) q(ctx context.Context) *gorm.DB { return t.db.WithContext(ctx) }

// notFound wraps ErrNotFound with what was looked up.
func notFound(what, id string, err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("%s %s: %w", what, id, incident.ErrNotFound)
	}
	return fmt.Errorf("failed to read %s %s: %w", what, id, translate(err))
}

// updated checks an optimistic update hit its row.
func updated(res *gorm.DB, what, id string) error {
	if res.Error != nil {
		return fmt.Errorf("failed to update %s %s: %w", what, id, translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("%s %s changed concurrently: %w", what, id, incident.ErrConflict)
	}
	return nil
}

func (t *tx) Incident(ctx context.Context, id string) (incident.Incident, error) {
	var r incidentRow
	if err := t.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return incident.Incident{}, notFound("incident", id, err)
	}
	return r.incident(), nil
}

func (t *tx) Incidents(ctx context.Context, f incident.IncidentFilter) ([]incident.Incident, error) {
	q := t.q(ctx).Order("created_at DESC, id")
	if f.ReporterID != "" {
		q = q.Where("reporter_id = ?", f.ReporterID)
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, s := range f.States {
			states[i] = string(s)
		}
		q = q.Where("state IN ?", states)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	if f.Offset > 0 {
		q = q.Offset(f.Offset)
	}
	if f.Brief {
		// Fewer columns: decoding rows is most of a list's database time.
		q = q.Select("id", "category", "channel", "reporter_id", "platform", "state", "securing", "evidence",
			"legal_hold", "created_at", "updated_at", "version", "msg_id")
	}
	var rows []incidentRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list incidents: %w", translate(err))
	}
	out := make([]incident.Incident, len(rows))
	for i, r := range rows {
		out[i] = r.incident()
	}
	return out, nil
}

func (t *tx) CreateIncident(ctx context.Context, inc *incident.Incident) error {
	inc.Version = 1
	r := toIncidentRow(inc)
	if err := t.q(ctx).Create(&r).Error; err != nil {
		inc.Version = 0
		return fmt.Errorf("failed to create incident: %w", translate(err))
	}
	return nil
}

func (t *tx) UpdateIncident(ctx context.Context, inc *incident.Incident) error {
	r := toIncidentRow(inc)
	r.Version = inc.Version + 1
	res := t.q(ctx).Model(&incidentRow{}).Where("id = ? AND version = ?", inc.ID, inc.Version).Select("*").Omit("id", "created_at").Updates(&r)
	if err := updated(res, "incident", inc.ID); err != nil {
		return err
	}
	inc.Version = r.Version
	return nil
}

func (t *tx) Request(ctx context.Context, id string) (incident.Request, error) {
	var r requestRow
	if err := t.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return incident.Request{}, notFound("request", id, err)
	}
	var ds []decisionRow
	if err := t.q(ctx).Where("request_id = ?", id).Order("decided_at, actor_id").Find(&ds).Error; err != nil {
		return incident.Request{}, fmt.Errorf("failed to read decisions: %w", translate(err))
	}
	return r.request(ds), nil
}

func (t *tx) Requests(ctx context.Context, f incident.RequestFilter) ([]incident.Request, error) {
	q := t.q(ctx).Order("created_at DESC, id")
	if f.IncidentID != "" {
		q = q.Where("incident_id = ?", f.IncidentID)
	}
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if !f.ExpiredBefore.IsZero() {
		q = q.Where("state = ? AND expires_at < ?", string(incident.RequestPending), us(f.ExpiredBefore))
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	var rows []requestRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list requests: %w", translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var ds []decisionRow
	if err := t.q(ctx).Where("request_id IN ?", ids).Order("decided_at, actor_id").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("failed to read decisions: %w", translate(err))
	}
	byReq := map[string][]decisionRow{}
	for _, d := range ds {
		byReq[d.RequestID] = append(byReq[d.RequestID], d)
	}
	out := make([]incident.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request(byReq[r.ID])
	}
	return out, nil
}

func (t *tx) CreateRequest(ctx context.Context, r *incident.Request) error {
	r.Version = 1
	row := toRequestRow(r)
	if err := t.q(ctx).Create(&row).Error; err != nil {
		r.Version = 0
		return fmt.Errorf("failed to create request: %w", translate(err))
	}
	return t.storeDecisions(ctx, r, 0)
}

func (t *tx) UpdateRequest(ctx context.Context, r *incident.Request) error {
	var stored int64
	if err := t.q(ctx).Model(&decisionRow{}).Where("request_id = ?", r.ID).Count(&stored).Error; err != nil {
		return fmt.Errorf("failed to count decisions: %w", translate(err))
	}
	row := toRequestRow(r)
	row.Version = r.Version + 1
	res := t.q(ctx).Model(&requestRow{}).Where("id = ? AND version = ?", r.ID, r.Version).Select("*").Omit("id", "created_at").Updates(&row)
	if err := updated(res, "request", r.ID); err != nil {
		return err
	}
	r.Version = row.Version
	return t.storeDecisions(ctx, r, int(stored))
}

// storeDecisions inserts the decisions after the first `from`; decisions
// are never changed once stored.
func (t *tx) storeDecisions(ctx context.Context, r *incident.Request, from int) error {
	for _, d := range r.Decisions[min(from, len(r.Decisions)):] {
		row := decisionRow{RequestID: r.ID, ActorID: d.ActorID, Approve: d.Approve, Reason: d.Reason, DecidedAt: us(d.At)}
		if err := t.q(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("failed to store decision: %w", translate(err))
		}
	}
	return nil
}

func (t *tx) Steps(ctx context.Context, incidentID string) ([]incident.Step, error) {
	var rows []stepRow
	if err := t.q(ctx).Where("incident_id = ?", incidentID).Order("position").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list steps: %w", translate(err))
	}
	out := make([]incident.Step, len(rows))
	for i, r := range rows {
		out[i] = r.step()
	}
	return out, nil
}

func (t *tx) CreateSteps(ctx context.Context, steps []incident.Step) error {
	if len(steps) == 0 {
		return nil
	}
	rows := make([]stepRow, len(steps))
	for i, s := range steps {
		rows[i] = toStepRow(s)
	}
	if err := t.q(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("failed to create steps: %w", translate(err))
	}
	return nil
}

func (t *tx) UpdateStep(ctx context.Context, s incident.Step) error {
	r := toStepRow(s)
	res := t.q(ctx).Model(&stepRow{}).Where("incident_id = ? AND step_key = ?", s.IncidentID, s.Key).
		Select("state", "reason", "done_at", "done_by", "escalated").Updates(&r)
	if res.Error != nil {
		return fmt.Errorf("failed to update step: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("step %s of incident %s: %w", s.Key, s.IncidentID, incident.ErrNotFound)
	}
	return nil
}

func (t *tx) OverdueSteps(ctx context.Context, now time.Time) ([]incident.Step, error) {
	var rows []stepRow
	err := t.q(ctx).Where("state = ? AND escalated = ? AND due_at < ?", string(incident.StepOpen), false, us(now)).
		Order("due_at, incident_id, position").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("failed to list overdue steps: %w", translate(err))
	}
	out := make([]incident.Step, len(rows))
	for i, r := range rows {
		out[i] = r.step()
	}
	return out, nil
}

func (t *tx) User(ctx context.Context, id string) (incident.User, error) {
	var r userRow
	if err := t.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return incident.User{}, notFound("user", id, err)
	}
	return r.user(), nil
}

func (t *tx) UserByName(ctx context.Context, username string) (incident.User, error) {
	var r userRow
	if err := t.q(ctx).Where("username = ?", username).Take(&r).Error; err != nil {
		return incident.User{}, notFound("user", username, err)
	}
	return r.user(), nil
}

func (t *tx) Users(ctx context.Context) ([]incident.User, error) {
	var rows []userRow
	if err := t.q(ctx).Order("username").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to list users: %w", translate(err))
	}
	out := make([]incident.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

func (t *tx) CreateUser(ctx context.Context, u *incident.User) error {
	r := toUserRow(u)
	if err := t.q(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("failed to create user: %w", translate(err))
	}
	return nil
}

func (t *tx) UpdateUser(ctx context.Context, u *incident.User) error {
	r := toUserRow(u)
	res := t.q(ctx).Model(&userRow{}).Where("id = ?", u.ID).Select("display_name", "role", "password_hash", "email", "disabled", "updated_at",
		"reset_by", "reset_at", "must_change_password", "needs_approval").Updates(&r)
	if res.Error != nil {
		return fmt.Errorf("failed to update user: %w", translate(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("user %s: %w", u.ID, incident.ErrNotFound)
	}
	return nil
}
