package incident_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
)

// fakeVault records what was sealed; it keeps hashes, not content.
type fakeVault struct {
	mu        sync.Mutex
	sealed    map[string]incident.Manifest
	partHash  map[string][]string
	destroyed []string
	failSeal  error
}

func newFakeVault() *fakeVault {
	return &fakeVault{sealed: map[string]incident.Manifest{}, partHash: map[string][]string{}}
}

func (v *fakeVault) Seal(ctx context.Context, id string, m incident.Manifest, parts []incident.Part) (incident.Receipt, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.failSeal != nil {
		return incident.Receipt{}, v.failSeal
	}
	var hashes []string
	for _, p := range parts {
		h := sha256.New()
		if _, err := io.Copy(h, p.Content); err != nil {
			return incident.Receipt{}, err
		}
		hashes = append(hashes, hex.EncodeToString(h.Sum(nil)))
	}
	v.sealed[id], v.partHash[id] = m, hashes
	return incident.Receipt{BundleID: id, CiphertextSHA256: strings.Repeat("c", 64), CiphertextSize: 4096,
		ManifestSHA256: strings.Repeat("m", 64), Recipients: []string{"age1test"}, SealedAt: m.CapturedAt}, nil
}

func (v *fakeVault) Destroy(ctx context.Context, id string) (incident.Destruction, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.sealed[id]; !ok {
		return incident.Destruction{}, incident.ErrNotFound
	}
	delete(v.sealed, id)
	v.destroyed = append(v.destroyed, id)
	return incident.Destruction{BundleID: id, CiphertextSHA256: strings.Repeat("c", 64), CiphertextSize: 4096, Detail: "removed"}, nil
}

// fakeMessenger stands in for WhatsApp; it implements the same port as
// the whatsmeow adapter and records every call.
type fakeMessenger struct {
	mu        sync.Mutex
	content   []byte
	fetched   int
	revoked   []string
	revokeErr error
	fetchErr  error
	outcome   incident.RevokeOutcome
}

func (m *fakeMessenger) FetchContent(ctx context.Context, inc incident.Incident) ([]incident.Part, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fetched++
	if m.fetchErr != nil {
		return nil, m.fetchErr
	}
	return []incident.Part{{Name: "media.jpg", MediaType: "image/jpeg", Size: int64(len(m.content)),
		Content: io.NopCloser(bytes.NewReader(m.content))}}, nil
}

func (m *fakeMessenger) Revoke(ctx context.Context, inc incident.Incident) (incident.Revocation, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.revokeErr != nil {
		return incident.Revocation{}, m.revokeErr
	}
	m.revoked = append(m.revoked, inc.Message.ID)
	out := m.outcome
	if out == "" {
		out = incident.DeletedForMe
	}
	return incident.Revocation{Outcome: out, Detail: "server ack"}, nil
}

// world is a service over a real store with fakes at the edges.
type world struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlstore.Store
	dbURL  string
	svc    *incident.Service
	clock  *testclock.Clock
	vault  *fakeVault
	msgr   *fakeMessenger
	pol    *policies.Policy
	worker incident.Actor
	other  incident.Actor // another worker
	sup1   incident.Actor
	sup2   incident.Actor
	audit  incident.Actor
	admin  incident.Actor
	// factors checks the step-up codes; every user made by w.user has a
	// second factor whose key is keys[id], and used[id] is the last
	// time step w.code handed out for it.
	factors *account.Factors
	codeMu  sync.Mutex
	keys    map[string][]byte
	used    map[string]int64
}

var factorKey = bytes.Repeat([]byte{7}, 32)

var cheap = password.Params{Memory: 64, Time: 1, Threads: 1}

func newWorld(t *testing.T, d sqlstore.Dialect) *world {
	t.Helper()
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	url := sqltest.URL(t, d)
	w := &world{t: t, ctx: context.Background(), store: sqltest.OpenURL(t, url), dbURL: url, clock: testclock.New(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)),
		vault: newFakeVault(), msgr: &fakeMessenger{content: []byte("JPEG bytes of the flagged image")}, pol: pol,
		keys: map[string][]byte{}, used: map[string]int64{}}
	if w.factors, err = account.NewFactors(factorKey, rand.Reader, w.clock.Now); err != nil {
		t.Fatal(err)
	}
	w.svc = w.service(w.store)
	w.worker = w.user("wanda", incident.RoleWorker)
	w.other = w.user("otto", incident.RoleWorker)
	w.sup1 = w.user("susi", incident.RoleSupervisor)
	w.sup2 = w.user("sven", incident.RoleSupervisor)
	w.audit = w.user("anna", incident.RoleAuditor)
	w.admin = w.user("adam", incident.RoleAdmin)
	return w
}

func (w *world) service(s incident.Store) *incident.Service {
	return incident.NewService(s, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now), incident.WithPasswordParams(cheap),
		incident.WithFactors(w.factors))
}

// enroll gives the user a TOTP second factor directly in the store.
func (w *world) enroll(id string) {
	w.t.Helper()
	key := sha256.Sum256([]byte("totp " + id))
	sealed, err := w.factors.Seal(key[:account.TOTPKeySize], account.PurposeTOTP, id)
	if err != nil {
		w.t.Fatal(err)
	}
	f := account.SecondFactor{UserID: id, SecretSealed: sealed, EnabledAt: w.clock.Now()}
	if err := w.store.Accounts().EnableSecondFactor(w.ctx, f, nil); err != nil {
		w.t.Fatal(err)
	}
	w.codeMu.Lock()
	w.keys[id] = key[:account.TOTPKeySize]
	w.codeMu.Unlock()
}

// code returns a step-up code of a that was not handed out before: the
// next unused time step the verifier accepts now, moving the clock on by
// one period when the accepted steps are used up.
func (w *world) code(a incident.Actor) string {
	w.codeMu.Lock()
	defer w.codeMu.Unlock()
	key, ok := w.keys[a.ID]
	if !ok {
		return "000000" // no second factor: any code is wrong
	}
	cur := account.TOTPStep(w.clock.Now())
	next := max(w.used[a.ID]+1, cur-account.TOTPSkew)
	if next > cur+account.TOTPSkew {
		w.clock.Advance(account.TOTPPeriod * time.Second)
		next = account.TOTPStep(w.clock.Now()) + account.TOTPSkew
	}
	w.used[a.ID] = next
	return account.TOTPCode(key, next)
}

// wrongCode returns a code of a that no step the verifier accepts now has.
func (w *world) wrongCode(a incident.Actor) string {
	w.codeMu.Lock()
	defer w.codeMu.Unlock()
	for n := 0; ; n++ {
		c := fmt.Sprintf("%06d", n)
		if _, ok := account.VerifyTOTP(w.keys[a.ID], c, w.clock.Now()); !ok {
			return c
		}
	}
}

func (w *world) user(name string, role incident.Role) incident.Actor {
	w.t.Helper()
	u, err := w.svc.AddUser(w.ctx, incident.System, incident.NewUser{Username: name, Role: role, Password: "correct horse " + name})
	if err != nil {
		w.t.Fatal(err)
	}
	if role == incident.RoleSupervisor {
		w.enroll(u.ID)
	}
	return u.Actor()
}

// runJobs runs every due job and returns how many ran.
func (w *world) runJobs() int {
	w.t.Helper()
	n := 0
	for {
		ran, err := w.svc.RunDue(w.ctx)
		if err != nil {
			w.t.Fatalf("job failed: %v", err)
		}
		if !ran {
			return n
		}
		n++
	}
}

func (w *world) flag(msgID, category string) incident.Incident {
	w.t.Helper()
	inc, err := w.svc.Flag(w.ctx, w.worker, incident.FlagInput{Channel: incident.ChannelWhatsApp,
		Message:  incident.MessageRef{ID: msgID, Chat: "4917012345@s.whatsapp.net", Sender: "4917012345@s.whatsapp.net", MediaType: "image/jpeg", FileSHA256: "77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa77aa"},
		Category: category, Description: "Bild einer Prügelei auf dem Schulhof", Platform: policies.Platform("android")})
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *world) get(id string) incident.Incident {
	w.t.Helper()
	inc, err := w.svc.Incident(w.ctx, incident.System, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return inc
}

func (w *world) pendingRequest(incID string, kind incident.RequestKind) incident.Request {
	w.t.Helper()
	rs, err := w.svc.Requests(w.ctx, w.sup1, incident.RequestFilter{IncidentID: incID, State: incident.RequestPending})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rs {
		if r.Kind == kind {
			return r
		}
	}
	w.t.Fatalf("no pending %s request for %s", kind, incID)
	return incident.Request{}
}

// actions lists the audit actions of an incident, in order.
func (w *world) actions(incID string) []string {
	w.t.Helper()
	es, err := w.svc.Trail(w.ctx, w.audit, incident.AuditFilter{IncidentID: incID})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func (w *world) verify() audit.Result {
	w.t.Helper()
	res, err := w.svc.VerifyAudit(w.ctx)
	if err != nil {
		w.t.Fatalf("audit log does not verify: %v", err)
	}
	return res
}

func eachDB(t *testing.T, fn func(t *testing.T, w *world)) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, newWorld(t, d)) })
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}
