package web

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// fakeWhatsApp implements the WhatsApp port in memory. A test drives each
// worker's linking attempt with send; nothing here talks to WhatsApp.
type fakeWhatsApp struct {
	mu        sync.Mutex
	devices   map[string]DeviceView
	recent    map[string][]incident.MessageRef
	feeds     map[string]chan LinkStep // the running attempt's feed, by worker
	linkCalls map[string]int
	pairs     map[string]string // phone numbers asked for, by worker
	unlinked  []string
}

func newFakeWhatsApp() *fakeWhatsApp {
	return &fakeWhatsApp{devices: map[string]DeviceView{}, recent: map[string][]incident.MessageRef{},
		feeds: map[string]chan LinkStep{}, linkCalls: map[string]int{}, pairs: map[string]string{}}
}

func (f *fakeWhatsApp) Link(ctx context.Context, workerID string) (<-chan LinkStep, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.linkCalls[workerID]++
	if d, ok := f.devices[workerID]; ok && d.Linked() {
		return nil, fmt.Errorf("%w: already linked", incident.ErrConflict)
	}
	feed := make(chan LinkStep)
	f.feeds[workerID] = feed
	f.devices[workerID] = DeviceView{WorkerID: workerID, Status: incident.DeviceLinking}
	out := make(chan LinkStep)
	go func() {
		defer close(out)
		for {
			select {
			case step := <-feed:
				select {
				case out <- step:
				case <-ctx.Done():
					return
				}
				if step.Kind != LinkCode {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// send hands the worker's running attempt its next step; it returns once
// the web layer took it.
func (f *fakeWhatsApp) send(t *testing.T, workerID string, step LinkStep) {
	t.Helper()
	f.mu.Lock()
	feed := f.feeds[workerID]
	f.mu.Unlock()
	if feed == nil {
		t.Fatalf("no linking attempt of %s", workerID)
	}
	select {
	case feed <- step:
	case <-time.After(5 * time.Second):
		t.Fatalf("nobody took the step %v", step.Kind)
	}
	if step.Kind == LinkSuccess {
		f.mu.Lock()
		f.devices[workerID] = DeviceView{WorkerID: workerID, Status: incident.DeviceConnected, LinkedAt: time.Date(2026, 11, 27, 8, 1, 0, 0, time.UTC)}
		f.mu.Unlock()
	}
}

func (f *fakeWhatsApp) calls(workerID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.linkCalls[workerID]
}

func (f *fakeWhatsApp) PairPhone(ctx context.Context, workerID, phone string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.feeds[workerID] == nil {
		return "", fmt.Errorf("%w: no linking in progress", incident.ErrConflict)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if len(digits) < 8 || !strings.HasPrefix(strings.TrimSpace(phone), "+") {
		return "", fmt.Errorf("%w: phone number in international format", incident.ErrInvalidInput)
	}
	f.pairs[workerID] = digits
	return "KX7P-2QMA", nil
}

func (f *fakeWhatsApp) Unlink(ctx context.Context, workerID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.devices[workerID]; !ok {
		return fmt.Errorf("%w: no device", incident.ErrNotFound)
	}
	f.unlinked = append(f.unlinked, workerID)
	f.devices[workerID] = DeviceView{WorkerID: workerID, Status: incident.DeviceUnlinked, Detail: "unlinked from Tresor"}
	delete(f.recent, workerID)
	delete(f.feeds, workerID)
	return nil
}

func (f *fakeWhatsApp) Device(ctx context.Context, workerID string) (DeviceView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.devices[workerID]
	if !ok {
		return DeviceView{}, fmt.Errorf("device of %s: %w", workerID, incident.ErrNotFound)
	}
	return d, nil
}

func (f *fakeWhatsApp) Devices(ctx context.Context) ([]DeviceView, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []DeviceView
	for _, d := range f.devices {
		out = append(out, d)
	}
	return out, nil
}

func (f *fakeWhatsApp) RecentMessages(ctx context.Context, workerID string) ([]incident.MessageRef, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]incident.MessageRef(nil), f.recent[workerID]...), nil
}

func (f *fakeWhatsApp) FlagHold() time.Duration { return 30 * 24 * time.Hour }

func (f *fakeWhatsApp) setDevice(d DeviceView) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices[d.WorkerID] = d
}

func (f *fakeWhatsApp) setRecent(workerID string, refs ...incident.MessageRef) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recent[workerID] = refs
}
