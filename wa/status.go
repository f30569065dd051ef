package wa

import (
	"context"
	"errors"
	"time"

	"go.mau.fi/whatsmeow/types/events"

	"github.com/tresor-evidence/tresor/incident"
)

// updateDevice applies fn to the worker's device row (a new one when none
// is stored) and stores it when fn reports a change.
func (a *Adapter) updateDevice(ctx context.Context, fn func(d *incident.LinkedDevice) bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	d, err := a.store.Device(ctx, a.worker)
	if errors.Is(err, incident.ErrNotFound) {
		d, err = incident.LinkedDevice{WorkerID: a.worker}, nil
	}
	if err != nil {
		return err
	}
	if !fn(&d) {
		return nil
	}
	if id := a.dev.GetJID(); d.JID == "" && !id.IsEmpty() {
		d.JID = id.String() // with the device part: the key of whatsmeow's store
	}
	d.UpdatedAt = a.now()
	return a.store.PutDevice(ctx, d)
}

func (a *Adapter) setStatus(ctx context.Context, s incident.DeviceStatus, detail string) {
	err := a.updateDevice(ctx, func(d *incident.LinkedDevice) bool {
		if d.Status == s && d.Detail == detail {
			return false
		}
		if a.gone && (s == incident.DeviceConnected || s == incident.DeviceDisconnected) {
			return false // the client's last words after WhatsApp let it go
		}
		d.Status, d.Detail = s, detail
		return true
	})
	if err != nil {
		a.opts.Log.Error("cannot record device status", "worker", a.worker, "status", s, "err", incident.ErrorClass(err))
		return
	}
	a.opts.Log.Info("whatsapp device status", "worker", a.worker, "status", s, "detail", detail)
}

// phoneSeen records a sign of the worker's phone being online: a message
// or receipt from its primary device, or an app-state change made on it.
func (a *Adapter) phoneSeen(ctx context.Context) {
	now := a.now()
	a.mu.Lock()
	recent := now.Sub(a.lastPhoneSeen) < phoneSeenEvery
	if !recent {
		a.lastPhoneSeen = now
	}
	a.mu.Unlock()
	if recent {
		return
	}
	if err := a.updateDevice(ctx, func(d *incident.LinkedDevice) bool { d.PhoneSeenAt = now; return true }); err != nil {
		a.opts.Log.Error("cannot record phone activity", "worker", a.worker, "err", incident.ErrorClass(err))
	}
}

func (a *Adapter) onPairSuccess(ctx context.Context, e *events.PairSuccess) {
	if e == nil || e.ID.IsEmpty() {
		return
	}
	now := a.now()
	err := a.updateDevice(ctx, func(d *incident.LinkedDevice) bool {
		d.JID, d.LID = e.ID.String(), jidString(e.LID)
		d.Status, d.Detail = incident.DeviceConnected, "paired with "+e.Platform
		d.LinkedAt, d.PhoneSeenAt, d.FlagLabelID = now, now, ""
		return true
	})
	if err != nil {
		a.opts.Log.Error("cannot record pairing", "worker", a.worker, "err", incident.ErrorClass(err))
		return
	}
	a.opts.Log.Info("whatsapp device paired", "worker", a.worker)
}

// onPermanentDisconnect records why WhatsApp will not let the device
// reconnect by itself.
func (a *Adapter) onPermanentDisconnect(ctx context.Context, e events.PermanentDisconnect) {
	if e == nil {
		return
	}
	status := incident.DeviceFailed
	switch e.(type) {
	case *events.LoggedOut:
		status = incident.DeviceLoggedOut
	case *events.StreamReplaced:
		status = incident.DeviceReplaced
	case *events.TemporaryBan:
		status = incident.DeviceBanned
	case *events.ClientOutdated:
		status = incident.DeviceOutdated
	}
	a.mu.Lock()
	a.gone = true
	a.mu.Unlock()
	a.setStatus(ctx, status, describe(e))
	if a.onGone != nil {
		a.onGone()
	}
}

// describe is WhatsApp's reason, without dereferencing a nil event.
func describe(e events.PermanentDisconnect) string {
	switch v := e.(type) {
	case *events.LoggedOut:
		if v == nil {
			return "logged out"
		}
	case *events.TemporaryBan:
		if v == nil {
			return "temporarily banned"
		}
	case *events.ConnectFailure:
		if v == nil {
			return "connect failure"
		}
	}
	return e.PermanentDisconnectDescription()
}

// PhoneWarning reports whether the worker must be told to open WhatsApp
// on the phone: the device is linked but the phone was last seen
// PhoneWarningAfter ago or earlier.
func PhoneWarning(d incident.LinkedDevice, now time.Time) bool {
	switch d.Status {
	case incident.DeviceConnected, incident.DeviceDisconnected:
	default:
		return false
	}
	seen := d.PhoneSeenAt
	if seen.IsZero() {
		seen = d.LinkedAt
	}
	return !seen.IsZero() && now.Sub(seen) >= PhoneWarningAfter
}
