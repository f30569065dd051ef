package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// While the database is away, every answer says so: 503 with Retry-After,
// as JSON under /api and as the HTML page elsewhere, whatever the
// credentials. Never a 401 (a script would conclude its token was
// revoked, a person that their password is wrong) and never a 500.
// The database is really gone: its connection pools are closed.
func TestDatabaseAwayAnswers503(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			wanda := e.as("wanda")
			tok := e.apiToken("wanda")
			bearer := e.bearerClient(tok)
			badBearer := e.bearerClient(apiTokenPrefix + "not-a-token-that-exists")
			anon := e.anon()
			wantStatus(t, anon.get("/login"), http.StatusOK) // picks up the login form's CSRF token
			if err := e.store.Close(); err != nil {
				t.Fatal(err)
			}
			body, ctype := multipartBody(t, [][2]string{{csrfField, wanda.csrf}, {"category", "threat"}})
			for _, tc := range []struct {
				name string
				do   func() *httptest.ResponseRecorder
				api  bool
			}{
				{"page with session", func() *httptest.ResponseRecorder { return wanda.get("/incidents") }, false},
				{"form with session", func() *httptest.ResponseRecorder {
					return wanda.post("/incidents", "category", "threat", "description", "x", "platform", "android", "message_id", "wamid1")
				}, false},
				{"upload with session", func() *httptest.ResponseRecorder {
					return wanda.raw(http.MethodPost, "/incidents/upload", ctype, body)
				}, false},
				{"sign-in", func() *httptest.ResponseRecorder {
					return anon.post("/login", "username", "wanda", "password", "correct horse wanda")
				}, false},
				{"API with session cookie", func() *httptest.ResponseRecorder { return wanda.get("/api/v1/incidents") }, true},
				{"API with token", func() *httptest.ResponseRecorder { return bearer.get("/api/v1/incidents") }, true},
				{"API with unknown token", func() *httptest.ResponseRecorder { return badBearer.get("/api/v1/incidents") }, true},
				{"API write with token", func() *httptest.ResponseRecorder {
					return bearer.api(http.MethodPost, "/api/v1/incidents", `{"category":"threat","description":"x","platform":"android","message_id":"wamid2"}`, nil)
				}, true},
			} {
				w := tc.do()
				if w.Code != http.StatusServiceUnavailable {
					t.Errorf("%s: %d, want 503\n%.300s", tc.name, w.Code, w.Body.String())
					continue
				}
				if w.Header().Get("Retry-After") == "" {
					t.Errorf("%s: no Retry-After", tc.name)
				}
				ct := w.Header().Get("Content-Type")
				if tc.api {
					var e apiError
					if !strings.HasPrefix(ct, "application/json") || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code != "unavailable" {
						t.Errorf("%s: %s %s", tc.name, ct, w.Body.String())
					}
				} else if !strings.HasPrefix(ct, "text/html") || !strings.Contains(w.Body.String(), "Vorübergehend nicht verfügbar") {
					t.Errorf("%s: %s %.300s", tc.name, ct, w.Body.String())
				}
			}
		})
	}
}
