package wa

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mau.fi/whatsmeow/types"

	"github.com/tresor-evidence/tresor/incident"
)

// Retry settings of the handler (see the package doc, "No flag lost").
const (
	// DefaultRetryWindow bounds how long one event's handler retries the
	// database before it falls back to the spool. whatsmeow hands a node
	// that takes longer than 5 minutes to the background, and the
	// connection's keep-alives run meanwhile; two minutes stays clear.
	DefaultRetryWindow = 2 * time.Minute
	firstRetryBackoff  = 250 * time.Millisecond
	maxRetryBackoff    = 15 * time.Second
)

// Loss reasons, as the audit log and the log name them.
const (
	lossDatabase = "database_unavailable" // past the retry window, and no spool configured
	lossFallback = "fallback_failed"      // past the retry window, and the spool write failed
	lossSpool    = "spool_unreadable"     // a spool entry did not open on replay
	lossEncode   = "unreadable_message"   // the message could not be encoded or sealed
	lossNoDevice = "device_gone"          // the worker unlinked before a spooled flag was replayed
)

// sleep waits d or until ctx ends; tests replace it (Options.Sleep).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retry runs op until it succeeds, returns a permanent error, or the
// retry window (measured on the adapter's clock) has passed, backing off
// from firstRetryBackoff to maxRetryBackoff. It returns op's last error.
func (a *Adapter) retry(ctx context.Context, what string, op func(ctx context.Context) error) error {
	deadline := a.now().Add(a.opts.RetryWindow)
	wait := firstRetryBackoff
	for attempt := 1; ; attempt++ {
		opCtx, cancel := context.WithTimeout(ctx, handlerTimeout)
		err := op(opCtx)
		cancel()
		if err == nil || permanent(err) {
			return err
		}
		left := deadline.Sub(a.now())
		if left <= 0 {
			return err
		}
		a.opts.Log.Warn("database did not take the event; retrying", "worker", a.worker, "what", what, "attempt", attempt, "err", incident.ErrorClass(err))
		if err := a.opts.Sleep(ctx, min(wait, left)); err != nil {
			return fmt.Errorf("%w (retry stopped: %w)", err, ctx.Err())
		}
		wait = min(2*wait, maxRetryBackoff)
	}
}

// permanent reports errors retrying cannot fix.
func permanent(err error) bool {
	return errors.Is(err, incident.ErrInvalidInput) || errors.Is(err, incident.ErrForbidden) || errors.Is(err, ErrSealed)
}

// keepCapture stores rec (see keep).
func (a *Adapter) keepCapture(ctx context.Context, rec record) bool {
	at := a.now()
	return a.keep(ctx, "message", rec.ID, spoolEntry{Worker: a.worker, At: at, Capture: &rec},
		func(ctx context.Context) error { return a.capture(ctx, rec, at) })
}

// keepFlag opens the incident of k (see keep).
func (a *Adapter) keepFlag(ctx context.Context, k flagKey) bool {
	f := spoolFlag{Chat: jidString(k.chat), Sender: jidString(k.sender), ID: k.id, FromMe: k.fromMe,
		KnownFromMe: k.knownFromMe, Via: k.via, Late: k.late, SetAt: k.setAt}
	return a.keep(ctx, k.via, k.id, spoolEntry{Worker: a.worker, At: a.now(), Flag: &f},
		func(ctx context.Context) error { return a.flag(ctx, k) })
}

// keep runs op against the database, retried for the retry window, and
// else appends e to the spool; what reaches neither is recorded as lost.
// While the spool holds entries, e joins them at once: the replay then
// applies everything in arrival order (a capture before the star on it),
// and a database that is away costs each event no more retry windows.
// It reports whether e is kept.
func (a *Adapter) keep(ctx context.Context, what, id string, e spoolEntry, op func(ctx context.Context) error) bool {
	sp := a.opts.Spool
	if sp != nil && sp.Pending() {
		return a.spool(ctx, e, what, id, errSpoolPending)
	}
	err := a.retry(ctx, what, op)
	switch {
	case err == nil:
		return true
	case permanent(err):
		a.lost(ctx, what, id, lossEncode, err)
		return false
	case sp == nil:
		a.lost(ctx, what, id, lossDatabase, err)
		return false
	}
	a.opts.Log.Warn("database away beyond the retry window; keeping it in the encrypted spool until it is back",
		"worker", a.worker, "what", what, "message", logRef(id), "err", incident.ErrorClass(err))
	return a.spool(ctx, e, what, id, err)
}

// errSpoolPending: the spool holds entries, so a new one joins them.
var errSpoolPending = errors.New("the spool holds entries not replayed yet")

// spool appends e, and records a loss when that fails.
func (a *Adapter) spool(ctx context.Context, e spoolEntry, what, id string, why error) bool {
	if err := a.opts.Spool.Append(e); err != nil {
		a.lost(ctx, what, id, lossFallback, errors.Join(why, err))
		return false
	}
	return true
}

// lost records that what (with WhatsApp's id) could not be kept: in the
// audit log and on the worker's device row, where the worker sees it.
// With the database away too, the note goes to the spool, and failing
// that only to the log.
func (a *Adapter) lost(ctx context.Context, what, id, reason string, cause error) {
	a.opts.Log.Error("whatsapp capture lost", "worker", a.worker, "what", what, "message", logRef(id), "reason", reason, "err", incident.ErrorClass(cause))
	note := spoolLossNote{What: what, MessageID: id, Reason: reason}
	at := a.now()
	err := a.recordLoss(ctx, note, at)
	if err == nil {
		return
	}
	if a.opts.Spool != nil {
		serr := a.opts.Spool.Append(spoolEntry{Worker: a.worker, At: at, Loss: &note})
		if serr == nil {
			return
		}
		err = errors.Join(err, serr)
	}
	a.opts.Log.Error("cannot record the lost capture in the audit log: only this log line tells", "worker", a.worker,
		"what", what, "message", logRef(id), "err", incident.ErrorClass(err))
}

// recordLoss writes one loss to the audit log and the device row.
func (a *Adapter) recordLoss(ctx context.Context, n spoolLossNote, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, handlerTimeout)
	defer cancel()
	loss := incident.CaptureLoss{WorkerID: a.worker, What: n.What, MessageID: n.MessageID, Reason: n.Reason}
	return a.flagger.RecordCaptureLost(ctx, loss, func(ctx context.Context, tx incident.Tx) error {
		err := tx.NoteCaptureLost(ctx, a.worker, at)
		if errors.Is(err, incident.ErrNotFound) {
			return nil // no device row (unlinked): the audit entry alone
		}
		return err
	})
}

// replay applies one spool entry of this adapter's worker.
func (a *Adapter) replay(ctx context.Context, e spoolEntry) error {
	switch {
	case e.Capture != nil:
		return a.capture(ctx, *e.Capture, e.At)
	case e.Flag != nil:
		k := flagKey{id: e.Flag.ID, fromMe: e.Flag.FromMe, knownFromMe: e.Flag.KnownFromMe, via: e.Flag.Via, late: e.Flag.Late, setAt: e.Flag.SetAt}
		var err error
		if k.chat, err = types.ParseJID(e.Flag.Chat); err != nil {
			return fmt.Errorf("%w: spooled flag with a malformed chat: %w", incident.ErrInvalidInput, err)
		}
		if e.Flag.Sender != "" {
			if k.sender, err = types.ParseJID(e.Flag.Sender); err != nil {
				return fmt.Errorf("%w: spooled flag with a malformed sender: %w", incident.ErrInvalidInput, err)
			}
		}
		return a.flag(ctx, k)
	case e.Loss != nil:
		return a.recordLoss(ctx, *e.Loss, e.At)
	}
	return nil
}
