package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/wa"
	"github.com/tresor-evidence/tresor/web"
)

// waWeb adapts the linked-device manager to the web pages' port, so that
// package web needs neither wa nor whatsmeow.
type waWeb struct{ m *wa.Manager }

var _ web.WhatsApp = waWeb{}

// webError maps the manager's sentinels onto the incident sentinels the
// web layer turns into statuses.
func webError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, wa.ErrAlreadyLinked), errors.Is(err, wa.ErrNotLinking), errors.Is(err, wa.ErrLinkedElsewhere):
		return fmt.Errorf("%w: %w", incident.ErrConflict, err)
	case errors.Is(err, wa.ErrNoDevice):
		return fmt.Errorf("%w: %w", incident.ErrNotFound, err)
	}
	return err
}

func (a waWeb) Link(ctx context.Context, workerID string) (<-chan web.LinkStep, error) {
	events, err := a.m.Link(ctx, workerID)
	if err != nil {
		return nil, webError(err)
	}
	out := make(chan web.LinkStep, 1)
	go func() {
		defer close(out)
		for ev := range events {
			select {
			case out <- toLinkStep(ev):
			case <-ctx.Done():
				return // the manager ends the attempt when ctx ends
			}
		}
	}()
	return out, nil
}

func toLinkStep(ev wa.LinkEvent) web.LinkStep {
	s := web.LinkStep{Code: ev.Code, Timeout: ev.Timeout, Err: ev.Err}
	switch ev.Kind {
	case wa.LinkCode:
		s.Kind = web.LinkCode
	case wa.LinkSuccess:
		s.Kind = web.LinkSuccess
	case wa.LinkTimeout:
		s.Kind = web.LinkTimeout
	case wa.LinkUnreachable:
		s.Kind = web.LinkUnreachable
	default:
		s.Kind = web.LinkError
		if s.Err == nil {
			s.Err = fmt.Errorf("unknown linking event %q", ev.Kind)
		}
	}
	return s
}

func (a waWeb) PairPhone(ctx context.Context, workerID, phone string) (string, error) {
	code, err := a.m.PairPhone(ctx, workerID, phone)
	return code, webError(err)
}

func (a waWeb) Unlink(ctx context.Context, workerID string) error {
	err := a.m.Unlink(ctx, workerID)
	if errors.Is(err, wa.ErrUnlinkPending) {
		return nil // recorded; the process holding the device unlinks it within wa.LockCheckInterval
	}
	return webError(err)
}

func (a waWeb) Device(ctx context.Context, workerID string) (web.DeviceView, error) {
	d, err := a.m.Device(ctx, workerID)
	if err != nil {
		return web.DeviceView{}, webError(err)
	}
	return toDeviceView(d), nil
}

func (a waWeb) Devices(ctx context.Context) ([]web.DeviceView, error) {
	list, err := a.m.Devices(ctx)
	if err != nil {
		return nil, webError(err)
	}
	out := make([]web.DeviceView, len(list))
	for i, d := range list {
		out[i] = toDeviceView(d)
	}
	return out, nil
}

func toDeviceView(d wa.DeviceInfo) web.DeviceView {
	return web.DeviceView{WorkerID: d.WorkerID, Status: d.Status, Detail: d.Detail,
		PhoneSeenAt: d.PhoneSeenAt, LinkedAt: d.LinkedAt, PhoneWarning: d.PhoneWarning,
		LostCaptures: d.LostCaptures, LostAt: d.LostAt}
}

func (a waWeb) RecentMessages(ctx context.Context, workerID string) ([]incident.MessageRef, error) {
	refs, err := a.m.RecentMessages(ctx, workerID)
	return refs, webError(err)
}

func (a waWeb) FlagHold() time.Duration { return a.m.FlagHold() }
