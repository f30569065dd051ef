package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// Bytes no person types — invalid UTF-8, NUL, other control characters —
// are refused as invalid input naming the field, on every database
// (PostgreSQL refuses both in text, which was a 500 before), and nothing
// is stored.
func TestBadBytesAreInvalidInput(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			wanda := e.as("wanda")
			flagForm := func(kv ...string) *httptest.ResponseRecorder {
				form := map[string]string{"category": "violence", "description": "Bild einer Prügelei", "platform": "android",
					"message_id": "wamid1", "media_type": "image/jpeg", "file_sha256": strings.Repeat("ab", 32)}
				for i := 0; i+1 < len(kv); i += 2 {
					form[kv[i]] = kv[i+1]
				}
				var args []string
				for k, v := range form {
					args = append(args, k, v)
				}
				return wanda.post("/incidents", args...)
			}
			for _, tt := range []struct{ field, value string }{
				{"message_id", "wamid\xff\xfe"},
				{"description", "Max \xc3\x28 Mustermann"},
				{"description", "Max\x00Mustermann"},
				{"message_id", "wamid\x00"},
				{"description", "Klingel\x07"},
			} {
				w := flagForm(tt.field, tt.value)
				wantStatus(t, w, http.StatusBadRequest)
			}
			tok := e.apiToken("wanda")
			api := e.bearerClient(tok)
			for _, body := range []string{
				`{"category":"violence","description":"a\u0000b","platform":"android","message_id":"wamid2"}`,
				`{"category":"violence","description":"ok","platform":"android","message_id":"wamid\u0000"}`,
			} {
				w := api.api(http.MethodPost, "/api/v1/incidents", body, nil)
				wantAPIError(t, w, http.StatusBadRequest, "invalid_input")
				if !strings.Contains(w.Body.String(), `field \"`) {
					t.Errorf("the error does not name the field: %s", w.Body.String())
				}
			}
			wantStatus(t, e.as("wanda").post("/account/tokens", "name", "Skript\x00"), http.StatusBadRequest)
			wantStatus(t, e.as("wanda").post("/account/tokens", "name", "Skript\xff"), http.StatusBadRequest)
			var list struct {
				Incidents []any `json:"incidents"`
			}
			if w := api.api(http.MethodGet, "/api/v1/incidents", "", &list); w.Code != http.StatusOK || len(list.Incidents) != 0 {
				t.Fatalf("something was stored: %d %s", w.Code, w.Body.String())
			}
			for _, path := range []string{"/incidents/%00", "/incidents/%FF%FE", "/api/v1/incidents/%00", "/api/v1/requests?incident=%00"} {
				c := wanda
				if strings.HasPrefix(path, "/api/") {
					c = api
				}
				if w := c.get(path); w.Code >= 500 || w.Code == http.StatusOK && !strings.Contains(path, "requests") {
					t.Errorf("GET %s: %d", path, w.Code)
				}
			}
		})
	}
}
