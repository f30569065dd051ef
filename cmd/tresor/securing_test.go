package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account/accounttest"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
)

// securing secures uploads through the real workflow into the vault cfg
// names: a worker (wanda) flags, a supervisor (susi) with a second factor
// approves, and the jobs seal.
type securing struct {
	t      *testing.T
	ctx    context.Context
	vault  *vault.Vault
	svc    *incident.Service
	worker incident.User
	sup    incident.User
	auth   *accounttest.Authenticator
}

func newSecuring(ctx context.Context, t *testing.T, cfg config, s *sqlstore.Store) *securing {
	t.Helper()
	v, err := openVault(ctx, cfg, time.Now, true, true)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	stepUp, auth := testFactors(t, s, nil)
	w := &securing{t: t, ctx: ctx, auth: auth, vault: v,
		svc: incident.NewService(s, pol, evidencevault.New(v), nil, incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), stepUp)}
	if w.worker, err = w.svc.AddUser(ctx, incident.System, incident.NewUser{Username: "wanda", Role: incident.RoleWorker, Password: "long enough 1"}); err != nil {
		t.Fatal(err)
	}
	if w.sup, err = w.svc.AddUser(ctx, incident.System, incident.NewUser{Username: "susi", Role: incident.RoleSupervisor, Password: "long enough 2"}); err != nil {
		t.Fatal(err)
	}
	auth.Enroll(t, w.sup.ID)
	return w
}

// approved flags content as a threat upload and approves securing it.
func (w *securing) approved(content string) incident.Incident {
	w.t.Helper()
	inc, err := w.svc.FlagUpload(w.ctx, w.worker.Actor(), incident.FlagInput{Category: "threat", Platform: policies.Platform("android")},
		incident.Part{Name: "drohung.png", MediaType: "image/png", Size: int64(len(content)), Content: strings.NewReader(content)})
	if err != nil {
		w.t.Fatal(err)
	}
	reqs, err := w.svc.Requests(w.ctx, w.sup.Actor(), incident.RequestFilter{IncidentID: inc.ID})
	if err != nil || len(reqs) != 1 {
		w.t.Fatalf("requests: %v %v", reqs, err)
	}
	if _, err := w.svc.Decide(w.ctx, w.sup.Actor(), reqs[0].ID, true, "sichern", w.auth.Code(w.t, w.sup.ID)); err != nil {
		w.t.Fatal(err)
	}
	return inc
}

// runJobs runs every due job.
func (w *securing) runJobs() {
	w.t.Helper()
	for {
		ran, err := w.svc.RunDue(w.ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}
