package web

import (
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// TestNoRawTranslationKey renders every page of the route table in German
// and in English, as every role and over incidents in every state (among
// them suspected CSAM reported by reference and by description, a
// walkthrough with a follow-up, a closed and a rejected one), plus the
// pages that answer a form, and finds no translation key where people
// read: neither in the text nor in a label-like attribute.
func TestNoRawTranslationKey(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"susi", "sven", "anna", "adam"} {
		e.enroll(name)
	}
	wanda := e.as("wanda")
	approve := func(id string) {
		t.Helper()
		if _, err := e.svc.Decide(e.ctx, e.users["susi"].Actor(), e.pending(id).ID, true, "sichern", e.stepUpCode("susi")); err != nil {
			t.Fatal(err)
		}
	}
	waiting := e.flag(wanda, "wamidwaiting", "violence")
	csamRef := e.flag(wanda, "wamidcsam", "csam")
	approve(csamRef)
	loc := wantRedirect(t, wanda.post("/incidents", "category", "csam", "platform", "iphone",
		"chat_name", "Lena K.", "received_at", "2026-11-27T08:30", "kind", "photo"), "/incidents/")
	csamSeen, _, _ := strings.Cut(strings.TrimPrefix(loc, "/incidents/"), "?")
	approve(csamSeen)
	followUp := e.flag(wanda, "wamidfollowup", "threat")
	approve(followUp)
	closed := e.flag(wanda, "wamidclosed", "other")
	approve(closed)
	rejected := e.flag(wanda, "wamidrejected", "extortion")
	if _, err := e.svc.Decide(e.ctx, e.users["susi"].Actor(), e.pending(rejected).ID, false, "kein Beweis nötig", e.stepUpCode("susi")); err != nil {
		t.Fatal(err)
	}
	phone, err := e.svc.Flag(e.ctx, e.users["wanda"].Actor(), incident.FlagInput{Channel: incident.ChannelWhatsApp, Message: incident.MessageRef{ID: "wamidphone"}})
	if err != nil {
		t.Fatal(err)
	}
	e.runJobs()
	wantRedirect(t, wanda.post("/incidents/"+followUp+"/steps/ask_recipient/impossible", "reason", "nicht erreichbar"), "/incidents/")
	steps, err := e.svc.Steps(e.ctx, e.users["wanda"].Actor(), closed)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		wantRedirect(t, wanda.post("/incidents/"+closed+"/steps/"+st.Key+"/confirm"), "/incidents/")
	}
	if e.incident(closed).State != incident.StateClosed || e.incident(csamRef).Revocation == nil ||
		e.incident(csamRef).Revocation.Outcome != incident.RevokeLeftToWorker || e.incident(phone.ID).State != incident.StateFlagged {
		t.Fatal("the fixtures are not in the states this test needs")
	}
	incidents := []string{waiting, csamRef, csamSeen, followUp, closed, rejected, phone.ID}

	// The printed deletion-trail report lists each entry's action code
	// beside its hash on purpose, to be checked against an export; codes
	// are not catalog keys. Everywhere else the trail shows labels.
	actions := map[string]bool{}
	for _, a := range incident.Actions() {
		actions[string(a)] = true
	}

	byRole := map[incident.Role]string{incident.RoleWorker: "wanda", incident.RoleSupervisor: "susi", incident.RoleAuditor: "anna", incident.RoleAdmin: "adam"}
	prefixes := keyPrefixes(t, e)
	pages := 0
	for _, lang := range languages {
		check := func(what string, w interface{ Header() http.Header }, body string) {
			t.Helper()
			if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				return
			}
			pages++
			for _, key := range rawKeys(body, prefixes) {
				if actions[key] {
					continue
				}
				t.Errorf("%s (%s) shows the raw key %q", what, lang, key)
			}
		}
		for who, name := range byRole {
			c := e.as(name)
			c.cookies[e.srv.cookieName("tresor-lang")] = lang
			for _, r := range routeTable() {
				if r.method != http.MethodGet || r.api || strings.HasPrefix(r.path, "/static/") || r.long {
					continue
				}
				targets := []string{r.path}
				if strings.Contains(r.path, ":id") {
					targets = nil
					for _, id := range incidents {
						targets = append(targets, strings.Replace(r.path, ":id", id, 1))
					}
				}
				for _, target := range targets {
					w := c.get(target)
					check(string(who)+" GET "+target, w, w.Body.String())
				}
			}
		}
		// Pages that answer a form, and the error pages.
		c := e.as("wanda")
		c.cookies[e.srv.cookieName("tresor-lang")] = lang
		c.get("/incidents/new/details")
		for _, kv := range [][]string{
			{"category", "violence", "platform", "nokia", "chat_name", "Lena"},
			{"category", "violence", "platform", "android", "chat_name", "Lena", "received_at", "gestern"},
			{"category", "violence", "platform", "android"},
		} {
			w := c.post("/incidents", kv...)
			check("POST /incidents "+strings.Join(kv, " "), w, w.Body.String())
		}
		w := c.get("/incidents/00000000000000000000000000000000")
		check("a missing incident", w, w.Body.String())
		w = c.post("/incidents/" + followUp + "/steps/ask_recipient.follow_up/impossible")
		check("a step without a reason", w, w.Body.String())
		anon := e.anon()
		anon.cookies[e.srv.cookieName("tresor-lang")] = lang
		w = anon.get("/login")
		check("the sign-in page", w, w.Body.String())
	}
	if pages < 100 {
		t.Fatalf("only %d pages rendered; the test does not reach the pages", pages)
	}
}

// keyPrefixes returns the first segments of every catalog key ("walk",
// "steps", "revocation" ...): text of the form prefix.rest is a key.
func keyPrefixes(t *testing.T, e *env) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, lang := range languages {
		b, err := localeFS.ReadFile("locales/" + lang + ".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k := range m {
			p, _, _ := strings.Cut(k, ".")
			out[p] = true
		}
	}
	return out
}

var (
	scriptOrStyle = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>`)
	labelAttr     = regexp.MustCompile(`\b(?:title|alt|aria-label|placeholder|content)="([^"]*)"`)
	tag           = regexp.MustCompile(`(?s)<[^>]*>`)
	keyShaped     = regexp.MustCompile(`\b([a-z][a-z0-9_]*)((?:\.[a-z0-9_]+)+)\b`)
)

// rawKeys returns the key-shaped words of the page's text and label
// attributes whose first segment is a catalog prefix.
func rawKeys(page string, prefixes map[string]bool) []string {
	page = scriptOrStyle.ReplaceAllString(page, " ")
	var texts []string
	for _, m := range labelAttr.FindAllStringSubmatch(page, -1) {
		texts = append(texts, m[1])
	}
	texts = append(texts, tag.ReplaceAllString(page, " "))
	var out []string
	for _, s := range texts {
		for _, m := range keyShaped.FindAllStringSubmatch(html.UnescapeString(s), -1) {
			if prefixes[m[1]] {
				out = append(out, m[0])
			}
		}
	}
	return out
}

// Every German message addresses people as "Sie".
func TestGermanCatalogSaysSie(t *testing.T) {
	informal := regexp.MustCompile(`(?i)\b(du|dich|dir|dein|deine|deiner|deinen|deinem|deines|euch|euer|eure|euren|eurem)\b`)
	b, err := localeFS.ReadFile("locales/de.json")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		if w := informal.FindString(v); w != "" {
			t.Errorf("%s uses %q: %s", k, w, v)
		}
	}
}
