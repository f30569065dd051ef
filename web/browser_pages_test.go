package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tresor-evidence/tresor/incident"
)

// The page tests open every page each role sees, in a real Chromium on a
// 390x844 phone and on a desktop, and check two things on each: nothing
// is wider than the window (document.documentElement.scrollWidth, wide
// tables scroll inside their own box), and axe-core finds no violation of
// WCAG 2.2 AA. axe-core is not vendored: the test loads axe.min.js from
// $TRESOR_TEST_AXE and skips that check (only that one), saying so, when
// it is unset.

var pageViewports = []viewport{
	{name: "phone390", width: 390, height: 844, mobile: true},
	{name: "desktop", width: 1280, height: 900},
}

// axeTags are the rule sets of WCAG 2.2 level AA.
var axeTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"}

// axeScript is axe-core's script, or "" when $TRESOR_TEST_AXE is unset.
func axeScript(t *testing.T) string {
	t.Helper()
	path := os.Getenv("TRESOR_TEST_AXE")
	if path == "" {
		msg := "TRESOR_TEST_AXE is unset: the accessibility check (axe-core) is skipped. " +
			"Fetch it with `npm install --prefix \"$HOME/.cache/tresor-axe\" axe-core@4.10.x` and set " +
			"TRESOR_TEST_AXE=$HOME/.cache/tresor-axe/node_modules/axe-core/axe.min.js"
		t.Log(msg)
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("TRESOR_TEST_AXE: %v", err)
	}
	return string(b)
}

// pagesEnv is a server with an incident in every state a page shows
// differently: one waiting for a decision, one in the walkthrough.
type pagesEnv struct {
	*env
	base     string
	waiting  string // incident ids
	walking  string
	refused  string // a closed incident with a step that could not be done
	reporter string
}

func newPagesEnv(t *testing.T) *pagesEnv {
	e := newEnv(t)
	for _, name := range []string{"susi", "sven", "anna", "adam"} {
		e.enroll(name)
	}
	wanda := e.as("wanda")
	pe := &pagesEnv{env: e, reporter: "wanda"}
	pe.walking = e.flag(wanda, "MSGWALK", "violence")
	if _, err := e.svc.Decide(e.ctx, e.users["sven"].Actor(), e.pending(pe.walking).ID, true, "Beweis sichern", e.stepUpCode("sven")); err != nil {
		t.Fatal(err)
	}
	pe.refused = e.flag(wanda, "MSGDONE", "threat")
	if _, err := e.svc.Decide(e.ctx, e.users["sven"].Actor(), e.pending(pe.refused).ID, true, "sichern", e.stepUpCode("sven")); err != nil {
		t.Fatal(err)
	}
	e.runJobs()
	steps, err := e.svc.Steps(e.ctx, incident.System, pe.refused)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		if i == 0 {
			_, err = e.svc.MarkStepImpossible(e.ctx, e.users["wanda"].Actor(), pe.refused, st.Key, "Kein Backup eingerichtet")
		} else {
			_, err = e.svc.ConfirmStep(e.ctx, e.users["wanda"].Actor(), pe.refused, st.Key)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	pe.waiting = e.flag(wanda, "MSGWAIT", "threat")
	ts := httptest.NewServer(e.h)
	t.Cleanup(ts.Close)
	pe.base = ts.URL
	return pe
}

// tab opens a tab signed in as user (or anonymous for "").
func (pe *pagesEnv) tab(t *testing.T, browserCtx context.Context, vp viewport, shots, user string, n *int) *page {
	t.Helper()
	f := &flow{t: t, e: pe.env, browser: browserCtx, base: pe.base, vp: vp, shots: shots}
	who := user
	if who == "" {
		who = "visitor"
	}
	p := f.open(who)
	p.n = n
	if user != "" {
		for name, value := range pe.as(user).cookies {
			if _, err := chromedp.Call(p.ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: pe.base}); err != nil {
				t.Fatalf("cookie: %v", err)
			}
		}
	}
	return p
}

// rolePages is every page a role reaches from its navigation and its
// incidents, plus the pages of a mistake (an unknown incident).
func (pe *pagesEnv) rolePages() map[string][]string {
	inc := func(id string) string { return "/incidents/" + id }
	account := []string{"/account/second-factor", "/account/tokens"}
	return map[string][]string{
		"": {"/login"},
		"wanda": append([]string{"/incidents", "/incidents/new", "/incidents/new/details", inc(pe.waiting), inc(pe.walking), inc(pe.refused),
			"/whatsapp", "/incidents/00000000000000000000000000000000"}, account...),
		"susi": append([]string{"/approvals", "/incidents", inc(pe.waiting), inc(pe.walking), inc(pe.refused), "/whatsapp"}, account...),
		"anna": append([]string{"/audit", "/incidents", inc(pe.walking), inc(pe.refused)}, account...),
		"adam": append([]string{"/admin/users", "/admin/devices"}, account...),
	}
}

func TestBrowserPages(t *testing.T) {
	exe := requireChromium(t)
	axe := axeScript(t)
	// Screenshots of some fifty pages cost minutes on a busy machine:
	// only when asked for.
	shots := ""
	if os.Getenv("TRESOR_SCREENSHOT_DIR") != "" {
		shots = screenshotDir(t)
	}
	pe := newPagesEnv(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newBrowser(t, exe)
			n := 0
			for user, paths := range pe.rolePages() {
				p := pe.tab(t, b, vp, shots, user, &n)
				for _, path := range paths {
					p.visitAny(path)
					p.checkWidth()
					p.checkHeader()
					p.checkAxe(axe)
					if shots != "" {
						p.shot(strings.NewReplacer("/", "_", "00000000000000000000000000000000", "unknown").Replace(strings.Trim(path, "/")))
					}
				}
			}
		})
	}
}

// visitAny opens a page whatever its status (error pages are pages too).
func (p *page) visitAny(path string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(p.base+path))
	if err != nil {
		p.t.Fatalf("%s (%s): %s: %v", p.who, p.vp.name, path, err)
	}
	if resp.Status >= 500 || (resp.Status != http.StatusOK && !strings.Contains(path, "0000000000")) {
		p.t.Fatalf("%s (%s): %s answered %d; page:\n%s", p.who, p.vp.name, path, resp.Status, p.mainText())
	}
}

// checkWidth fails when the page is wider than the window: the document
// scrolls sideways. Tables may scroll inside their own region only.
func (p *page) checkWidth() {
	p.t.Helper()
	type width struct {
		Scroll int      `json:"scroll"`
		Wide   []string `json:"wide"`
	}
	w := run(p, chromedp.Evaluate[width](`(() => {
		const vw = window.innerWidth, wide = [];
		for (const el of document.querySelectorAll("body *")) {
			const r = el.getBoundingClientRect();
			if (r.width > 0 && r.right > vw + 0.5 && !el.parentElement.closest(".table-wrap")) wide.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " right=" + Math.round(r.right));
		}
		return {scroll: document.documentElement.scrollWidth, wide: wide.slice(0, 8)};
	})()`))
	if int64(w.Scroll) > p.vp.width {
		p.t.Errorf("%s (%s): %s is %dpx wide in a %dpx window: %s", p.who, p.vp.name, run(p, chromedp.Location()), w.Scroll, p.vp.width, strings.Join(w.Wide, "; "))
	}
}

// checkAxe runs axe-core's WCAG 2.2 AA rules on the page.
func (p *page) checkAxe(script string) {
	p.t.Helper()
	if script == "" {
		return
	}
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](script+"\n;true")); err != nil {
		p.t.Fatalf("injecting axe-core: %v", err)
	}
	tags, _ := json.Marshal(axeTags)
	type node struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	}
	type violation struct {
		ID    string `json:"id"`
		Help  string `json:"help"`
		Nodes []node `json:"nodes"`
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]violation](fmt.Sprintf(
		`axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r => r.violations)`, tags), chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("axe-core: %v", err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprint(n.Target))
		}
		p.t.Errorf("%s (%s): %s: axe %s (%s) at %s", p.who, p.vp.name, run(p, chromedp.Location()), v.ID, v.Help, strings.Join(where, ", "))
	}
}

// checkHeader fails when the page header takes a quarter of the window's
// height or more (on a phone it would push the page's own heading away).
func (p *page) checkHeader() {
	p.t.Helper()
	h := run(p, chromedp.Evaluate[float64](`document.querySelector("header.top").getBoundingClientRect().height`))
	if h >= float64(p.vp.height)/4 {
		p.t.Errorf("%s (%s): %s: the header is %.0fpx of a %dpx high window", p.who, p.vp.name, run(p, chromedp.Location()), h, p.vp.height)
	}
}
