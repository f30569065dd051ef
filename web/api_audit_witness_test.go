package web

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
)

type noteKeys struct {
	s note.Signer
	v note.Verifier
}

func newNoteKeys(t *testing.T, name string) noteKeys {
	t.Helper()
	skey, vkey, err := audit.GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := audit.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return noteKeys{s, v}
}

// withWitness rebuilds the service and server with the witness key.
func (e *env) withWitness(keys ...note.Verifier) {
	e.t.Helper()
	pol, err := policies.Default()
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc = incident.NewService(e.store, pol, fakeVault{}, fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(e.factors()), incident.WithWitnessKeys(keys...))
	e.serve(false)
}

func cosignBody(t *testing.T, msg []byte) string {
	t.Helper()
	b, err := json.Marshal(apiCosignBody{Note: string(msg)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAPIWitnessedCheckpoints: the checkpoint, consistency and
// cosignature routes for auditors, and every wrong input refused with 4xx.
func TestAPIWitnessedCheckpoints(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnvOn(t, false, d)
			server, dpo, stranger := newNoteKeys(t, "tresor-audit"), newNoteKeys(t, "dpo"), newNoteKeys(t, "stranger")
			e.withWitness(dpo.v)
			anna := e.bearerClient(e.apiToken("anna"))
			wanda := e.bearerClient(e.apiToken("wanda"))

			wantAPIError(t, anna.api(http.MethodGet, "/api/v1/audit/checkpoint", "", nil), http.StatusNotFound, "not_found")
			first, err := e.svc.SignCheckpoint(e.ctx, server.s, server.v, true)
			if err != nil {
				t.Fatal(err)
			}
			var got apiCheckpoint
			wantStatus(t, anna.api(http.MethodGet, "/api/v1/audit/checkpoint", "", &got), http.StatusOK)
			tree1, err := audit.OpenCheckpoint([]byte(got.Note), server.v)
			if err != nil || tree1.N != first.Size || got.Size != first.Size {
				t.Fatalf("checkpoint %+v: %v", got, err)
			}

			// The log grows and a second checkpoint is saved.
			for _, name := range []string{"neu1", "neu2", "neu3"} {
				if _, err := e.svc.AddUser(e.ctx, incident.System, incident.NewUser{Username: name, Role: incident.RoleWorker, Password: "correct horse " + name}); err != nil {
					t.Fatal(err)
				}
			}
			second, err := e.svc.SignCheckpoint(e.ctx, server.s, server.v, true)
			if err != nil {
				t.Fatal(err)
			}
			tree2, err := audit.OpenCheckpoint([]byte(second.Note), server.v)
			if err != nil {
				t.Fatal(err)
			}
			var proof apiConsistency
			wantStatus(t, anna.api(http.MethodGet, "/api/v1/audit/consistency?old="+strconv.FormatInt(tree1.N, 10), "", &proof), http.StatusOK)
			p := make(tlog.TreeProof, len(proof.Proof))
			for i, h := range proof.Proof {
				b, err := base64.StdEncoding.DecodeString(h)
				if err != nil || len(b) != tlog.HashSize {
					t.Fatalf("proof hash %q", h)
				}
				copy(p[i][:], b)
			}
			if proof.Size != tree2.N || audit.CheckConsistency(p, tree1, tree2) != nil {
				t.Fatalf("consistency %+v does not prove %v extends %v", proof, tree2, tree1)
			}
			wantStatus(t, anna.api(http.MethodGet, "/api/v1/audit/consistency?old=1&size="+strconv.FormatInt(tree1.N, 10), "", nil), http.StatusOK)
			for _, q := range []string{"", "?old=", "?old=-1", "?old=x", "?old=1&size=abc", "?old=99999", "?old=1&size=99999", "?old=1%00"} {
				w := anna.api(http.MethodGet, "/api/v1/audit/consistency"+q, "", nil)
				if w.Code != http.StatusBadRequest && w.Code != http.StatusNotFound {
					t.Errorf("consistency%s: %d, want 400 or 404", q, w.Code)
				}
			}

			cosigned, _, err := audit.Cosign([]byte(second.Note), server.v, dpo.s, tree1, p)
			if err != nil {
				t.Fatal(err)
			}
			byStranger, _, err := audit.Cosign([]byte(second.Note), server.v, stranger.s, tlog.Tree{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			for name, body := range map[string]string{
				"not JSON":              "note",
				"unknown field":         `{"note":"x","size":3}`,
				"server signature only": cosignBody(t, []byte(second.Note)),
				"a stranger's key":      cosignBody(t, byStranger),
				"not a note":            `{"note":"tresor audit log\n"}`,
				"a size never saved":    cosignBody(t, []byte("tresor audit log\n999\n"+base64.StdEncoding.EncodeToString(make([]byte, 32))+"\n\n— dpo AAAAAAAA\n")),
			} {
				t.Run(name, func(t *testing.T) {
					wantAPIError(t, anna.api(http.MethodPost, "/api/v1/audit/cosignatures", body, nil), http.StatusBadRequest, "invalid_input")
				})
			}
			for _, path := range []string{"/api/v1/audit/checkpoint", "/api/v1/audit/consistency?old=1"} {
				wantStatus(t, wanda.api(http.MethodGet, path, "", nil), http.StatusForbidden)
			}
			wantStatus(t, wanda.api(http.MethodPost, "/api/v1/audit/cosignatures", cosignBody(t, cosigned), nil), http.StatusForbidden)

			var stored apiCosigned
			wantStatus(t, anna.api(http.MethodPost, "/api/v1/audit/cosignatures", cosignBody(t, cosigned), &stored), http.StatusCreated)
			if stored.Size != tree2.N || len(stored.Witnesses) != 1 {
				t.Fatalf("stored %+v", stored)
			}
			wantAPIError(t, anna.api(http.MethodPost, "/api/v1/audit/cosignatures", cosignBody(t, cosigned), nil), http.StatusConflict, "duplicate")
			res, err := e.svc.CheckAudit(e.ctx, server.v, []note.Verifier{dpo.v})
			if err != nil || res.Witnessed != tree2 || res.Cosignatures != 1 {
				t.Fatalf("CheckAudit: %+v, %v", res, err)
			}
			trail, err := e.svc.Trail(e.ctx, e.users["anna"].Actor(), incident.AuditFilter{})
			if err != nil || trail[len(trail)-1].Action != "audit.cosigned" || trail[len(trail)-1].Actor != e.users["anna"].ID {
				t.Fatalf("the cosignature has no audit entry: %v", err)
			}

			// Without witness keys configured, nothing is accepted.
			e.withWitness()
			wantAPIError(t, anna.api(http.MethodPost, "/api/v1/audit/cosignatures", cosignBody(t, cosigned), nil), http.StatusServiceUnavailable, "unavailable")

			// A log altered below a saved checkpoint is a finding the
			// auditor is told about (409 audit_tampered), not a server error.
			db, err := e.store.SQLDB()
			if err != nil {
				t.Fatal(err)
			}
			tamper := []string{`UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2`}
			if d == sqlstore.Postgres { // the append-only trigger stands for what an attacker with the database's owner rights can lift
				tamper = append([]string{`ALTER TABLE audit_entries DISABLE TRIGGER USER`}, tamper...)
			}
			for _, stmt := range tamper {
				if _, err := db.ExecContext(e.ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			wantAPIError(t, anna.api(http.MethodGet, "/api/v1/audit/consistency?old=1", "", nil), http.StatusConflict, "audit_tampered")
		})
	}
}
