package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

func TestTOTPRFC6238Vectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		if got := account.HOTP(key, uint64(account.TOTPStep(time.Unix(v.unix, 0))), 8); got != v.want {
			t.Errorf("T=%d: %s, want %s", v.unix, got, v.want)
		}
	}
	now := time.Unix(1111111111, 0)
	for d, ok := range map[time.Duration]bool{-60 * time.Second: false, -30 * time.Second: true, 0: true, 30 * time.Second: true, 60 * time.Second: false} {
		code := account.HOTP(key, uint64(account.TOTPStep(now.Add(d))), account.TOTPDigits)
		if _, got := account.VerifyTOTP(key, code, now); got != ok {
			t.Errorf("code of %v: accepted %v, want %v", d, got, ok)
		}
	}
	if _, ok := account.VerifyTOTP(key, "12345", now); ok {
		t.Error("short code accepted")
	}
}

func TestSecretBoxBindsUserAndPurpose(t *testing.T) {
	e := newEnv(t)
	sealed, err := e.srv.factors.Seal([]byte("secret"), account.PurposeEnroll, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.srv.factors.Open(sealed, account.PurposeEnroll, "u1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]string{{account.PurposeTOTP, "u1"}, {account.PurposeEnroll, "u2"}} {
		if _, err := e.srv.factors.Open(sealed, c[0], c[1]); !errors.Is(err, account.ErrSealed) {
			t.Fatalf("opened for %v: %v", c, err)
		}
	}
	if _, err := New(Config{Service: e.svc, Accounts: e.store.Accounts(), SecretKey: []byte("short")}); err == nil {
		t.Fatal("a short secret key was accepted")
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(fmt.Sprint("tls=", tls), func(t *testing.T) {
			e := newEnvTLS(t, tls)
			c := e.anon()
			w := c.get("/login")
			h := w.Header()
			for k, v := range map[string]string{
				"Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
				"Referrer-Policy":         "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
			} {
				if h.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, h.Get(k), v)
				}
			}
			if (h.Get("Strict-Transport-Security") != "") != tls {
				t.Errorf("HSTS %q under tls=%v", h.Get("Strict-Transport-Security"), tls)
			}
			if h.Get("X-Request-Id") == "" {
				t.Error("no request id")
			}
			c.post("/login", "username", "wanda", "password", "correct horse wanda")
			name := "tresor"
			if tls {
				name = "__Host-tresor"
			}
			if _, ok := c.cookies[name]; !ok {
				t.Fatalf("no cookie %s: %v", name, c.cookies)
			}
			if strings.Contains(w.Body.String(), "style=") || strings.Contains(w.Body.String(), "<script") {
				t.Error("inline style or script in a page")
			}
		})
	}
}

func TestStatusOf(t *testing.T) {
	for err, want := range map[error]int{
		incident.ErrNotFound: 404, incident.ErrForbidden: 403, incident.ErrNotSupervisor: 403, incident.ErrSelfApproval: 403,
		incident.ErrInvalidInput: 400, incident.ErrReasonRequired: 400, incident.ErrExpired: 409, incident.ErrAlreadyDecided: 409,
		incident.ErrInvalidTransition: 409, incident.ErrConflict: 409, incident.ErrDuplicate: 409, incident.ErrUnavailable: 503,
		errors.New("boom"): 500, fmt.Errorf("x: %w", incident.ErrSelfApproval): 403,
	} {
		if got := statusOf(err); got != want {
			t.Errorf("statusOf(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestCatalogs(t *testing.T) {
	e := newEnv(t)
	de, en := e.srv.catalogs["de"], e.srv.catalogs["en"]
	for k := range de {
		if _, ok := en[k]; !ok {
			t.Errorf("%s missing in en", k)
		}
	}
	for k := range en {
		if _, ok := de[k]; !ok {
			t.Errorf("%s missing in de", k)
		}
	}
	need := map[string]bool{}
	static := regexp.MustCompile(`T "([a-z_.0-9]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		for _, m := range static.FindAllStringSubmatch(string(b), -1) {
			need[m[1]] = true
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []incident.State{incident.StateFlagged, incident.StateAwaitingApproval, incident.StateSecuring, incident.StateRevoking, incident.StateWalkthrough, incident.StateClosed} {
		need["state."+string(s)], need["next."+string(s)] = true, true
	}
	for _, r := range incident.Roles {
		need["role."+string(r)] = true
	}
	for _, k := range []string{"request.kind.secure", "request.kind.release", "request.kind.destroy", "request.state.pending",
		"request.state.approved", "request.state.rejected", "request.state.expired", "steps.state.open", "steps.state.done",
		"steps.state.impossible", "securing.content", "securing.metadata", "revocation.revoked_for_everyone",
		"revocation.deleted_for_me", "revocation.not_possible", "login.failed", "login.locked", "second_factor.wrong", "error.detail.step_up"} {
		need[k] = true
	}
	for _, status := range []int{400, 401, 403, 404, 405, 409, 413, 429, 500, 503} {
		need[fmt.Sprintf("error.%d", status)], need[fmt.Sprintf("error.%d.text", status)] = true, true
	}
	for _, err := range []error{incident.ErrSelfApproval, incident.ErrNotSupervisor, incident.ErrExpired, incident.ErrAlreadyDecided,
		incident.ErrReasonRequired, incident.ErrInvalidTransition, incident.ErrConflict, incident.ErrDuplicate, incident.ErrInvalidInput} {
		need[detailKey(err)] = true
	}
	for k := range need {
		if _, ok := de[k]; !ok {
			t.Errorf("catalog lacks %q", k)
		}
	}
}

func TestLanguage(t *testing.T) {
	for h, want := range map[string]string{"": "de", "en-GB,en;q=0.9": "en", "fr, en;q=0.5, de;q=0.8": "de", "de;q=0.1, en": "en", "fr": "de"} {
		if got := fromAcceptLanguage(h); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", h, got, want)
		}
	}
	e := newEnv(t)
	c := e.anon()
	c.header.Set("Accept-Language", "en-US")
	if w := c.get("/login"); !strings.Contains(w.Body.String(), `<html lang="en">`) || !strings.Contains(w.Body.String(), "Sign in") {
		t.Fatal("Accept-Language en not honoured")
	}
	for _, next := range []string{"//evil.example", "/\t/evil.example", "/\r\n/evil.example", "/\\evil.example"} {
		wantRedirect(t, c.post("/language", "lang", "de", "next", next), "/")
	}
	wantRedirect(t, c.post("/language", "lang", "de", "next", "/incidents"), "/incidents")
	if w := c.get("/login"); !strings.Contains(w.Body.String(), "Anmelden") {
		t.Fatal("the language cookie does not win over Accept-Language")
	}
	wantStatus(t, c.post("/language", "lang", "fr"), http.StatusBadRequest)
}

func TestAuditor(t *testing.T) {
	e := newEnv(t)
	e.enroll("anna")
	id := e.flag(e.as("wanda"), "wamid1", "violence")
	anna := e.as("anna")
	w := anna.get("/incidents/" + id)
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "Meldung angelegt") || strings.Contains(w.Body.String(), "/decide") {
		t.Fatal("auditor page: no trail, or a decide form")
	}
	w = anna.post("/audit/verify")
	wantStatus(t, w, http.StatusOK)
	if !strings.Contains(w.Body.String(), "Das Audit-Protokoll ist unverändert") {
		t.Fatalf("verify result missing:\n%s", w.Body.String())
	}
	w = anna.get("/audit/export?incident=" + id + "&format=csv")
	wantStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(w.Body.String(), "incident.flagged") {
		t.Fatalf("csv export: %s\n%s", ct, w.Body.String())
	}
	w = anna.get("/audit/export?from=2026-11-27&to=2026-11-27&format=jsonl")
	wantStatus(t, w, http.StatusOK)
	entries, err := audit.ReadJSONL(strings.NewReader(w.Body.String()))
	if err != nil || len(entries) == 0 {
		t.Fatalf("jsonl export: %d entries, %v", len(entries), err)
	}
	wantStatus(t, anna.get("/audit/export?from=yesterday"), http.StatusBadRequest)
	wantStatus(t, anna.get("/audit/export?format=xml"), http.StatusBadRequest)
	wantStatus(t, anna.get("/audit/export?incident=../../etc"), http.StatusNotFound)
}

func TestAdminUsers(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	adam := e.as("adam")
	wantStatus(t, adam.get("/admin/users"), http.StatusOK)
	wantRedirect(t, adam.post("/admin/users", "username", "neu", "display_name", "Neu", "role", "auditor", "password", "long enough pw"), "/admin/users")
	wantStatus(t, adam.post("/admin/users", "username", "neu", "role", "auditor", "password", "long enough pw"), http.StatusConflict)
	wantStatus(t, adam.post("/admin/users", "username", "x2", "role", "king", "password", "long enough pw"), http.StatusBadRequest)
	wantStatus(t, adam.post("/admin/users/adam/disabled", "disabled", "true"), http.StatusForbidden)
	wantStatus(t, adam.post("/admin/users/nobody/second-factor/reset"), http.StatusNotFound)
	if !strings.Contains(adam.get("/admin/users").Body.String(), ">neu<") {
		t.Fatal("new user not listed")
	}
}
