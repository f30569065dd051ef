package web

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// WhatsApp is what the web pages need from the linked-device manager
// (package wa, adapted in cmd/tresor). The web package never talks to
// WhatsApp itself. Errors wrap the incident sentinels: ErrNotFound when
// the worker has no device, ErrConflict when the state does not allow the
// call (already linked, no linking running), ErrInvalidInput for a bad
// phone number.
type WhatsApp interface {
	// Link starts linking a phone to the worker's Tresor device and
	// streams its steps: codes to show as QR codes, then one of success,
	// timeout or error. The channel closes after that or when ctx ends;
	// ctx outlives the request that started linking, so the web layer
	// cancels it itself.
	Link(ctx context.Context, workerID string) (<-chan LinkStep, error)
	// PairPhone returns the 8-character code to type on the phone
	// instead of scanning; it needs a Link of the worker that has shown
	// its first code. phone is in international format.
	PairPhone(ctx context.Context, workerID, phone string) (string, error)
	// Unlink removes the worker's device, its keys and its captured
	// messages.
	Unlink(ctx context.Context, workerID string) error
	// Device returns the worker's device; ErrNotFound when never linked.
	Device(ctx context.Context, workerID string) (DeviceView, error)
	// Devices returns every worker's device, for the admin.
	Devices(ctx context.Context) ([]DeviceView, error)
	// RecentMessages lists the metadata of the worker's captured
	// messages, newest first; never content.
	RecentMessages(ctx context.Context, workerID string) ([]incident.MessageRef, error)
	// FlagHold is how long a flagged message's capture is kept at most.
	FlagHold() time.Duration
}

// LinkKind says what a LinkStep is.
type LinkKind string

const (
	LinkCode    LinkKind = "code"    // show Code as a QR code until Timeout
	LinkSuccess LinkKind = "success" // the phone linked Tresor
	LinkTimeout LinkKind = "timeout" // no code was scanned in time
	LinkError   LinkKind = "error"   // see Err
	// LinkUnreachable: WhatsApp sent no code; the server cannot reach it.
	LinkUnreachable LinkKind = "unreachable"
)

// LinkStep is one step of linking. Code is sensitive: whoever scans it
// links their account to the worker's Tresor device.
type LinkStep struct {
	Kind    LinkKind
	Code    string
	Timeout time.Duration
	Err     error
}

// DeviceView is a worker's linked device as the pages show it.
type DeviceView struct {
	WorkerID    string
	Status      incident.DeviceStatus
	Detail      string // WhatsApp's reason for the status, in English
	PhoneSeenAt time.Time
	LinkedAt    time.Time
	// PhoneWarning: the phone has not been seen for 12 days; WhatsApp
	// drops linked devices of phones offline for about 14 days.
	PhoneWarning bool
	// LostCaptures messages or flags could not be kept since linking,
	// the last at LostAt (each is in the audit log).
	LostCaptures int
	LostAt       time.Time
}

// Linked reports whether the device is linked and in use, so that
// linking again needs an unlink first.
func (d DeviceView) Linked() bool {
	return d.Status == incident.DeviceConnected || d.Status == incident.DeviceDisconnected
}

const (
	// linkMaxDuration bounds one linking attempt (WhatsApp itself stops
	// offering codes after about two and a half minutes).
	linkMaxDuration = 5 * time.Minute
	// linkResultKept is how long the outcome of an attempt stays on the
	// linking page.
	linkResultKept = 10 * time.Minute
)

// linkState is where a worker's linking attempt stands.
type linkState string

const (
	linkNone     linkState = "none"     // no attempt
	linkStarting linkState = "starting" // waiting for the first code
	linkShowing  linkState = "code"     // a code is shown
	linkLinked   linkState = "success"
	linkTimedOut linkState = "timeout"
	linkFailed   linkState = "error"
	// linkUnreachable: WhatsApp could not be reached, so no code came.
	linkUnreachable linkState = "unreachable"
)

func (s linkState) done() bool {
	return s == linkLinked || s == linkTimedOut || s == linkFailed || s == linkUnreachable
}

// linkSnapshot is a copy of an attempt's state, safe to render.
type linkSnapshot struct {
	State    linkState
	QR       template.URL // data:image/png;base64,… of the current code
	CodeAt   time.Time    // when the current code arrived
	Timeout  time.Duration
	PairCode string
	Seq      int // grows with every change
}

// linkRun is one worker's linking attempt.
type linkRun struct {
	cancel   context.CancelFunc
	snap     linkSnapshot
	endedAt  time.Time
	changed  chan struct{} // closed at the next change
	canceled bool
}

// linkHub keeps the linking attempts, one per worker, in memory: codes
// never reach the database or the log, and every lookup is by the signed-
// in worker's own id. An attempt lives in this process only.
type linkHub struct {
	mu       sync.Mutex
	byWorker map[string]*linkRun
	now      func() time.Time
	log      func(msg string, args ...any)
}

func newLinkHub(now func() time.Time, log func(string, ...any)) *linkHub {
	return &linkHub{byWorker: map[string]*linkRun{}, now: now, log: log}
}

// run returns the worker's attempt and a snapshot of it; an outcome older
// than linkResultKept counts as no attempt.
func (h *linkHub) run(workerID string) (*linkRun, linkSnapshot, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.byWorker[workerID]
	if r == nil {
		return nil, linkSnapshot{State: linkNone}, nil
	}
	if r.snap.State.done() && h.now().Sub(r.endedAt) > linkResultKept {
		delete(h.byWorker, workerID)
		return nil, linkSnapshot{State: linkNone}, nil
	}
	return r, r.snap, r.changed
}

// start begins linking for the worker unless an attempt is running.
func (h *linkHub) start(w WhatsApp, workerID string) error {
	h.mu.Lock()
	if r := h.byWorker[workerID]; r != nil && !r.snap.State.done() {
		h.mu.Unlock()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), linkMaxDuration)
	r := &linkRun{cancel: cancel, snap: linkSnapshot{State: linkStarting, Seq: 1}, changed: make(chan struct{})}
	h.byWorker[workerID] = r
	h.mu.Unlock()

	// Link dials WhatsApp: not under the lock.
	steps, err := w.Link(ctx, workerID)
	if err != nil {
		cancel()
		h.mu.Lock()
		if h.byWorker[workerID] == r {
			delete(h.byWorker, workerID)
		}
		if !r.canceled {
			r.canceled = true
			close(r.changed)
		}
		h.mu.Unlock()
		return err
	}
	go h.follow(r, cancel, steps)
	return nil
}

// follow records the steps of an attempt until its channel closes.
func (h *linkHub) follow(r *linkRun, cancel context.CancelFunc, steps <-chan LinkStep) {
	defer cancel()
	for step := range steps {
		var next linkSnapshot
		switch step.Kind {
		case LinkCode:
			qr, err := qrDataURL(step.Code)
			if err != nil {
				h.log("failed to draw the WhatsApp QR code", "err", incident.ErrorClass(err))
				next.State = linkFailed
				break
			}
			next = linkSnapshot{State: linkShowing, CodeAt: h.now(), Timeout: step.Timeout,
				QR: qr}
		case LinkSuccess:
			next.State = linkLinked
		case LinkTimeout:
			next.State = linkTimedOut
		case LinkUnreachable:
			h.log("whatsapp cannot be reached for linking", "err", incident.ErrorClass(step.Err))
			next.State = linkUnreachable
		default:
			if step.Err != nil {
				h.log("whatsapp linking failed", "err", incident.ErrorClass(step.Err))
			}
			next.State = linkFailed
		}
		h.update(r, func(s *linkSnapshot) {
			pair := s.PairCode
			*s = next
			if next.State == linkShowing {
				s.PairCode = pair
			}
		})
		if next.State.done() {
			return
		}
	}
	// The channel closed without an outcome (the attempt's time ran out).
	h.update(r, func(s *linkSnapshot) {
		if !s.State.done() {
			*s = linkSnapshot{State: linkTimedOut}
		}
	})
}

// update changes an attempt's state and wakes whoever waits on it.
func (h *linkHub) update(r *linkRun, fn func(*linkSnapshot)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.canceled {
		return
	}
	seq := r.snap.Seq
	fn(&r.snap)
	r.snap.Seq = seq + 1
	if r.snap.State.done() && r.endedAt.IsZero() {
		r.endedAt = h.now()
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// setPairCode records the pairing code of a running attempt.
func (h *linkHub) setPairCode(r *linkRun, code string) {
	h.update(r, func(s *linkSnapshot) { s.PairCode = code })
}

// stop ends and forgets the worker's attempt.
func (h *linkHub) stop(workerID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.byWorker[workerID]
	if r == nil {
		return
	}
	delete(h.byWorker, workerID)
	r.cancel()
	if !r.canceled {
		r.canceled = true
		close(r.changed)
	}
}

// refreshSeconds is when a page without JavaScript reloads to show the
// next code or the outcome: when the code runs out, at most every 10 s.
func (sn linkSnapshot) refreshSeconds(now time.Time) int {
	if sn.State == linkStarting {
		return 2
	}
	left := int(sn.CodeAt.Add(sn.Timeout).Sub(now)/time.Second) + 1
	return min(max(left, 2), 10)
}

// recentItem is one captured message offered in "Neue Meldung": metadata
// only, addresses shortened.
type recentItem struct {
	ID     string
	SentAt time.Time
	Chat   string
	Sender string
	Group  bool
	FromMe bool
	Media  string // media type, "" for text
	Size   string // "" when unknown
}

func toRecentItem(m incident.MessageRef) recentItem {
	return recentItem{ID: m.ID, SentAt: m.SentAt, Chat: shortJID(m.Chat), Sender: shortJID(m.Sender),
		Group: strings.HasSuffix(m.Chat, "@g.us"), FromMe: m.FromMe, Media: m.MediaType, Size: byteSize(m.Size)}
}

// shortJID shows the last four characters of an address's user part,
// enough to tell chats apart on screen without showing the number.
func shortJID(jid string) string {
	user, _, _ := strings.Cut(jid, "@")
	user, _, _ = strings.Cut(user, ":") // device suffix
	if user == "" {
		return "–"
	}
	r := []rune(user)
	if len(r) <= 4 {
		return "…" + user
	}
	return "…" + string(r[len(r)-4:])
}

// byteSize formats a size in bytes, KiB or MiB; "" for 0.
func byteSize(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	default:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
}
