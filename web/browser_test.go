package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/vault"
)

// The browser test walks the whole flow in a real Chromium, on a phone-sized
// and on a desktop-sized window: a worker reports an incident, a supervisor
// approves it with a TOTP code, the jobs secure the evidence, the worker
// completes the deletion walkthrough, and an auditor enrols a second factor,
// verifies the audit log and downloads the incident's deletion trail.
//
// It needs a Chromium binary: $TRESOR_CHROMIUM, /usr/bin/chromium, or
// chromium / chromium-browser / google-chrome on PATH. Without one it
// skips, except under CI=true, where it fails. Screenshots go to
// $TRESOR_SCREENSHOT_DIR, or os.TempDir()/tresor-screenshots.

type viewport struct {
	name          string
	width, height int64
	mobile        bool
}

var viewports = []viewport{
	{name: "phone", width: 390, height: 844, mobile: true},
	{name: "desktop", width: 1280, height: 900},
}

func TestBrowserFlow(t *testing.T) {
	exe, shots := browserTest(t)
	for _, vp := range viewports {
		t.Run(vp.name, func(t *testing.T) { browserFlow(t, exe, shots, vp) })
	}
}

// browserTest starts every browser test: it returns the Chromium to run
// and the folder for screenshots (see screenshotDir). It skips in -short
// mode and when no Chromium is found, except under CI=true, where a
// missing browser fails the test.
func browserTest(t *testing.T) (exe, shots string) {
	t.Helper()
	return requireChromium(t), screenshotDir(t)
}

// requireChromium returns the browser, or skips (fails under CI=true).
func requireChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	exe := chromiumPath()
	if exe == "" {
		msg := "no Chromium found (set TRESOR_CHROMIUM, or apt-get install chromium)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires the browser tests to run")
		}
		t.Skip(msg)
	}
	return exe
}

// screenshotDir is $TRESOR_SCREENSHOT_DIR, or tresor-screenshots in the
// temporary folder, created if need be.
func screenshotDir(t *testing.T) string {
	t.Helper()
	shots := os.Getenv("TRESOR_SCREENSHOT_DIR")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "tresor-screenshots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return shots
}

// chromiumPath finds a Chromium binary, or returns "".
func chromiumPath() string {
	if p := os.Getenv("TRESOR_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium that stays off the network.
func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("lang", "de-DE"),
		chromedp.Flag("accept-lang", "de-DE,de"), // German workers' browsers ask for German
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	start, stop := context.WithTimeout(context.Background(), stepTimeout)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(ctx) }() // starts the browser, bound to ctx
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("failed to start Chromium (%s): %v", exe, err)
		}
	case <-start.Done():
		t.Fatalf("Chromium (%s) did not start within %s", exe, stepTimeout)
	}
	return ctx
}

// page is one user's tab in its own browser context (own cookies).
type page struct {
	t     *testing.T
	ctx   context.Context
	base  string
	vp    viewport
	shots string
	who   string
	n     *int
}

func (f *flow) open(who string) *page {
	f.t.Helper()
	ctx, cancel := chromedp.NewContext(f.browser, chromedp.WithNewBrowserContext())
	f.t.Cleanup(cancel)
	// The first run opens the tab and binds it to its context: that one
	// must have no timeout, or the tab closes when it ends.
	if err := chromedp.Do(ctx); err != nil {
		f.t.Fatalf("failed to open a tab: %v", err)
	}
	p := &page{t: f.t, ctx: ctx, base: f.base, vp: f.vp, shots: f.shots, who: who, n: &f.shot}
	vpOpts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(1)}
	if f.vp.mobile {
		vpOpts = []chromedp.EmulateViewportOption{chromedp.EmulateScale(2), chromedp.EmulateMobile}
	}
	p.do(chromedp.EmulateViewport(f.vp.width, f.vp.height, vpOpts...))
	return p
}

// stepTimeout guards against a hang only: a loaded CI machine can take
// many seconds for a full-page screenshot or an axe-core run.
const stepTimeout = 90 * time.Second

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
}

func run[T any](p *page, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
	return v
}

// load runs actions that cause a navigation (a link, a form) and checks
// that the page that ends up shown (after redirects) answered 200.
func (p *page) load(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
	if resp.Status != http.StatusOK {
		p.t.Fatalf("%s (%s): %s answered %d; page:\n%s", p.who, p.vp.name, resp.URL, resp.Status, p.mainText())
	}
}

func (p *page) visit(path string) { p.t.Helper(); p.load(chromedp.Navigate(p.base + path)) }

// press clicks a visible element that navigates.
func (p *page) press(sel string) {
	p.t.Helper()
	p.load(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (p *page) fill(sel, text string) {
	p.t.Helper()
	p.do(chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

func (p *page) mainText() string {
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main") ? document.querySelector("main").innerText : document.body.innerText`))
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return s
}

// see asserts that the visible text of the page's main part has every
// string, and of the h1 the first.
func (p *page) see(h1 string, texts ...string) {
	p.t.Helper()
	if got := run(p, chromedp.Text(chromedp.CSS("main h1"))); !strings.Contains(got, h1) {
		p.t.Fatalf("%s (%s): heading %q, want %q; page:\n%s", p.who, p.vp.name, got, h1, p.mainText())
	}
	p.seeText(texts...)
	p.checkLayout()
}

// seeText asserts that the visible text of the page's main part has
// every string.
func (p *page) seeText(texts ...string) {
	p.t.Helper()
	body := p.mainText()
	for _, s := range texts {
		if !strings.Contains(body, s) {
			p.t.Fatalf("%s (%s): page lacks %q; page:\n%s", p.who, p.vp.name, s, body)
		}
	}
}

// checkLayout fails when the page is wider than the window (text that
// overflows on a phone), naming the elements that stick out. Tables scroll
// inside their .table-wrap, which is allowed.
func (p *page) checkLayout() {
	p.t.Helper()
	out := run(p, chromedp.Evaluate[[]string](`(() => {
		const w = document.documentElement.clientWidth, bad = [];
		if (document.documentElement.scrollWidth <= w) return bad;
		for (const el of document.querySelectorAll("body *")) {
			if (el.closest(".table-wrap")) continue;
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > w + 1) bad.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " right=" + Math.round(r.right));
		}
		return bad.length ? bad.slice(0, 10) : ["(page scrollWidth " + document.documentElement.scrollWidth + " > " + w + ")"];
	})()`))
	if len(out) > 0 {
		p.t.Errorf("%s (%s): page %s is wider than the %dpx window: %s", p.who, p.vp.name, run(p, chromedp.Location()), p.vp.width, strings.Join(out, "; "))
	}
}

// shot saves a full-page screenshot outside the repository.
func (p *page) shot(name string) {
	p.t.Helper()
	buf := run(p, chromedp.FullScreenshot(100))
	*p.n++
	path := filepath.Join(p.shots, fmt.Sprintf("%s-%02d-%s-%s.png", p.vp.name, *p.n, p.who, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

func (p *page) count(sel string) int {
	p.t.Helper()
	return run(p, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
}

type flow struct {
	t       *testing.T
	e       *env
	browser context.Context
	base    string
	vp      viewport
	shots   string
	shot    int
}

var incidentPath = regexp.MustCompile(`/incidents/([0-9a-f]+)`)

func browserFlow(t *testing.T, exe, shots string, vp viewport) {
	ve := newVaultEnv(t) // the upload is sealed into a real age vault
	e := ve.env
	e.enroll("susi") // the supervisor's authenticator app holds e.keys["susi"]
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	f := &flow{t: t, e: e, browser: newBrowser(t, exe), base: ts.URL, vp: vp, shots: shots}

	// 1. The worker signs in and reports an incident.
	wanda := f.open("wanda")
	wanda.visit("/login")
	wanda.see("Anmelden", "Benutzername", "Passwort")
	wanda.shot("login")
	wanda.fill("#username", "wanda")
	wanda.fill("#password", "correct horse wanda")
	wanda.press(`main form button[type=submit]`)
	wanda.see("Meine Meldungen", "Noch keine Meldungen.")
	wanda.press(`main a.button[href="/incidents/new"]`)
	wanda.see("Sicherheit zuerst", "116 111", "Weiter zur Meldung")
	wanda.shot("safety")
	wanda.press(`main a.button[href="/incidents/new/details"]`)
	wanda.see("Neue Meldung", "Worum geht es?", "Gerät der Fachkraft")
	// The video reached her on another channel: she uploads it. The file
	// goes straight into the vault, sealed, before the incident exists.
	wanda.do(chromedp.Click(chromedp.CSS(`main a[href="#upload"]`), chromedp.NodeVisible)) // an anchor on the same page
	wanda.do(chromedp.Click(chromedp.CSS("#up-cat-violence"), chromedp.NodeVisible))
	wanda.fill("#up-description", "Video einer Prügelei auf dem Schulhof")
	wanda.do(chromedp.Click(chromedp.CSS("#up-pl-android"), chromedp.NodeVisible))
	file := filepath.Join(t.TempDir(), "pruegelei.jpg")
	if err := os.WriteFile(file, jpegBytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	wanda.do(chromedp.SetUploadFiles(chromedp.CSS("#up-file"), []string{file}))
	wanda.shot("upload")
	wanda.press(`main form[action="/incidents/upload"] button[type=submit]`)
	wanda.see("Meldung", "Die Datei ist verschlüsselt abgelegt und die Meldung eingegangen.", "wartet auf Freigabe", "Sicherungsbeleg")
	wanda.shot("flagged")
	m := incidentPath.FindStringSubmatch(run(wanda, chromedp.Location()))
	if m == nil {
		t.Fatalf("not on an incident page: %s", run(wanda, chromedp.Location()))
	}
	id := m[1]
	// The browser's bytes are in the bundle, and only there.
	staged := e.incident(id).Receipt
	if staged == nil {
		t.Fatal("no receipt after the upload")
	}
	wanda.do(chromedp.Click(chromedp.CSS("details.tech summary"), chromedp.NodeVisible)) // the check values are folded away
	wanda.see("Meldung", staged.CiphertextSHA256)
	if _, err := ve.vault.Open(e.ctx, staged.BundleID, []vault.Identity{ve.identity}, func(p vault.PartInfo, r io.Reader) error {
		got, err := io.ReadAll(r)
		if err == nil && !bytes.Equal(got, jpegBytes()) {
			t.Errorf("part %s holds %d bytes, not the uploaded file", p.Name, len(got))
		}
		return err
	}); err != nil {
		t.Fatalf("opening the uploaded bundle: %v", err)
	}

	// 2. The supervisor signs in with a TOTP code and approves.
	susi := f.open("susi")
	susi.visit("/login")
	susi.fill("#username", "susi")
	susi.fill("#password", "correct horse susi")
	susi.press(`main form button[type=submit]`)
	susi.see("Zweiter Faktor", "Code aus der App")
	susi.fill("#code", e.code("susi"))
	susi.press(`main form button[type=submit]`)
	susi.see("Freigaben", "Offene Anfragen", "Gewalt oder andere Straftat ·", "Video einer Prügelei auf dem Schulhof")
	susi.shot("inbox")
	e.clock.Advance(30 * time.Second) // a code works once: the decision needs the next one
	req := e.pending(id)
	susi.do(chromedp.Click(chromedp.CSS("#approve-"+req.ID), chromedp.NodeVisible))
	susi.fill("#reason-"+req.ID, "Beweis sichern, Anzeige prüfen")
	susi.fill("#code-"+req.ID, e.code("susi"))
	susi.press(`main form[action="/requests/` + req.ID + `/decide"] button[type=submit]`)
	susi.see("Meldung", "Die Entscheidung ist gespeichert.", "wird gesichert", "Freigegeben")
	susi.shot("approved")

	// 3. The jobs secure the evidence and revoke the message.
	e.runJobs()
	inc := e.incident(id)
	if inc.State != incident.StateWalkthrough || inc.Receipt == nil {
		t.Fatalf("after the jobs: state %s, receipt %+v", inc.State, inc.Receipt)
	}

	// 4. The worker works through the deletion steps.
	wanda.visit("/incidents/" + id)
	wanda.see("Meldung", "Löschschritte offen", "Löschen: Schritt für Schritt", "Sicherungsbeleg")
	if folded := run(wanda, chromedp.TextContent("details.tech")); !strings.Contains(folded, inc.Receipt.CiphertextSHA256) {
		t.Errorf("the folded check values lack the sealed bundle's hash: %q", folded)
	}
	wanda.shot("walkthrough")
	open := wanda.count("li.step-open")
	if open < 2 {
		t.Fatalf("%d open steps, want at least 2", open)
	}
	wanda.do(chromedp.Click(chromedp.CSS("li.step-open .step-actions details summary"), chromedp.NodeVisible))
	wanda.fill("li.step-open .step-actions details textarea", "Automatisches Backup ist auf diesem Telefon aus")
	wanda.shot("impossible")
	wanda.press("li.step-open .step-actions details button[type=submit]")
	wanda.see("Meldung", "Schritt als nicht möglich festgehalten.", "nicht möglich", "Automatisches Backup ist auf diesem Telefon aus")
	for i := 1; i < open; i++ {
		wanda.press("li.step-open .step-actions form.inline button[type=submit]")
		wanda.see("Meldung", "Schritt als erledigt festgehalten.")
	}
	if n := wanda.count("li.step-open"); n != 0 {
		t.Fatalf("%d steps still open", n)
	}
	wanda.see("Meldung", "abgeschlossen", "Alle Schritte sind erledigt. Die Meldung ist abgeschlossen.")
	wanda.shot("closed")
	if inc := e.incident(id); inc.State != incident.StateClosed {
		t.Fatalf("state after the walkthrough = %s", inc.State)
	}

	// 5. The auditor sets up a second factor, verifies the log and exports
	// the deletion trail.
	anna := f.open("anna")
	anna.visit("/login")
	anna.fill("#username", "anna")
	anna.fill("#password", "correct horse anna")
	anna.press(`main form button[type=submit]`)
	anna.see("Zweiter Faktor", "Ihre Rolle verlangt einen zweiten Faktor.")
	anna.shot("enrol")
	grouped := run(anna, chromedp.Text(chromedp.CSS("main code.key")))
	key, err := account.B32.DecodeString(strings.ReplaceAll(strings.TrimSpace(grouped), " ", ""))
	if err != nil || len(key) != account.TOTPKeySize {
		t.Fatalf("enrolment key %q: %v", grouped, err)
	}
	anna.fill("#code", account.HOTP(key, uint64(account.TOTPStep(e.clock.Now())), account.TOTPDigits))
	anna.press(`main form[action="/account/second-factor"] button[type=submit]`)
	anna.see("Zweiter Faktor", "Ihre Wiederherstellungscodes", "Unbenutzte Wiederherstellungscodes: 10")
	anna.press(`main a[href="/"]`)
	anna.see("Prüfung", "Audit-Protokoll prüfen", "Löschnachweis exportieren")
	anna.press(`main form[action="/audit/verify"] button[type=submit]`)
	anna.see("Prüfung", "Das Audit-Protokoll ist unverändert:", "Merkle-Wurzel")
	anna.shot("verified")
	anna.press(`header nav a[href="/incidents"]`)
	anna.see("Alle Meldungen", "Gewalt oder andere Straftat ·", "abgeschlossen")
	anna.press(`main a[href="/incidents/` + id + `"]`)
	impossible := ""
	steps, err := e.svc.Steps(context.Background(), incident.System, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		if st.State == incident.StepImpossible {
			impossible = st.Title.DE
		}
	}
	// The trail names people and actions in German, with the step, the
	// outcome and the time in Berlin (the test clock runs at 08:00 UTC).
	trail := []string{"Audit-Spur", "Zeiten in der Zeitzone Europe/Berlin.", "27.11.2026 09:0",
		"Meldung angelegt", "Wer: wanda (Fachkraft)", "Anfrage freigegeben\nBetrifft: Sicherung", "Wer: susi (Leitung)",
		"Beweis gesichert: mit Inhalt", "Wer: Tresor (automatisch)", "Löschen auf WhatsApp: nicht möglich",
		"Löschschritt nicht möglich\nBetrifft: " + impossible, "Löschschritt erledigt", "Meldung abgeschlossen"}
	anna.see("Meldung", append(trail, "Als CSV herunterladen", "Löschnachweis drucken")...)
	anna.seeNo("step.impossible", "incident.closed", "message.revoked", "UTC", e.users["wanda"].ID)
	anna.shot("trail")
	if h := run(anna, chromedp.Evaluate[float64](`Math.max(...[...document.querySelectorAll("ol.trail > li")].map(li => li.getBoundingClientRect().height))`)); h > 160 {
		t.Errorf("anna (%s): the tallest trail entry is %.0f px high, want a compact card", vp.name, h)
	}

	// The printable deletion-trail report: the same trail, the steps and
	// who did them, and for checking, each entry's code and hash.
	anna.press(`main a[href="/incidents/` + id + `/report"]`)
	anna.see("Löschnachweis", append(trail, "Träger", "noch einzutragen", "Gemeldet von", "Löschschritte", impossible+": nicht möglich",
		"Anfragen und Entscheidungen", "Prüfsummen der Einträge", "message.revoked", "Erstellt am 27.11.2026 09:0")...)
	anna.shot("report")
	anna.seePrinted("header.top", ".no-print")
	anna.shot("report-print")
	anna.media("")

	// The record of processing activities, from the audit start page.
	anna.visit("/audit")
	anna.press(`main a[href="/audit/record"]`)
	anna.see("Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)", "10 Angaben fehlen noch", "processing.controller",
		"Gesicherte Beweise (Tresor)", "Rechtsgrundlage", "noch einzutragen", "Vorgehaltene WhatsApp-Nachrichten", "3 Tage ab Empfang",
		"Übermittlung an WhatsApp (Meta)", "Zeitzone der Anzeige")
	anna.shot("record")
	anna.seePrinted("header.top", ".no-print")
	anna.shot("record-print")
	anna.media("")
	anna.visit("/incidents/" + id)
	csv := anna.download(`main a[href^="/audit/export?incident=` + id + `"]`)
	for _, want := range []string{"incident.flagged", "request.approved", "evidence.secured", "message.revoked", "step.impossible", "step.done", "incident.closed", id} {
		if !strings.Contains(csv, want) {
			t.Fatalf("deletion trail export lacks %q:\n%s", want, csv)
		}
	}
	if strings.Contains(csv, "Automatisches Backup") {
		t.Fatal("the export carries the reason's text; the audit log keeps only its hash")
	}
	t.Logf("deletion trail export: %d lines", strings.Count(csv, "\n"))
}

// seeNo asserts that the visible text of the page's main part has none
// of texts (raw codes, ids, UTC).
func (p *page) seeNo(texts ...string) {
	p.t.Helper()
	body := p.mainText()
	for _, s := range texts {
		if strings.Contains(body, s) {
			p.t.Errorf("%s (%s): page shows %q; page:\n%s", p.who, p.vp.name, s, body)
		}
	}
}

// seePrinted switches the page to print media and asserts that the
// elements matching hidden do not print and that the page is no wider
// than the window. The caller switches back.
func (p *page) seePrinted(hidden ...string) {
	p.t.Helper()
	p.media("print")
	for _, sel := range hidden {
		shown := run(p, chromedp.Evaluate[[]string](`[...document.querySelectorAll(`+strconv.Quote(sel)+`)].filter(el => getComputedStyle(el).display !== "none").map(el => el.tagName)`))
		if n := p.count(sel); n == 0 || len(shown) > 0 {
			p.t.Errorf("%s (%s): printing shows %v of %d %q elements, want them all hidden", p.who, p.vp.name, shown, n, sel)
		}
	}
	p.checkLayout()
}

// media emulates a CSS media type ("print"), or the screen with "".
func (p *page) media(m string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m}); err != nil {
		p.t.Fatalf("%s (%s): emulate media %q: %v", p.who, p.vp.name, m, err)
	}
}

// download clicks a link that downloads a file and returns the file.
func (p *page) download(sel string) string {
	p.t.Helper()
	dir := p.t.TempDir()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	bc := chromedp.FromContext(p.ctx).BrowserContextID
	yes := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, BrowserContextID: bc, DownloadPath: dir, EventsEnabled: &yes,
	}); err != nil {
		p.t.Fatalf("download behaviour: %v", err)
	}
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("%s (%s): %v", p.who, p.vp.name, err)
	}
	for ev, err := range progress {
		if err != nil {
			p.t.Fatalf("%s (%s): waiting for the download: %v", p.who, p.vp.name, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCanceled:
			p.t.Fatalf("%s (%s): download canceled", p.who, p.vp.name)
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if errors.Is(err, os.ErrNotExist) && ev.FilePath != "" {
				b, err = os.ReadFile(ev.FilePath)
			}
			if err != nil {
				p.t.Fatal(err)
			}
			return string(b)
		}
	}
	p.t.Fatalf("%s (%s): no download", p.who, p.vp.name)
	return ""
}

// jpegBytes is a tiny file that starts like a JPEG, for an upload field.
func jpegBytes() []byte {
	return append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, []byte(strings.Repeat("tresor browser test ", 8))...)
}
