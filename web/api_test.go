package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// apiToken gives the user a fresh API token directly through the store.
func (e *env) apiToken(name string) string {
	e.t.Helper()
	return e.apiTokenOf(e.users[name].ID)
}

// apiTokenOf is a new API token of the account userID.
func (e *env) apiTokenOf(userID string) string {
	e.t.Helper()
	secret, err := e.srv.token(32)
	if err != nil {
		e.t.Fatal(err)
	}
	id, err := e.srv.token(12)
	if err != nil {
		e.t.Fatal(err)
	}
	tok := apiTokenPrefix + secret
	now := e.clock.Now()
	if err := e.store.CreateAPIToken(e.ctx, account.APIToken{ID: id, UserID: userID, Name: "test", TokenHash: account.HashToken(tok),
		CreatedAt: now, ExpiresAt: now.Add(30 * 24 * time.Hour)}); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// bearerClient is a client that authenticates with a token only.
func (e *env) bearerClient(tok string) *client {
	c := e.anon()
	c.header.Set("Authorization", "Bearer "+tok)
	return c
}

// api sends a JSON body (a string, sent as is) and decodes the answer into out.
func (c *client) api(method, target, body string, out any) *httptest.ResponseRecorder {
	c.e.t.Helper()
	var w *httptest.ResponseRecorder
	if body == "" {
		w = c.do(method, target, nil)
	} else {
		w = c.raw(method, target, "application/json", strings.NewReader(body))
	}
	if out != nil && w.Code < 300 {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			c.e.t.Fatalf("%s %s: %v\n%s", method, target, err, w.Body.String())
		}
	}
	return w
}

// wantAPIError checks status and error code of an API answer.
func wantAPIError(t *testing.T, w *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	var e apiError
	if w.Code != status || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Fatalf("status %d body %s, want %d with code %q", w.Code, w.Body.String(), status, code)
	}
}

var tokenOnPage = regexp.MustCompile(`tresor_pat_[A-Za-z0-9_-]{43}`)

func TestAPITokensPage(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	wantStatus(t, wanda.get("/account/tokens"), http.StatusOK)
	w := wanda.post("/account/tokens", "name", "Skript", "days", "30")
	wantStatus(t, w, http.StatusOK)
	tok := tokenOnPage.FindString(w.Body.String())
	if tok == "" {
		t.Fatalf("the new token is not shown:\n%s", w.Body.String())
	}
	if strings.Contains(wanda.get("/account/tokens").Body.String(), tok) {
		t.Fatal("the token is shown a second time")
	}
	ts, err := e.store.APITokens(e.ctx, e.users["wanda"].ID)
	if err != nil || len(ts) != 1 || ts[0].TokenHash != account.HashToken(tok) || !ts[0].ExpiresAt.Equal(e.clock.Now().Add(30*24*time.Hour)) {
		t.Fatalf("stored tokens: %+v, %v", ts, err)
	}
	wantStatus(t, wanda.post("/account/tokens", "name", "", "days", "30"), http.StatusBadRequest)
	wantStatus(t, wanda.post("/account/tokens", "name", "x", "days", "10000"), http.StatusBadRequest)

	api := e.bearerClient(tok)
	var list struct{ Incidents []apiIncident }
	wantStatus(t, api.api(http.MethodGet, "/api/v1/incidents", "", &list), http.StatusOK)
	if got, _ := e.store.APITokenByHash(e.ctx, account.HashToken(tok)); !got.LastUsedAt.Equal(e.clock.Now()) {
		t.Fatalf("last use not recorded: %v", got.LastUsedAt)
	}
	// Another user cannot revoke it; its owner can, and then it is dead.
	otto := e.as("otto")
	wantStatus(t, otto.post("/account/tokens/"+ts[0].ID+"/revoke"), http.StatusNotFound)
	wantRedirect(t, wanda.post("/account/tokens/"+ts[0].ID+"/revoke"), "/account/tokens?done=token_revoked")
	wantAPIError(t, api.api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")

	// Expired tokens and disabled users are refused.
	tok2 := e.apiToken("wanda")
	wantStatus(t, e.bearerClient(tok2).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusOK)
	e.clock.Advance(31 * 24 * time.Hour)
	wantAPIError(t, e.bearerClient(tok2).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
	tok3 := e.apiToken("otto")
	if _, err := e.svc.SetUserDisabled(e.ctx, incident.System, "otto", true); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, e.bearerClient(tok3).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
	for _, h := range []string{"Bearer nonsense", "Basic d2FuZGE6eA==", "Bearer " + apiTokenPrefix + "x"} {
		c := e.anon()
		c.header.Set("Authorization", h)
		wantAPIError(t, c.api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
	}
	var actions []string
	entries, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		actions = append(actions, en.Action)
	}
	if !strings.Contains(strings.Join(actions, " "), "auth.api_token_created") || !strings.Contains(strings.Join(actions, " "), "auth.api_token_revoked") {
		t.Fatalf("token events not audited: %v", actions)
	}
}

func TestAPIFlow(t *testing.T) {
	e := newEnv(t)
	e.enroll("susi")
	e.enroll("sven")
	e.enroll("anna")
	wanda := e.bearerClient(e.apiToken("wanda"))
	susi := e.bearerClient(e.apiToken("susi"))

	// Strict bodies.
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","platform":"android","message_id":"m1","color":"red"}`, nil),
		http.StatusBadRequest, "invalid_input")
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","platform":"android","message_id":"m1"} {}`, nil),
		http.StatusBadRequest, "invalid_input")
	wantAPIError(t, wanda.raw(http.MethodPost, "/api/v1/incidents", "text/plain", strings.NewReader(`{}`)), http.StatusBadRequest, "invalid_input")
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", `{"description":"`+strings.Repeat("x", maxFormBytes)+`"}`, nil),
		http.StatusRequestEntityTooLarge, "too_large")
	wantAPIError(t, wanda.api(http.MethodGet, "/api/v1/nothing", "", nil), http.StatusNotFound, "not_found")

	var inc apiIncident
	w := wanda.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","description":"Video einer Schlägerei","platform":"android","message_id":"wamidapi"}`, &inc)
	wantStatus(t, w, http.StatusCreated)
	if inc.State != string(incident.StateAwaitingApproval) || inc.Message.ID != "wamidapi" {
		t.Fatalf("flagged: %+v", inc)
	}
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", `{"category":"violence","platform":"android","message_id":"wamidapi"}`, nil),
		http.StatusConflict, "duplicate")
	otto := e.bearerClient(e.apiToken("otto"))
	wantAPIError(t, otto.api(http.MethodGet, "/api/v1/incidents/"+inc.ID, "", nil), http.StatusNotFound, "not_found")

	var reqs struct{ Requests []apiRequest }
	wantStatus(t, susi.api(http.MethodGet, "/api/v1/requests?state=pending", "", &reqs), http.StatusOK)
	if len(reqs.Requests) != 1 || reqs.Requests[0].IncidentID != inc.ID {
		t.Fatalf("pending requests: %+v", reqs)
	}
	decide := "/api/v1/requests/" + reqs.Requests[0].ID + "/decide"
	wantAPIError(t, susi.api(http.MethodPost, decide, `{"decision":"approve","reason":"sichern","code":"000000"}`, nil), http.StatusForbidden, "step_up_failed")
	// Without a code the body does not match the schema (code is required:
	// the API never uses a confirmation at the identity provider).
	wantAPIError(t, susi.api(http.MethodPost, decide, `{"decision":"approve","reason":"sichern"}`, nil), http.StatusBadRequest, "invalid_input")
	wantAPIError(t, susi.api(http.MethodPost, decide, `{"decision":"maybe","reason":"x","code":"1"}`, nil), http.StatusBadRequest, "invalid_input")
	var decided apiRequest
	wantStatus(t, susi.api(http.MethodPost, decide, `{"decision":"approve","reason":"sichern","code":"`+e.code("susi")+`"}`, &decided), http.StatusOK)
	if decided.State != string(incident.RequestApproved) || len(decided.Decisions) != 1 {
		t.Fatalf("decided: %+v", decided)
	}
	e.runJobs()

	var d apiIncidentDetail
	wantStatus(t, wanda.api(http.MethodGet, "/api/v1/incidents/"+inc.ID, "", &d), http.StatusOK)
	if d.Incident.State != string(incident.StateWalkthrough) || d.Incident.Receipt == nil || len(d.Steps) == 0 {
		t.Fatalf("after approval: %+v", d)
	}
	var step apiStep
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/steps/"+d.Steps[0].Key+"/confirm", "", &step), http.StatusOK)
	if step.State != string(incident.StepDone) {
		t.Fatalf("confirmed step: %+v", step)
	}
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/steps/"+d.Steps[1].Key+"/impossible", `{"reason":""}`, nil),
		http.StatusBadRequest, "reason_required")
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/steps/"+d.Steps[1].Key+"/impossible", `{"reason":"kein Backup"}`, &step), http.StatusOK)

	var rel apiRequest
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents/"+inc.ID+"/release",
		`{"purpose":"Anzeige","recipient":"Polizei","legal_basis":"§ 158 StPO","reason":"Strafanzeige"}`, &rel), http.StatusCreated)
	sven := e.bearerClient(e.apiToken("sven"))
	wantStatus(t, sven.api(http.MethodPost, "/api/v1/requests/"+rel.ID+"/decide", `{"decision":"approve","reason":"ok","code":"`+e.code("sven")+`"}`, nil), http.StatusOK)
	var handed apiRequest
	wantStatus(t, susi.api(http.MethodPost, "/api/v1/requests/"+rel.ID+"/handover", `{"note":"USB-Stick an KHK M."}`, &handed), http.StatusOK)
	if handed.HandedOverAt == nil {
		t.Fatalf("handover: %+v", handed)
	}

	// Auditors verify and export; the export is itself recorded.
	anna := e.bearerClient(e.apiToken("anna"))
	var vr apiVerifyResult
	wantStatus(t, anna.api(http.MethodPost, "/api/v1/audit/verify", "", &vr), http.StatusOK)
	if !vr.OK || vr.Entries == 0 || vr.TreeHash == "" {
		t.Fatalf("verify: %+v", vr)
	}
	w = anna.api(http.MethodGet, "/api/v1/audit/export?incident="+inc.ID+"&format=jsonl", "", nil)
	wantStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Type") != "application/x-ndjson" || !strings.Contains(w.Body.String(), "incident.flagged") {
		t.Fatalf("export: %s", w.Header().Get("Content-Type"))
	}
	wantAPIError(t, anna.api(http.MethodGet, "/api/v1/audit/export?format=xml", "", nil), http.StatusBadRequest, "invalid_input")
	trail, err := e.svc.Trail(e.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.AuditFilter{IncidentID: inc.ID})
	if err != nil || trail[len(trail)-1].Action != "audit.exported" || trail[len(trail)-1].Details["format"] != "jsonl" {
		t.Fatalf("export not recorded: %v", err)
	}
}

func TestAPISessionAuth(t *testing.T) {
	e := newEnv(t)
	wanda := e.as("wanda")
	body := `{"category":"violence","platform":"android","message_id":"wamids"}`
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", body, nil), http.StatusForbidden, "csrf")
	wanda.header.Set(csrfHeader, "wrong")
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", body, nil), http.StatusForbidden, "csrf")
	wanda.header.Set(csrfHeader, wanda.csrf)
	wanda.header.Set("Origin", "https://evil.example")
	wantAPIError(t, wanda.api(http.MethodPost, "/api/v1/incidents", body, nil), http.StatusForbidden, "csrf")
	wanda.header.Del("Origin")
	wantStatus(t, wanda.api(http.MethodPost, "/api/v1/incidents", body, nil), http.StatusCreated)
	wantStatus(t, e.as("wanda").api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusOK)
	// A half-signed-in session is no API session.
	c := e.anon()
	c.get("/login")
	wantRedirect(t, c.post("/login", "username", "susi", "password", "correct horse susi"), "/")
	wantAPIError(t, c.api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
}

func TestAPIUsers(t *testing.T) {
	e := newEnv(t)
	adam := e.bearerClient(e.apiToken("adam"))
	var u apiUser
	wantStatus(t, adam.api(http.MethodPost, "/api/v1/users", `{"username":"neu","display_name":"Neu","role":"worker","password":"long enough pw"}`, &u), http.StatusCreated)
	if u.Username != "neu" || u.Role != "worker" {
		t.Fatalf("created %+v", u)
	}
	wantAPIError(t, adam.api(http.MethodPost, "/api/v1/users", `{"username":"neu","role":"worker","password":"long enough pw"}`, nil), http.StatusConflict, "duplicate")
	var list struct{ Users []apiUser }
	wantStatus(t, adam.api(http.MethodGet, "/api/v1/users", "", &list), http.StatusOK)
	if len(list.Users) != 7 {
		t.Fatalf("%d users", len(list.Users))
	}
	// A role change revokes the user's sessions and tokens; granting an
	// approving role waits for a second person's approval.
	wandaTok := e.apiToken("wanda")
	wandaWeb := e.as("wanda")
	var ar apiAccountRequest
	wantStatus(t, adam.api(http.MethodPost, "/api/v1/users/wanda/role", `{"role":"supervisor"}`, &ar), http.StatusAccepted)
	if ar.Kind != "grant_role" || ar.State != "pending" {
		t.Fatalf("account request %+v", ar)
	}
	wantStatus(t, e.bearerClient(wandaTok).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusOK)
	wantAPIError(t, adam.api(http.MethodPost, "/api/v1/account-requests/"+ar.ID+"/decide", `{"decision":"approve","reason":"ok","code":"000000"}`, nil),
		http.StatusForbidden, "self_approval")
	e.enroll("sven")
	sven := e.bearerClient(e.apiToken("sven"))
	var pending []apiAccountRequest
	wantStatus(t, sven.api(http.MethodGet, "/api/v1/account-requests", "", &pending), http.StatusOK)
	if len(pending) != 1 || pending[0].ID != ar.ID {
		t.Fatalf("pending %+v", pending)
	}
	wantStatus(t, sven.api(http.MethodPost, "/api/v1/account-requests/"+ar.ID+"/decide",
		`{"decision":"approve","reason":"neue Leitung","code":"`+e.code("sven")+`"}`, &ar), http.StatusOK)
	if got, _ := e.svc.User(e.ctx, incident.System, e.users["wanda"].ID); got.Role != incident.RoleSupervisor {
		t.Fatalf("role after approval %q", got.Role)
	}
	wantAPIError(t, e.bearerClient(wandaTok).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
	wantRedirect(t, wandaWeb.get("/incidents"), "/login")
	wantAPIError(t, adam.api(http.MethodPost, "/api/v1/users/adam/role", `{"role":"worker"}`, nil), http.StatusForbidden, "forbidden")
	wantAPIError(t, adam.api(http.MethodPost, "/api/v1/users/otto/role", `{"role":"king"}`, nil), http.StatusBadRequest, "invalid_input")
	wantAPIError(t, adam.api(http.MethodPost, "/api/v1/users/otto/disabled", `{}`, nil), http.StatusBadRequest, "invalid_input")
	ottoTok := e.apiToken("otto")
	wantStatus(t, adam.api(http.MethodPost, "/api/v1/users/otto/disabled", `{"disabled":true}`, &u), http.StatusOK)
	if !u.Disabled {
		t.Fatal("not disabled")
	}
	if ts, _ := e.store.APITokens(e.ctx, e.users["otto"].ID); len(ts) != 1 || ts[0].RevokedAt.IsZero() {
		t.Fatalf("tokens of a disabled user stay active: %+v", ts)
	}
	wantAPIError(t, e.bearerClient(ottoTok).api(http.MethodGet, "/api/v1/incidents", "", nil), http.StatusUnauthorized, "unauthorized")
}
