package wa

import (
	"context"
	"errors"

	"github.com/tresor-evidence/tresor/incident"
)

// ReplaySpool applies what the spool kept while the database was away,
// oldest first, and empties it: captures are stored with the time they
// arrived, flags open their incidents, and losses noted meanwhile are
// audited. Applying twice is harmless (captures and flags are idempotent;
// a loss note may then be counted twice). It stops at the first entry the
// database does not take and leaves the rest for the next call. Run calls
// it every LockCheckInterval.
func (m *Manager) ReplaySpool(ctx context.Context) error {
	sp := m.cfg.Spool
	if sp == nil || !sp.Pending() {
		return nil
	}
	m.mu.Lock()
	noFlagger := m.flagger == nil
	m.mu.Unlock()
	if noFlagger {
		return errors.New("wa manager has no flagger: call SetFlagger before replaying the spool")
	}
	// A replay takes the file appended to so far; what arrives meanwhile
	// is taken by the next round.
	for round := 0; round < 3 && sp.Pending(); round++ {
		if err := m.replayOnce(ctx, sp); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) replayOnce(ctx context.Context, sp *Spool) error {
	bare := m.bareAdapter("")
	return sp.Replay(func(e spoolEntry) error {
		ad := m.replayAdapter(e.Worker)
		switch {
		case ad != nil:
			err := ad.replay(ctx, e)
			if permanent(err) {
				ad.lost(ctx, spooledWhat(e), spooledID(e), lossSpool, err)
				return nil
			}
			return err
		case e.Capture != nil:
			return nil // unlinked meanwhile: its captures are gone with it
		case e.Loss != nil:
			return m.bareAdapter(e.Worker).recordLoss(ctx, *e.Loss, e.At)
		default:
			return m.bareAdapter(e.Worker).recordLoss(ctx, spoolLossNote{What: spooledWhat(e), MessageID: spooledID(e), Reason: lossNoDevice}, e.At)
		}
	}, func(n int, err error) {
		m.cfg.Log.Error("capture spool entry does not open; recording it as lost", "entry", n, "err", incident.ErrorClass(err))
		if rerr := bare.recordLoss(ctx, spoolLossNote{What: "spool entry", Reason: lossSpool}, m.now()); rerr != nil {
			m.cfg.Log.Error("cannot record the unreadable spool entry in the audit log", "err", incident.ErrorClass(rerr))
		}
	})
}

func (m *Manager) replaySpoolLogged(ctx context.Context) {
	if err := m.ReplaySpool(ctx); err != nil {
		m.cfg.Log.Warn("capture spool not replayed yet; trying again later", "err", incident.ErrorClass(err))
	}
}

// replayAdapter is the running adapter of worker, or nil.
func (m *Manager) replayAdapter(worker string) *Adapter {
	ad, _ := m.adapter(worker)
	return ad
}

// bareAdapter can record losses and read captures without a client.
func (m *Manager) bareAdapter(worker string) *Adapter {
	m.mu.Lock()
	f := m.flagger
	m.mu.Unlock()
	return &Adapter{worker: worker, store: m.cfg.Store, flagger: f, sealer: m.cfg.Sealer, opts: m.cfg.Options}
}

func spooledWhat(e spoolEntry) string {
	switch {
	case e.Capture != nil:
		return "message"
	case e.Flag != nil:
		return e.Flag.Via
	case e.Loss != nil:
		return e.Loss.What
	}
	return "spool entry"
}

func spooledID(e spoolEntry) string {
	switch {
	case e.Capture != nil:
		return e.Capture.ID
	case e.Flag != nil:
		return e.Flag.ID
	case e.Loss != nil:
		return e.Loss.MessageID
	}
	return ""
}
