package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// auditPage bounds how many entries one query of a scan reads, so that a
// full verification never holds SQLite's only connection for long.
const auditPage = 20000

func encodeDetails(d map[string]string) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(d) // encoding/json sorts map keys: stable text
	if err != nil {
		return "", fmt.Errorf("failed to encode audit details: %w", err)
	}
	return string(b), nil
}

func (r auditRow) entry() (audit.Entry, error) {
	e := audit.Entry{Seq: r.Seq, Time: fromUS(r.TimeUS), Actor: r.Actor, Action: r.Action, IncidentID: r.IncidentID}
	if r.Details != "" && r.Details != "{}" {
		if err := json.Unmarshal([]byte(r.Details), &e.Details); err != nil {
			return audit.Entry{}, fmt.Errorf("audit entry %d: malformed details: %w", r.Seq, err)
		}
	}
	var err error
	if r.PrevHash != "" {
		if e.PrevHash, err = audit.ParseHash(r.PrevHash); err != nil {
			return audit.Entry{}, fmt.Errorf("audit entry %d: prev_hash: %w", r.Seq, err)
		}
	}
	if e.Hash, err = audit.ParseHash(r.Hash); err != nil {
		return audit.Entry{}, fmt.Errorf("audit entry %d: hash: %w", r.Seq, err)
	}
	return e, nil
}

// headRow is the single row that records the end of the chain.
type headRow struct {
	ID   int `gorm:"primaryKey"`
	Seq  int64
	Hash string
}

func (headRow) TableName() string { return "audit_head" }

// Append seals ev onto the chain. The no-op UPDATE takes the head row's
// lock first, so concurrent transactions append one after the other.
func (t *tx) Append(ctx context.Context, ev audit.Entry) (audit.Entry, error) {
	db := t.q(ctx)
	if err := db.Exec(`UPDATE audit_head SET seq = seq WHERE id = 1`).Error; err != nil {
		return audit.Entry{}, fmt.Errorf("failed to lock audit head: %w", translate(err))
	}
	var h headRow
	if err := db.Where("id = 1").Take(&h).Error; err != nil {
		return audit.Entry{}, fmt.Errorf("failed to read audit head: %w", translate(err))
	}
	var prev *audit.Entry
	if h.Seq > 0 {
		ph, err := audit.ParseHash(h.Hash)
		if err != nil {
			return audit.Entry{}, fmt.Errorf("audit head: %w", err)
		}
		prev = &audit.Entry{Seq: h.Seq, Hash: ph}
	}
	if err := ev.Validate(); err != nil {
		return audit.Entry{}, fmt.Errorf("invalid audit entry: %w", err)
	}
	e := audit.Seal(prev, ev)
	details, err := encodeDetails(e.Details)
	if err != nil {
		return audit.Entry{}, err
	}
	row := auditRow{Seq: e.Seq, TimeUS: us(e.Time), Actor: e.Actor, Action: e.Action, IncidentID: e.IncidentID,
		Details: details, Hash: e.Hash.String()}
	if e.Seq > 1 {
		row.PrevHash = e.PrevHash.String()
	}
	if err := db.Create(&row).Error; err != nil {
		return audit.Entry{}, fmt.Errorf("failed to append audit entry: %w", translate(err))
	}
	res := db.Model(&headRow{}).Where("id = 1 AND seq = ?", h.Seq).Updates(map[string]any{"seq": e.Seq, "hash": row.Hash})
	if err := updated(res, "audit head", "1"); err != nil {
		return audit.Entry{}, err
	}
	return e, nil
}

func (t *tx) AuditEntries(ctx context.Context, f incident.AuditFilter) ([]audit.Entry, error) {
	q := t.q(ctx).Order("seq")
	if f.IncidentID != "" {
		q = q.Where("incident_id = ?", f.IncidentID)
	}
	if !f.From.IsZero() {
		q = q.Where("time_us >= ?", us(f.From))
	}
	if !f.To.IsZero() {
		q = q.Where("time_us < ?", us(f.To))
	}
	if f.Action != "" {
		q = q.Where("action = ?", string(f.Action))
	}
	var rows []auditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to read audit entries: %w", translate(err))
	}
	out := make([]audit.Entry, len(rows))
	for i, r := range rows {
		e, err := r.entry()
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// AuditHead returns what the head row says the end of the log is.
func (s *Store) AuditHead(ctx context.Context) (audit.Head, error) {
	var h headRow
	if err := s.reader.WithContext(ctx).Where("id = 1").Take(&h).Error; err != nil {
		return audit.Head{}, fmt.Errorf("failed to read audit head: %w", translate(err))
	}
	out := audit.Head{Seq: h.Seq}
	if h.Seq > 0 {
		hash, err := audit.ParseHash(h.Hash)
		if err != nil {
			return audit.Head{}, fmt.Errorf("audit head: %w", err)
		}
		out.Hash = hash
	}
	return out, nil
}

// AuditSource streams the log up to entry upTo in pages ordered by seq.
// Bounding the scan by a head read before it keeps entries appended
// during a verification from looking like junk; after the last page, one
// statement checks that no entry lies beyond the head row.
func (s *Store) AuditSource(upTo int64) audit.Source { return auditSource{s, upTo} }

type auditSource struct {
	s    *Store
	upTo int64
}

// Scan reads pages with keyset pagination (seq > last), which stays fast
// at any depth and sees every stored row exactly once, in order. A
// goroutine reads and decodes the next page while fn consumes the current
// one, so that on two cores the database and the hashing overlap.
func (a auditSource) Scan(ctx context.Context, fn func(audit.Entry) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan auditPageResult, 1)
	go a.readPages(ctx, pages)
	for p := range pages {
		if p.err != nil {
			return p.err
		}
		for _, e := range p.entries {
			if err := fn(e); err != nil {
				cancel()
				for range pages { // let the reader finish
				}
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return a.checkTail(ctx)
}

type auditPageResult struct {
	entries []audit.Entry
	err     error
}

// readPages sends decoded pages until the log ends, an error occurs or
// ctx is cancelled, then closes out.
func (a auditSource) readPages(ctx context.Context, out chan<- auditPageResult) {
	defer close(out)
	last := int64(-1 << 62)
	for {
		entries, err := a.readPage(ctx, last)
		select {
		case out <- auditPageResult{entries, err}:
		case <-ctx.Done():
			return
		}
		if err != nil || len(entries) < auditPage {
			return
		}
		last = entries[len(entries)-1].Seq
	}
}

func (a auditSource) readPage(ctx context.Context, after int64) ([]audit.Entry, error) {
	rows, err := a.s.reader.WithContext(ctx).Raw(
		`SELECT seq, time_us, actor, action, incident_id, details, prev_hash, hash FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?`,
		after, a.upTo, auditPage).Rows()
	if err != nil {
		return nil, fmt.Errorf("failed to read audit log: %w", translate(err))
	}
	defer rows.Close() // errors surface through rows.Err
	entries := make([]audit.Entry, 0, auditPage)
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.Seq, &r.TimeUS, &r.Actor, &r.Action, &r.IncidentID, &r.Details, &r.PrevHash, &r.Hash); err != nil {
			return nil, fmt.Errorf("failed to read audit log: %w", translate(err))
		}
		e, err := r.entry()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", audit.ErrTampered, err)
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read audit log: %w", translate(err))
	}
	return entries, nil
}

// checkTail detects rows past the head row, in one statement so that both
// numbers come from the same snapshot even while appends go on.
func (a auditSource) checkTail(ctx context.Context) error {
	var tail struct{ MaxSeq, HeadSeq int64 }
	err := a.s.reader.WithContext(ctx).Raw(`SELECT (SELECT COALESCE(MAX(seq), 0) FROM audit_entries) AS max_seq,
		(SELECT seq FROM audit_head WHERE id = 1) AS head_seq`).Scan(&tail).Error
	if err != nil {
		return fmt.Errorf("failed to read audit log tail: %w", translate(err))
	}
	if tail.MaxSeq > tail.HeadSeq {
		return &audit.TamperError{Seq: tail.MaxSeq, Reason: fmt.Sprintf("entries up to %d lie beyond the head row (%d)", tail.MaxSeq, tail.HeadSeq)}
	}
	return nil
}

type checkpointRow struct {
	Size      int64
	Root      string
	Note      string
	CreatedAt int64
}

func (r checkpointRow) checkpoint() incident.Checkpoint {
	return incident.Checkpoint{Size: r.Size, Root: r.Root, Note: r.Note, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
}

// SaveCheckpoint implements incident.Tx.
func (t *tx) SaveCheckpoint(ctx context.Context, c incident.Checkpoint) error {
	err := t.q(ctx).Exec(`INSERT INTO audit_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)`,
		c.Size, c.Root, c.Note, c.CreatedAt.UnixMicro()).Error
	if err != nil {
		return fmt.Errorf("failed to save checkpoint: %w", translate(err))
	}
	return nil
}

// Checkpoints implements incident.Tx.
func (t *tx) Checkpoints(ctx context.Context) ([]incident.Checkpoint, error) {
	var rows []checkpointRow
	if err := t.q(ctx).Table("audit_checkpoints").Order("size").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to read checkpoints: %w", translate(err))
	}
	out := make([]incident.Checkpoint, len(rows))
	for i, r := range rows {
		out[i] = r.checkpoint()
	}
	return out, nil
}

// Checkpoint implements incident.Tx.
func (t *tx) Checkpoint(ctx context.Context, size int64) (incident.Checkpoint, error) {
	var r checkpointRow
	if err := t.q(ctx).Table("audit_checkpoints").Where("size = ?", size).Take(&r).Error; err != nil {
		return incident.Checkpoint{}, fmt.Errorf("failed to read checkpoint %d: %w", size, translate(err))
	}
	return r.checkpoint(), nil
}

// LatestCheckpoint implements incident.Tx.
func (t *tx) LatestCheckpoint(ctx context.Context) (incident.Checkpoint, error) {
	var r checkpointRow
	if err := t.q(ctx).Table("audit_checkpoints").Order("size DESC").Take(&r).Error; err != nil {
		return incident.Checkpoint{}, fmt.Errorf("failed to read the latest checkpoint: %w", translate(err))
	}
	return r.checkpoint(), nil
}

// SaveCosignature implements incident.Tx.
func (t *tx) SaveCosignature(ctx context.Context, c incident.Cosignature) error {
	err := t.q(ctx).Exec(`INSERT INTO audit_cosignatures (size, witness, note, created_at) VALUES (?, ?, ?, ?)`,
		c.Size, c.Witness, c.Note, c.CreatedAt.UnixMicro()).Error
	if err != nil {
		return fmt.Errorf("failed to save cosignature: %w", translate(err))
	}
	return nil
}

// Cosignatures implements incident.Tx.
func (t *tx) Cosignatures(ctx context.Context) ([]incident.Cosignature, error) {
	var rows []struct {
		Size      int64
		Witness   string
		Note      string
		CreatedAt int64
	}
	if err := t.q(ctx).Raw(`SELECT size, witness, note, created_at FROM audit_cosignatures ORDER BY size, witness`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("failed to read cosignatures: %w", translate(err))
	}
	out := make([]incident.Cosignature, len(rows))
	for i, r := range rows {
		out[i] = incident.Cosignature{Size: r.Size, Witness: r.Witness, Note: r.Note, CreatedAt: time.UnixMicro(r.CreatedAt).UTC()}
	}
	return out, nil
}
