package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// logMarker is caller-supplied text: it must never reach the service log.
// Letters and digits, so that it passes the identifier checks (message
// ids, user names) and only the logging keeps it out.
const logMarker = "hostile7f3amarker"

// hostileWhatsApp answers like a WhatsApp adapter whose errors repeat
// what the worker typed (a phone number) or what WhatsApp sent.
type hostileWhatsApp struct{ *fakeWhatsApp }

func (h hostileWhatsApp) PairPhone(ctx context.Context, workerID, phone string) (string, error) {
	return "", fmt.Errorf("whatsapp refused to pair %s: %w", phone, errors.New("server error 500"))
}

func (h hostileWhatsApp) RecentMessages(ctx context.Context, workerID string) ([]incident.MessageRef, error) {
	return nil, fmt.Errorf("cannot read the capture of message %s", strings.ToUpper(logMarker))
}

// TestLogsCarryNoCallerText sends the marker through every kind of input
// the main routes take — query strings, form fields, user names typed at
// sign-in, message ids, descriptions, file names, JSON bodies, token
// names, e-mail addresses, reasons, paths, methods, bytes that are not
// UTF-8 — and through errors of the WhatsApp adapter that repeat it, and
// then with the database gone; the service log never shows it, while it
// still records each request by route pattern and status.
func TestLogsCarryNoCallerText(t *testing.T) {
	e := newEnv(t)
	e.srv.wa = hostileWhatsApp{e.wa}
	for _, name := range []string{"susi", "anna", "adam"} {
		e.enroll(name)
	}
	text := "Max Mustermann, Tel 0171 " + logMarker
	upper := strings.ToUpper(logMarker)

	anon := e.anon()
	anon.get("/login?username=" + logMarker)
	anon.post("/login?secretquery="+logMarker, "username", logMarker, "password", text)
	anon.post("/login", "username", "wanda", "password", "correct horse wanda "+logMarker)
	anon.post("/language", "lang", "de", "next", "/\t/"+logMarker+".example")
	anon.get("/" + logMarker)
	anon.do(logMarker, "/login", nil)
	anon.do(http.MethodGet, "/static/"+logMarker+".css", nil)

	wanda := e.as("wanda")
	wanda.get("/incidents/new/details")
	wanda.get("/incidents/" + logMarker)
	for _, form := range [][]string{
		{"category", "threat", "description", text, "platform", "android", "message_id", upper, "media_type", "image/jpeg", "file_sha256", strings.Repeat("ab", 32)},
		{"category", "threat", "description", "x", "platform", "android", "message_id", text},
		{"category", logMarker, "description", "x", "platform", logMarker, "chat_name", text, "received_at", logMarker, "kind", logMarker},
		{"category", "threat", "description", "\xff\xfe" + text, "platform", "android", "message_id", "\xff" + upper},
	} {
		wanda.post("/incidents", form...)
	}
	wanda.upload("threat", logMarker+".jpg", strings.NewReader("\x89PNG\r\n\x1a\n"+text))
	wanda.post("/account/tokens", "name", text, "days", logMarker)
	wanda.post("/incidents/"+logMarker+"/steps/"+logMarker+"/confirm", "note", text)

	// WhatsApp adapter errors that repeat the worker's input.
	id := e.users["wanda"].ID
	wantRedirect(t, wanda.post("/whatsapp/link", "consent", "yes"), "/whatsapp/link")
	e.wa.send(t, id, LinkStep{Kind: LinkCode, Code: "2@" + logMarker, Timeout: time.Minute})
	e.waitLink("wanda", linkShowing)
	wantStatus(t, wanda.post("/whatsapp/pair", "phone", "+49 171 "+logMarker), http.StatusInternalServerError)
	e.wa.send(t, id, LinkStep{Kind: LinkError, Err: errors.New("stream error: " + logMarker)})
	e.waitLink("wanda", linkFailed)

	bearer := e.bearerClient(e.apiToken("wanda"))
	bearer.api(http.MethodPost, "/api/v1/incidents", `{"category":"threat","description":"`+text+`","platform":"android","message_id":"`+upper+`2","media_type":"image/jpeg","file_sha256":"`+strings.Repeat("cd", 32)+`"}`, nil)
	bearer.api(http.MethodPost, "/api/v1/incidents", `{"category":"`+logMarker+`","message_id":"`+text+`"}`, nil)
	bearer.api(http.MethodPost, "/api/v1/incidents", `{"description":"`+logMarker+"\\u0000"+`"}`, nil)
	bearer.api(http.MethodGet, "/api/v1/incidents/"+logMarker, "", nil)
	e.bearerClient("tresor_"+logMarker).api(http.MethodGet, "/api/v1/incidents", "", nil)

	susi := e.as("susi")
	susi.post("/requests/"+logMarker+"/decide", "decision", "approve", "reason", text, "code", logMarker)
	susi.post("/incidents/"+logMarker+"/legal-hold", "reason", text)

	adam := e.as("adam")
	adam.post("/admin/users", "username", logMarker, "display_name", text, "role", "worker", "password", text, "email", logMarker+"@example.org")
	adam.post("/admin/users", "username", text, "role", logMarker, "password", "x", "email", text)
	adam.post("/admin/users/"+logMarker+"/email", "email", logMarker+"@example.org")
	e.bearerClient(e.apiToken("adam")).api(http.MethodPost, "/api/v1/users", `{"username":"`+text+`","role":"`+logMarker+`"}`, nil)

	anna := e.as("anna")
	anna.get("/audit/export?incident=" + logMarker + "&format=" + logMarker)

	// With the database gone, every request fails and is logged.
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	anon.post("/login", "username", logMarker, "password", text)
	wanda.post("/incidents", "category", "threat", "description", text, "platform", "android", "message_id", upper)
	bearer.api(http.MethodGet, "/api/v1/incidents/"+logMarker, "", nil)

	log := e.log.String()
	for _, bad := range []string{logMarker, "wanda", "correct horse", "secretquery", "username=", "Mustermann", "0171"} {
		if strings.Contains(strings.ToLower(log), strings.ToLower(bad)) {
			t.Errorf("the log contains %q:\n%s", bad, log)
		}
	}
	for _, want := range []string{"route=/login", "status=303", "method=OTHER", "route=/whatsapp/pair status=500",
		`msg="request failed"`, `msg="whatsapp linking failed"`, `msg="recent whatsapp messages"`, "status=503"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
}
