package wa

import (
	"context"
	"errors"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/appstate"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident"
)

// recoveryEvery is how often one collection may ask the phone for a
// recovery copy (as mautrix-whatsapp does: at most every 48 hours).
const recoveryEvery = 48 * time.Hour

// syncRecovery remembers, per app-state collection, when Tresor last
// asked for a full sync and for a recovery, the way mautrix-whatsapp's
// handleWAAppStateSyncError does. It lives in memory: after a restart
// whatsmeow syncs again and a new error starts over.
type syncRecovery struct {
	fullSync map[appstate.WAPatchName]time.Time
	recovery map[appstate.WAPatchName]time.Time
}

// onAppStateSyncError recovers a stuck app-state collection (stars and
// labels live in regular_high and regular): a failed patch sync is
// answered with a full sync, a failed full sync with a recovery request
// to the phone (whatsmeow.BuildAppStateRecoveryRequest), whose answer
// whatsmeow applies and dispatches as a full sync. Both run in the
// background: whatsmeow dispatches this event while holding its app-state
// lock, which the full sync needs.
func (a *Adapter) onAppStateSyncError(e *events.AppStateSyncError) {
	if e == nil || e.Name == "" {
		return
	}
	now := a.now()
	a.mu.Lock()
	if a.sync.fullSync == nil {
		a.sync = syncRecovery{fullSync: map[appstate.WAPatchName]time.Time{}, recovery: map[appstate.WAPatchName]time.Time{}}
	}
	last, asked := a.sync.recovery[e.Name]
	if asked && now.Sub(last) < recoveryEvery {
		a.mu.Unlock()
		a.opts.Log.Warn("whatsapp app-state sync failed; recovery already asked for", "worker", a.worker, "collection", e.Name, "err", e.Error)
		return
	}
	if !e.FullSync {
		if _, tried := a.sync.fullSync[e.Name]; tried {
			a.mu.Unlock()
			a.opts.Log.Warn("whatsapp app-state sync failed; full sync already tried", "worker", a.worker, "collection", e.Name, "err", e.Error)
			return
		}
		a.sync.fullSync[e.Name] = now
		a.mu.Unlock()
		a.opts.Log.Warn("whatsapp app-state sync failed; trying a full sync", "worker", a.worker, "collection", e.Name, "err", e.Error)
		a.background(func(ctx context.Context) {
			if err := a.cli.FetchAppState(ctx, e.Name, true, false); err != nil {
				a.opts.Log.Error("whatsapp full app-state sync failed", "worker", a.worker, "collection", e.Name, "err", incident.ErrorClass(err))
			}
		})
		return
	}
	a.sync.recovery[e.Name] = now
	a.mu.Unlock()
	a.opts.Log.Warn("whatsapp full app-state sync failed; asking the phone for a recovery copy", "worker", a.worker, "collection", e.Name, "err", e.Error)
	a.background(func(ctx context.Context) {
		if _, err := a.cli.SendPeerMessage(ctx, whatsmeow.BuildAppStateRecoveryRequest(e.Name)); err != nil {
			a.opts.Log.Error("whatsapp app-state recovery request failed", "worker", a.worker, "collection", e.Name, "err", incident.ErrorClass(err))
		}
	})
}

// onAppStateSyncComplete forgets a collection's recovery attempts once
// it synced in full again.
func (a *Adapter) onAppStateSyncComplete(e *events.AppStateSyncComplete) {
	if e == nil {
		return
	}
	a.mu.Lock()
	_, tried := a.sync.fullSync[e.Name]
	_, asked := a.sync.recovery[e.Name]
	delete(a.sync.fullSync, e.Name)
	delete(a.sync.recovery, e.Name)
	a.mu.Unlock()
	if tried || asked {
		a.opts.Log.Info("whatsapp app-state sync recovered", "worker", a.worker, "collection", e.Name, "from_recovery", e.Recovery)
	}
}

// background runs fn outside the event handler, bounded by handlerTimeout.
func (a *Adapter) background(fn func(ctx context.Context)) {
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), handlerTimeout)
		defer cancel()
		fn(ctx)
	}()
}

// setDuringStall decides whether a star or label that came with a full
// sync or a recovery (FromFullSync) flags: only when it was set on the
// phone after the device was linked and within the capture window. One
// Tresor saw when it was set has its incident already (Flag answers
// ErrDuplicate); what remains was set while the sync was stuck, and
// opens its incident now, audited as late. Older ones — set before
// linking, or longer ago than the capture window — are left alone.
func (a *Adapter) setDuringStall(ctx context.Context, setAt time.Time) (bool, error) {
	if setAt.IsZero() {
		return false, nil
	}
	d, err := a.store.Device(ctx, a.worker)
	if errors.Is(err, incident.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if d.LinkedAt.IsZero() || setAt.Before(d.LinkedAt) {
		return false, nil
	}
	return a.now().Sub(setAt) <= a.captureWindow(), nil
}
