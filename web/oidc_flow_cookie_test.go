package web

import (
	"html"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The flow cookie cannot be edited: a step-up whose start time is moved
// back (so that an older sign-in at the provider would count as fresh) or
// whose MAC is missing is refused as a flow not started here, and
// confirms nothing.
func TestOIDCFlowCookieTampered(t *testing.T) {
	e, p := newOIDCEnv(t, stepUpPolicy)
	e.clock.Advance(time.Since(e.clock.Now())) // the provider's auth_time is real time
	lars := e.anon()
	if resp, _ := oidcSignIn(t, lars, p, "s-lars"); resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in = %d", resp.StatusCode)
	}
	e.flag(e.as("wanda"), "wamidflow1", "violence")
	for name, tamper := range map[string]func(value, mac string) string{
		"start moved back": func(value, mac string) string {
			parts := strings.Split(value, ".")
			started, err := strconv.ParseInt(parts[3], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			parts[3] = strconv.FormatInt(started-int64((4*time.Minute).Seconds()), 10)
			return strings.Join(parts, ".") + "~" + mac
		},
		"no MAC": func(value, _ string) string { return value },
	} {
		t.Run(name, func(t *testing.T) {
			w := lars.post("/auth/oidc/step-up", "page", "/approvals")
			if w.Code != http.StatusOK {
				t.Fatalf("step-up start = %d", w.Code)
			}
			value, mac, ok := strings.Cut(lars.cookies[oidcFlowCookie], "~")
			if !ok {
				t.Fatalf("flow cookie %q carries no MAC", lars.cookies[oidcFlowCookie])
			}
			lars.cookies[oidcFlowCookie] = tamper(value, mac)
			q := atProvider(t, movesOnTo(t, w.Body.String()))
			cb := lars.get("/auth/oidc/callback?" + q.Encode())
			if cb.Code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(cb.Body.String()), "nicht in diesem Browser begonnen") {
				t.Fatalf("callback with an edited flow cookie = %d:\n%s", cb.Code, cb.Body)
			}
			if body := html.UnescapeString(lars.get("/approvals").Body.String()); strings.Contains(body, "Identität bestätigt.") {
				t.Fatal("an edited flow cookie confirmed the step-up")
			}
		})
	}
}
