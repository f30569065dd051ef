package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// waitLink waits until the worker's linking attempt is in state.
func (e *env) waitLink(workerName string, want linkState) linkSnapshot {
	e.t.Helper()
	return e.waitLinkSeq(workerName, want, 0)
}

// waitLinkSeq waits until the attempt is in state after at least seq changes.
func (e *env) waitLinkSeq(workerName string, want linkState, seq int) linkSnapshot {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, snap, _ := e.srv.links.run(e.users[workerName].ID)
		if snap.State == want && snap.Seq >= seq {
			return snap
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("linking of %s is %q, want %q", workerName, snap.State, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var qrImage = regexp.MustCompile(`<img id="wa-qr"[^>]* src="(data:image/png;base64,[A-Za-z0-9+/=&#;]+)"`)

// wantPNG checks that a data: URL holds a PNG of the QR code's size.
func wantPNG(t *testing.T, dataURL string) {
	t.Helper()
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		t.Fatalf("not a PNG data URL: %.60q", dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != qrPixels || b.Dy() != qrPixels {
		t.Fatalf("QR code is %v, want %dx%d", b, qrPixels, qrPixels)
	}
}

func wantBody(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(w.Body.String(), p) {
			t.Fatalf("page lacks %q:\n%s", p, w.Body.String())
		}
	}
}

func wantNotBody(t *testing.T, w *httptest.ResponseRecorder, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if strings.Contains(w.Body.String(), p) {
			t.Fatalf("page has %q:\n%s", p, w.Body.String())
		}
	}
}

func TestWhatsAppConsentBeforeLinking(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	w := wanda.get("/whatsapp")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Nicht verknüpft", `name="consent" value="yes" required`, "nach 72 Stunden", "höchstens 30 Tage",
		"kein offizieller WhatsApp-Client", "Verknüpfte Geräte")
	wantNotBody(t, w, `action="/whatsapp/unlink"`)

	for _, consent := range []string{"", "no", "on"} {
		w = wanda.post("/whatsapp/link", "consent", consent)
		wantStatus(t, w, http.StatusBadRequest)
		wantBody(t, w, "Bitte bestätigen Sie zuerst die Einwilligung.")
	}
	if n := e.wa.calls(e.users["wanda"].ID); n != 0 {
		t.Fatalf("linking started %d times without consent", n)
	}
	if _, snap, _ := e.srv.links.run(e.users["wanda"].ID); snap.State != linkNone {
		t.Fatalf("an attempt exists without consent: %v", snap.State)
	}
	// Without a running attempt there is nothing to pair with.
	wantStatus(t, wanda.post("/whatsapp/pair", "phone", "+49 170 1234567"), http.StatusConflict)
}

func TestWhatsAppLinkQRCodesThenSuccess(t *testing.T) {
	e := newEnv(t)
	wanda, otto := e.as("wanda"), e.as("otto")
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	if n := e.wa.calls(e.users["wanda"].ID); n != 1 {
		t.Fatalf("Link called %d times", n)
	}

	w := wanda.get("/whatsapp/link")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Warte auf den ersten Code", `<noscript><meta http-equiv="refresh" content="2"></noscript>`,
		`<script src="/static/whatsapp-link.js" defer></script>`, `data-events="/whatsapp/link/events"`)
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Fatalf("Cache-Control %q", got)
	}
	if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' data:") || !strings.Contains(csp, "default-src 'self'") ||
		strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("CSP %q", csp)
	}

	var codes []string
	for i, code := range []string{"2@first-code,key,key,key", "2@second-code,key,key,key"} {
		e.wa.send(t, e.users["wanda"].ID, LinkStep{Kind: LinkCode, Code: code, Timeout: 20 * time.Second})
		e.waitLinkSeq("wanda", linkShowing, i+2)
		w = wanda.get("/whatsapp/link")
		m := qrImage.FindStringSubmatch(w.Body.String())
		if m == nil {
			t.Fatalf("no QR code on the page:\n%s", w.Body.String())
		}
		m[1] = html.UnescapeString(m[1]) // html/template writes + as &#43;
		wantPNG(t, m[1])
		wantBody(t, w, `<noscript><meta http-equiv="refresh" content="`, `action="/whatsapp/pair"`)
		codes = append(codes, m[1])

		// Another worker sees none of it, and cannot pair with it.
		wo := otto.get("/whatsapp/link")
		wantBody(t, wo, "Zurzeit läuft keine Verknüpfung.")
		wantNotBody(t, wo, "data:image/png", "wa-qr")
		wantStatus(t, otto.post("/whatsapp/pair", "phone", "+49 170 1234567"), http.StatusConflict)
	}
	if codes[0] == codes[1] {
		t.Fatal("the second code shows the first code's image")
	}

	// A second consent while linking runs does not start another attempt.
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	if n := e.wa.calls(e.users["wanda"].ID); n != 1 {
		t.Fatalf("Link called %d times", n)
	}

	// The pairing code instead of the QR code.
	wantStatus(t, wanda.post("/whatsapp/pair", "phone", "0170 1234567"), http.StatusBadRequest)
	wantRedirect(t, wanda.post("/whatsapp/pair", "phone", "+49 170 1234567"), "/whatsapp/link")
	if got := e.wa.pairs[e.users["wanda"].ID]; got != "491701234567" {
		t.Fatalf("paired %q", got)
	}
	w = wanda.get("/whatsapp/link")
	wantBody(t, w, "KX7P-2QMA", "Stattdessen mit Telefonnummer verknüpfen")
	wantNotBody(t, otto.get("/whatsapp/link"), "KX7P-2QMA")

	e.wa.send(t, e.users["wanda"].ID, LinkStep{Kind: LinkSuccess})
	e.waitLink("wanda", linkLinked)
	w = wanda.get("/whatsapp/link")
	wantBody(t, w, "Ihr WhatsApp-Konto ist mit Tresor verknüpft.")
	wantNotBody(t, w, "data:image/png", "KX7P-2QMA", "http-equiv", "<script")

	w = wanda.get("/whatsapp")
	wantBody(t, w, "Verknüpft und verbunden", `action="/whatsapp/unlink"`)
	wantNotBody(t, w, `name="consent"`)
	// Linked: a new attempt is refused by the manager.
	wantStatus(t, wanda.post("/whatsapp/link", "consent", "yes"), http.StatusConflict)
}

func TestWhatsAppLinkTimeoutAndError(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	id := e.users["wanda"].ID
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	e.wa.send(t, id, LinkStep{Kind: LinkCode, Code: "2@c", Timeout: time.Minute})
	e.wa.send(t, id, LinkStep{Kind: LinkTimeout})
	e.waitLink("wanda", linkTimedOut)
	w := wanda.get("/whatsapp/link")
	wantBody(t, w, "Es wurde kein Code rechtzeitig gescannt.", `href="/whatsapp"`)
	wantNotBody(t, w, "data:image/png")
	wantBody(t, wanda.get("/whatsapp"), `name="consent"`)

	// After an outcome, consent starts a new attempt.
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	if n := e.wa.calls(id); n != 2 {
		t.Fatalf("Link called %d times", n)
	}
	e.wa.send(t, id, LinkStep{Kind: LinkError, Err: errors.New("websocket closed")})
	e.waitLink("wanda", linkFailed)
	wantBody(t, wanda.get("/whatsapp/link"), "Die Verknüpfung ist fehlgeschlagen.")
	if strings.Contains(wanda.get("/whatsapp/link").Body.String(), "websocket closed") {
		t.Fatal("an internal error reached the page")
	}

	// The outcome is forgotten after a while.
	e.clock.Advance(linkResultKept + time.Second)
	wantBody(t, wanda.get("/whatsapp/link"), "Zurzeit läuft keine Verknüpfung.")
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// readEvents reads events from an event stream until it ends.
func readEvents(r io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// openEvents opens the events endpoint as the client, over a real server.
func openEvents(t *testing.T, ctx context.Context, srv *httptest.Server, c *client) (*http.Response, <-chan sseEvent) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/whatsapp/link/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	for n, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: n, Value: v})
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	events := make(chan sseEvent)
	go readEvents(resp.Body, events)
	return resp, events
}

func nextEvent(t *testing.T, ctx context.Context, events <-chan sseEvent) (sseEvent, bool) {
	t.Helper()
	select {
	case ev, ok := <-events:
		return ev, ok
	case <-ctx.Done():
		t.Fatal("no event before the deadline")
		return sseEvent{}, false
	}
}

func TestWhatsAppLinkEventsStream(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wanda, otto := e.as("wanda"), e.as("otto")
	id := e.users["wanda"].ID

	// Nothing running: one idle event, then the stream ends.
	resp, events := openEvents(t, ctx, srv, wanda)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
	if ev, _ := nextEvent(t, ctx, events); ev.name != "idle" {
		t.Fatalf("event %q, want idle", ev.name)
	}
	if _, ok := nextEvent(t, ctx, events); ok {
		t.Fatal("the idle stream did not end")
	}

	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	_, events = openEvents(t, ctx, srv, wanda)
	var seen []string
	for _, code := range []string{"2@one,a,b,c", "2@two,a,b,c"} {
		e.wa.send(t, id, LinkStep{Kind: LinkCode, Code: code, Timeout: 20 * time.Second})
		ev, ok := nextEvent(t, ctx, events)
		if !ok || ev.name != "code" {
			t.Fatalf("event %+v (open %v), want a code", ev.name, ok)
		}
		wantPNG(t, ev.data)
		seen = append(seen, ev.data)

		// Another worker's stream carries nothing of it.
		_, others := openEvents(t, ctx, srv, otto)
		if ev, _ := nextEvent(t, ctx, others); ev.name != "idle" || ev.data != "" {
			t.Fatalf("another worker got %q %.40q", ev.name, ev.data)
		}
	}
	if seen[0] == seen[1] {
		t.Fatal("both events carry the same code")
	}
	e.wa.send(t, id, LinkStep{Kind: LinkSuccess})
	if ev, _ := nextEvent(t, ctx, events); ev.name != "success" {
		t.Fatalf("event %q, want success", ev.name)
	}
	if _, ok := nextEvent(t, ctx, events); ok {
		t.Fatal("the stream did not end after the outcome")
	}
}

func TestWhatsAppStaticScript(t *testing.T) {
	e := newEnv(t)
	w := e.anon().get("/static/whatsapp-link.js")
	wantStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Fatalf("content type %q", ct)
	}
	wantBody(t, w, "new EventSource(", "addEventListener('code'")
}

func TestWhatsAppUnlink(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	id := e.users["wanda"].ID
	e.wa.setDevice(DeviceView{WorkerID: id, Status: incident.DeviceConnected})
	w := wanda.post("/whatsapp/unlink")
	wantStatus(t, w, http.StatusBadRequest)
	wantBody(t, w, "Bitte bestätigen Sie das Trennen.")
	if len(e.wa.unlinked) != 0 {
		t.Fatal("unlinked without confirmation")
	}
	wantRedirect(t, wanda.post("/whatsapp/unlink", "confirm", "yes"), "/whatsapp?done=wa_unlinked")
	if len(e.wa.unlinked) != 1 || e.wa.unlinked[0] != id {
		t.Fatalf("unlinked %v", e.wa.unlinked)
	}
	w = wanda.get("/whatsapp?done=wa_unlinked")
	wantBody(t, w, "Die Verbindung zu WhatsApp ist getrennt", "Getrennt", `name="consent"`)
	wantNotBody(t, w, `action="/whatsapp/unlink"`)

	// Unlinking ends a running attempt and its codes.
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	e.wa.send(t, id, LinkStep{Kind: LinkCode, Code: "2@x", Timeout: time.Minute})
	e.waitLink("wanda", linkShowing)
	wantRedirect(t, wanda.post("/whatsapp/unlink", "confirm", "yes"), "/whatsapp?done=wa_unlinked")
	wantNotBody(t, wanda.get("/whatsapp/link"), "data:image/png")

	// Otto has no device to unlink.
	wantStatus(t, e.as("otto").post("/whatsapp/unlink", "confirm", "yes"), http.StatusNotFound)
}

func TestWhatsAppDeviceStates(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	id := e.users["wanda"].ID
	seen := time.Date(2026, 11, 14, 9, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		d       DeviceView
		want    []string
		canLink bool
	}{
		{DeviceView{Status: incident.DeviceConnected, PhoneSeenAt: seen}, []string{"Verknüpft und verbunden", "14.11.2026 10:30"}, false},
		{DeviceView{Status: incident.DeviceConnected, PhoneSeenAt: seen, PhoneWarning: true}, []string{"seit 12 Tagen nicht online"}, false},
		{DeviceView{Status: incident.DeviceDisconnected}, []string{"Verbindung unterbrochen"}, false},
		{DeviceView{Status: incident.DeviceLoggedOut, Detail: "logged out from another device"}, []string{"Abgemeldet", "logged out from another device", "verknüpfen Sie es neu"}, true},
		{DeviceView{Status: incident.DeviceBanned, Detail: "temporarily banned: code 101"}, []string{"Von WhatsApp gesperrt", "temporarily banned: code 101"}, true},
		{DeviceView{Status: incident.DeviceOutdated, Detail: "client outdated"}, []string{"Veralteter Client", "Tresor aktualisieren"}, true},
		{DeviceView{Status: incident.DeviceConnected, LostCaptures: 3, LostAt: seen}, []string{"3 Nachrichten oder Markierungen nicht speichern, zuletzt am 14.11.2026 10:30", "Stern"}, false},
	} {
		c.d.WorkerID = id
		e.wa.setDevice(c.d)
		w := wanda.get("/whatsapp")
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, c.want...)
		wantBody(t, w, `action="/whatsapp/unlink"`)
		if got := strings.Contains(w.Body.String(), `name="consent"`); got != c.canLink {
			t.Errorf("%s: consent form shown %v, want %v", c.d.Status, got, c.canLink)
		}
		if !c.d.PhoneWarning {
			wantNotBody(t, w, "seit 12 Tagen nicht online")
		}
		if c.d.LostCaptures == 0 {
			wantNotBody(t, w, "nicht speichern, zuletzt am")
		}
	}
}

func TestWhatsAppAdminDevices(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	e.wa.setDevice(DeviceView{WorkerID: e.users["wanda"].ID, Status: incident.DeviceConnected, PhoneWarning: true,
		PhoneSeenAt: time.Date(2026, 11, 14, 9, 30, 0, 0, time.UTC), LinkedAt: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)})
	e.wa.setDevice(DeviceView{WorkerID: e.users["susi"].ID, Status: incident.DeviceBanned, Detail: "temporarily banned: code 101"})
	w := e.as("adam").get("/admin/devices")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "WhatsApp-Geräte", "wanda", "Verknüpft und verbunden", "Telefon seit 12 Tagen nicht gesehen", "14.11.2026 10:30",
		"01.10.2026 10:00", "susi", "Von WhatsApp gesperrt", "temporarily banned: code 101", "otto", "Nicht verknüpft")
	wantNotBody(t, w, "<form method=\"post\" action=\"/whatsapp", "anna", ">adam<")
	wantStatus(t, e.as("wanda").get("/admin/devices"), http.StatusForbidden)
}

func TestWhatsAppPickRecentMessage(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	sent := time.Date(2026, 11, 27, 7, 45, 0, 0, time.UTC)
	img := incident.MessageRef{ID: "3EB0A1B2C3D4", Chat: "491701234567@s.whatsapp.net", Sender: "491701234567@s.whatsapp.net",
		SenderAlt: "12345678901234@lid", SentAt: sent, MediaType: "image/jpeg", FileName: "IMG-1.jpg",
		FileSHA256: strings.Repeat("cd", 32), Size: 245_760}
	text := incident.MessageRef{ID: "3EB0FFEE", Chat: "120363025246125486@g.us", Sender: "491609876543:12@s.whatsapp.net", SentAt: sent.Add(-time.Hour)}
	e.wa.setRecent(e.users["wanda"].ID, img, text)
	e.wa.setRecent(e.users["otto"].ID, incident.MessageRef{ID: "OTTOMSG1", Chat: "4915112345678@s.whatsapp.net", SentAt: sent})

	w := wanda.get("/incidents/new/details")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, `name="recent" value="3EB0A1B2C3D4"`, `name="recent" value="3EB0FFEE"`, `id="recent-none" name="recent" value="" checked`,
		"27.11.2026 08:45", "…4567", "image/jpeg", "240.0 KiB", "Gruppe", "…5486", "…6543", "Text")
	wantNotBody(t, w, "OTTOMSG1", "491701234567", "IMG-1.jpg", `name="message_id" maxlength="200" required`)

	// Picking fills the reference from the capture.
	w = wanda.post("/incidents", "category", "violence", "description", "Bild einer Prügelei", "platform", "android", "recent", img.ID)
	loc := wantRedirect(t, w, "/incidents/")
	incID, _, _ := strings.Cut(strings.TrimPrefix(loc, "/incidents/"), "?")
	if got := e.incident(incID).Message; got.ID != img.ID || got.Chat != img.Chat || got.Sender != img.Sender ||
		got.FileSHA256 != img.FileSHA256 || got.Size != img.Size || got.MediaType != "image/jpeg" || !got.SentAt.Equal(sent) {
		t.Fatalf("message %+v", got)
	}
	// Another worker's message is not among wanda's.
	wantStatus(t, wanda.post("/incidents", "category", "violence", "platform", "android", "recent", "OTTOMSG1"), http.StatusBadRequest)
	// A pick and a different manual reference are refused.
	wantStatus(t, wanda.post("/incidents", "category", "violence", "platform", "android", "recent", text.ID, "message_id", "other"), http.StatusBadRequest)
	// The manual reference still works.
	e.flag(wanda, "wamidmanual", "violence")

	// Without recent messages the manual field is required again.
	w = e.as("otto").get("/incidents/new/details")
	wantBody(t, w, `value="OTTOMSG1"`)
	w = e.as("susi").get("/incidents/new/details")
	wantBody(t, w, "keine kürzlich empfangenen Nachrichten", `required aria-describedby="chat-name-help"`)
}

func TestWhatsAppNotAvailable(t *testing.T) {
	e := newEnv(t)
	srv, err := New(Config{Service: e.svc, Accounts: e.store.Accounts(), SecretKey: testKey, Clock: e.clock.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.h = srv, srv.Handler()
	wanda := e.as("wanda")
	w := wanda.get("/whatsapp")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "WhatsApp ist in dieser Tresor-Installation nicht verfügbar.")
	wantNotBody(t, w, `name="consent"`)
	wantBody(t, wanda.get("/whatsapp/link"), "nicht verfügbar")
	w = wanda.get("/whatsapp/link/events")
	wantStatus(t, w, http.StatusOK)
	if w.Body.String() != "event: idle\ndata: \n\n" {
		t.Fatalf("events %q", w.Body.String())
	}
	wantStatus(t, wanda.post("/whatsapp/link", "consent", "yes"), http.StatusServiceUnavailable)
	wantStatus(t, wanda.post("/whatsapp/unlink", "confirm", "yes"), http.StatusServiceUnavailable)
	e.enroll("adam")
	wantBody(t, e.as("adam").get("/admin/devices"), "nicht verfügbar")
	w = wanda.get("/incidents/new/details")
	wantNotBody(t, w, `name="recent"`)
	wantBody(t, w, `required aria-describedby="chat-name-help"`)
	e.flag(wanda, "wamidmanual", "violence")
}

func TestShortJIDAndSize(t *testing.T) {
	for in, want := range map[string]string{"491701234567@s.whatsapp.net": "…4567", "491701234567:3@s.whatsapp.net": "…4567",
		"123@lid": "…123", "": "–", "120363025246125486@g.us": "…5486"} {
		if got := shortJID(in); got != want {
			t.Errorf("shortJID(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "", 512: "512 B", 2048: "2.0 KiB", 3 << 20: "3.0 MiB"} {
		if got := byteSize(in); got != want {
			t.Errorf("byteSize(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestWhatsAppLinkUnreachable: when WhatsApp cannot be reached the page
// says so and what to do, not that no code was scanned.
func TestWhatsAppLinkUnreachable(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	id := e.users["wanda"].ID
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	e.wa.send(t, id, LinkStep{Kind: LinkUnreachable, Err: errors.New("dial tcp: connection refused")})
	e.waitLink("wanda", linkUnreachable)
	w := wanda.get("/whatsapp/link")
	wantBody(t, w, "Tresor erreicht WhatsApp gerade nicht", "Es liegt nicht an Ihrem Telefon.", `href="/whatsapp"`)
	wantNotBody(t, w, "rechtzeitig gescannt", "connection refused")
}

// A linking event stream open when the service shuts down ends at once
// (EndStreams, registered with the http.Server), so that the shutdown
// does not wait out its grace for it.
func TestWhatsAppLinkEventsEndAtShutdown(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewUnstartedServer(e.h)
	srv.Config.RegisterOnShutdown(e.srv.EndStreams)
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wanda := e.as("wanda")
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	_, events := openEvents(t, ctx, srv, wanda)
	e.wa.send(t, e.users["wanda"].ID, LinkStep{Kind: LinkCode, Code: "2@one,a,b,c", Timeout: 20 * time.Second})
	if ev, ok := nextEvent(t, ctx, events); !ok || ev.name != "code" {
		t.Fatalf("event %q (open %v), want a code", ev.name, ok)
	}
	// Shutdown returns only once every request ended; the context is
	// the test's deadline, far longer than a shutdown needs.
	if err := srv.Config.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown waited for the open stream: %v", err)
	}
	if _, ok := nextEvent(t, ctx, events); ok {
		t.Fatal("the stream is still open after the shutdown")
	}
}
