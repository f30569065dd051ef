// Package storetest is the conformance suite every incident.Store
// implementation must pass, in the manner of
// golang.org/x/mod/sumdb/storage.TestStorage.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/policies"
)

// Run runs the suite. open must return a new, empty, migrated store.
func Run(t *testing.T, open func(t *testing.T) incident.Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s incident.Store)
	}{
		{"IncidentRoundTrip", testIncidentRoundTrip},
		{"NotFound", testNotFound},
		{"DuplicateMessage", testDuplicateMessage},
		{"OptimisticUpdate", testOptimisticUpdate},
		{"RollbackLeavesNothing", testRollback},
		{"ViewIsReadOnly", testView},
		{"RequestsAndDecisions", testRequests},
		{"Steps", testSteps},
		{"Users", testUsers},
		{"AuditChain", testAuditChain},
		{"AuditConcurrentAppends", testAuditConcurrent},
		{"JobsIdempotentEnqueue", testJobsEnqueue},
		{"JobsLease", testJobsLease},
		{"JobsRetry", testJobsRetry},
		{"JobsRelease", testJobsRelease},
		{"JobsConcurrentClaim", testJobsConcurrentClaim},
		{"Captures", testCaptures},
		{"LinkedDevices", testLinkedDevices},
		{"Throttles", testThrottles},
		{"DeleteStaleThrottles", testDeleteStaleThrottles},
		{"Checkpoints", testCheckpoints},
		{"UnlinkRequests", testUnlinkRequests},
		{"BundleIntents", testBundleIntents},
		{"RewrapIntents", testRewrapIntents},
		{"ExternalIdentities", testExternalIdentities},
		{"ExternalTokens", testExternalTokens},
		{"LogoutTokens", testLogoutTokens},
		{"AccountRequests", testAccountRequests},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var t0 = time.Date(2026, 11, 27, 9, 30, 0, 123456000, time.UTC)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func tx(t *testing.T, s incident.Store, fn func(tx incident.Tx) error) {
	t.Helper()
	must(t, s.Tx(context.Background(), fn))
}

func addUser(t *testing.T, s incident.Store, id string) incident.User {
	t.Helper()
	u := incident.User{ID: id, Username: "u-" + id, DisplayName: "User " + id, Role: incident.RoleWorker,
		PasswordHash: "$argon2id$x", CreatedAt: t0, UpdatedAt: t0}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateUser(context.Background(), &u) })
	return u
}

func sample(id, reporter string) incident.Incident {
	until := t0.Add(365 * 24 * time.Hour)
	return incident.Incident{
		ID: id, Category: "violence", Channel: incident.ChannelWhatsApp, ReporterID: reporter,
		Platform: policies.Platform("android"),
		Message: incident.MessageRef{ID: "msg-" + id, Chat: "491701234567@s.whatsapp.net", Sender: "491701234567@s.whatsapp.net",
			SenderAlt: "1234@lid", SentAt: t0.Add(-time.Hour), MediaType: "image/jpeg", FileName: "a.jpg",
			FileSHA256: "ab12", Size: 1234},
		Description: "Beschreibung mit Umlauten: äöüß", State: incident.StateSecuring, Securing: policies.SecureContent,
		Evidence: incident.EvidenceSecured,
		Receipt: &incident.Receipt{BundleID: "b1", CiphertextSHA256: "c1", CiphertextSize: 99, ManifestSHA256: "m1",
			Recipients: []string{"age1a", "age1b"}, MetadataOnly: false, SealedAt: t0},
		Revocation:     &incident.Revocation{Outcome: incident.DeletedForMe, Detail: "ok", At: t0},
		RetentionUntil: &until, CreatedAt: t0, UpdatedAt: t0,
		NotCaptured: incident.GapViewOnce, Choice: incident.ChoiceMetadata,
	}
}

func equalIncident(t *testing.T, got, want incident.Incident) {
	t.Helper()
	g, w := fmt.Sprintf("%+v %+v %+v %v %v", got, got.Receipt, got.Revocation, got.RetentionUntil, got.DestroyedAt),
		fmt.Sprintf("%+v %+v %+v %v %v", want, want.Receipt, want.Revocation, want.RetentionUntil, want.DestroyedAt)
	// Pointers differ by address; compare their contents.
	got.Receipt, want.Receipt, got.Revocation, want.Revocation = nil, nil, nil, nil
	got.RetentionUntil, want.RetentionUntil, got.DestroyedAt, want.DestroyedAt = nil, nil, nil, nil
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Fatalf("incident differs:\n got %s\nwant %s", g, w)
	}
}

func testIncidentRoundTrip(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	in := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &in) })
	if in.Version != 1 {
		t.Fatalf("Version after create = %d, want 1", in.Version)
	}
	var got incident.Incident
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.Incident(ctx, "i1"); return })
	equalIncident(t, got, in)
	if fmt.Sprintf("%+v", *got.Receipt) != fmt.Sprintf("%+v", *in.Receipt) || *got.Revocation != *in.Revocation ||
		!got.RetentionUntil.Equal(*in.RetentionUntil) {
		t.Fatalf("optional parts differ: %+v %+v", got.Receipt, got.Revocation)
	}
	// The capture gap and the worker's choice change after creation.
	got.NotCaptured, got.Choice = incident.GapLost, incident.ChoiceNotSecurable
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateIncident(ctx, &got) })
	var updated incident.Incident
	tx(t, s, func(tx incident.Tx) (err error) { updated, err = tx.Incident(ctx, "i1"); return })
	equalIncident(t, updated, got)
	bare := incident.Incident{ID: "i2", Channel: incident.ChannelUpload, ReporterID: "w1", Message: incident.MessageRef{ID: "up"},
		State: incident.StateFlagged, CreatedAt: t0.Add(time.Second), UpdatedAt: t0}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &bare) })
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.Incident(ctx, "i2"); return })
	equalIncident(t, got, bare)
	if got.Receipt != nil || got.Revocation != nil || got.RetentionUntil != nil {
		t.Fatalf("empty optional fields came back set: %+v", got)
	}
	var list []incident.Incident
	tx(t, s, func(tx incident.Tx) (err error) {
		list, err = tx.Incidents(ctx, incident.IncidentFilter{ReporterID: "w1", States: []incident.State{incident.StateFlagged}})
		return
	})
	if len(list) != 1 || list[0].ID != "i2" {
		t.Fatalf("filtered list = %+v", list)
	}
	tx(t, s, func(tx incident.Tx) (err error) { list, err = tx.Incidents(ctx, incident.IncidentFilter{}); return })
	if len(list) != 2 || list[0].ID != "i2" {
		t.Fatalf("list must be newest first: %+v", list)
	}
	tx(t, s, func(tx incident.Tx) (err error) {
		list, err = tx.Incidents(ctx, incident.IncidentFilter{Limit: 1, Offset: 1, Brief: true})
		return
	})
	if len(list) != 1 || list[0].ID != "i1" || list[0].Category != in.Category || list[0].Description != "" || list[0].Receipt != nil ||
		!list[0].CreatedAt.Equal(in.CreatedAt) || list[0].State != in.State || list[0].Message.ID != in.Message.ID {
		t.Fatalf("brief second page = %+v", list)
	}
}

func testNotFound(t *testing.T, s incident.Store) {
	ctx := context.Background()
	err := s.Tx(ctx, func(tx incident.Tx) error {
		for name, fn := range map[string]func() error{
			"incident":   func() error { _, err := tx.Incident(ctx, "nope"); return err },
			"request":    func() error { _, err := tx.Request(ctx, "nope"); return err },
			"user":       func() error { _, err := tx.User(ctx, "nope"); return err },
			"username":   func() error { _, err := tx.UserByName(ctx, "nope"); return err },
			"step":       func() error { return tx.UpdateStep(ctx, incident.Step{IncidentID: "x", Key: "y"}) },
			"updateUser": func() error { return tx.UpdateUser(ctx, &incident.User{ID: "nope"}) },
		} {
			if err := fn(); !errors.Is(err, incident.ErrNotFound) {
				return fmt.Errorf("%s: got %v, want ErrNotFound", name, err)
			}
		}
		return nil
	})
	must(t, err)
	if _, err := s.ClaimJob(ctx, t0, time.Minute); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("ClaimJob on empty store = %v, want ErrNoJob", err)
	}
}

func testDuplicateMessage(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	a := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &a) })
	b := sample("i2", "w1")
	b.Message.ID = a.Message.ID
	err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &b) })
	if !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("second flag of one message = %v, want ErrDuplicate", err)
	}
}

func testOptimisticUpdate(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	in := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &in) })
	stale := in
	in.State, in.LegalHold = incident.StateRevoking, true
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateIncident(ctx, &in) })
	if in.Version != 2 {
		t.Fatalf("Version after update = %d, want 2", in.Version)
	}
	stale.Description = "lost update"
	err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UpdateIncident(ctx, &stale) })
	if !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("stale update = %v, want ErrConflict", err)
	}
	var got incident.Incident
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.Incident(ctx, "i1"); return })
	if got.State != incident.StateRevoking || !got.LegalHold || got.Description == "lost update" {
		t.Fatalf("stored incident = %+v", got)
	}
}

// testRollback proves the all-or-nothing rule: an error after a state
// change and its audit entry leaves neither.
func testRollback(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	boom := errors.New("injected failure")
	in := sample("i1", "w1")
	err := s.Tx(ctx, func(tx incident.Tx) error {
		if err := tx.CreateIncident(ctx, &in); err != nil {
			return err
		}
		if _, err := tx.Append(ctx, audit.Entry{Time: t0, Actor: "w1", Action: "incident.flagged", IncidentID: "i1"}); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, incident.Job{Kind: incident.JobSecure, IncidentID: "i1", Key: "secure:i1", RunAt: t0, CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want the injected error", err)
	}
	tx(t, s, func(tx incident.Tx) error {
		if _, err := tx.Incident(ctx, "i1"); !errors.Is(err, incident.ErrNotFound) {
			return fmt.Errorf("incident survived rollback: %v", err)
		}
		if es, err := tx.AuditEntries(ctx, incident.AuditFilter{}); err != nil || len(es) != 0 {
			return fmt.Errorf("audit entries after rollback = %d (%v), want none", len(es), err)
		}
		return nil
	})
	if _, err := s.ClaimJob(ctx, t0, time.Minute); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("job survived rollback: %v", err)
	}
	head, err := s.AuditHead(ctx)
	must(t, err)
	if head.Seq != 0 {
		// addUser appends nothing; the rolled-back entry must not count.
		t.Fatalf("audit head after rollback = %d, want 0", head.Seq)
	}
}

func testRequests(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	in := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &in) })
	r := incident.Request{ID: "r1", IncidentID: "i1", Kind: incident.RequestRelease, RequesterID: "s1", Reason: "Anzeige",
		Purpose: "Strafanzeige", Recipient: "Polizei", LegalBasis: "§ 34 StGB", State: incident.RequestPending,
		RequiredApprovals: 2, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateRequest(ctx, &r) })
	r.Decisions = append(r.Decisions, incident.Decision{ActorID: "s2", Approve: true, Reason: "ok", At: t0.Add(time.Minute)})
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateRequest(ctx, &r) })
	decided := t0.Add(2 * time.Minute)
	r.Decisions = append(r.Decisions, incident.Decision{ActorID: "s3", Approve: true, Reason: "ok too", At: decided})
	r.State, r.DecidedAt = incident.RequestApproved, &decided
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateRequest(ctx, &r) })
	var got incident.Request
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.Request(ctx, "r1"); return })
	if got.State != incident.RequestApproved || len(got.Decisions) != 2 || got.Decisions[1].ActorID != "s3" ||
		!got.Decisions[1].At.Equal(decided) || got.LegalBasis != "§ 34 StGB" || got.DecidedAt == nil || got.Version != 3 {
		t.Fatalf("request = %+v", got)
	}
	// A second decision by the same person cannot be stored.
	dup := got
	dup.Decisions = append(dup.Decisions, incident.Decision{ActorID: "s2", Approve: false, Reason: "again", At: decided})
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UpdateRequest(ctx, &dup) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("duplicate decision = %v, want ErrDuplicate", err)
	}
	var list []incident.Request
	tx(t, s, func(tx incident.Tx) (err error) {
		list, err = tx.Requests(ctx, incident.RequestFilter{IncidentID: "i1", State: incident.RequestApproved})
		return
	})
	if len(list) != 1 || len(list[0].Decisions) != 2 {
		t.Fatalf("Requests = %+v", list)
	}
	p := incident.Request{ID: "r2", IncidentID: "i1", Kind: incident.RequestSecure, RequesterID: "w1", State: incident.RequestPending,
		RequiredApprovals: 1, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateRequest(ctx, &p) })
	tx(t, s, func(tx incident.Tx) (err error) {
		list, err = tx.Requests(ctx, incident.RequestFilter{ExpiredBefore: t0.Add(2 * time.Hour)})
		return
	})
	if len(list) != 1 || list[0].ID != "r2" {
		t.Fatalf("expired pending requests = %+v", list)
	}
}

func testSteps(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	in := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &in) })
	steps := []incident.Step{
		{IncidentID: "i1", Key: "chat", Position: 1, Platform: policies.Platform("iphone"), Title: policies.Text{DE: "Chat", EN: "Chat"}, State: incident.StepOpen, DueAt: t0},
		{IncidentID: "i1", Key: "gallery", Position: 2, Platform: policies.Platform("iphone"), Title: policies.Text{DE: "Fotos", EN: "Photos"}, State: incident.StepOpen, DueAt: t0.Add(time.Hour)},
	}
	tx(t, s, func(tx incident.Tx) error { return tx.CreateSteps(ctx, steps) })
	done := t0.Add(time.Minute)
	steps[0].State, steps[0].DoneAt, steps[0].DoneBy = incident.StepDone, &done, "w1"
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateStep(ctx, steps[0]) })
	var got []incident.Step
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.Steps(ctx, "i1"); return })
	if len(got) != 2 || got[0].State != incident.StepDone || !got[0].DoneAt.Equal(done) || got[1].Title.EN != "Photos" {
		t.Fatalf("steps = %+v", got)
	}
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.OverdueSteps(ctx, t0.Add(2*time.Hour)); return })
	if len(got) != 1 || got[0].Key != "gallery" {
		t.Fatalf("overdue = %+v", got)
	}
}

func testUsers(t *testing.T, s incident.Store) {
	ctx := context.Background()
	u := addUser(t, s, "a1")
	dup := u
	dup.ID = "a2"
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CreateUser(ctx, &dup) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("duplicate username = %v, want ErrDuplicate", err)
	}
	u.Disabled, u.Role = true, incident.RoleAuditor
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateUser(ctx, &u) })
	var got incident.User
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.UserByName(ctx, u.Username); return })
	if !got.Disabled || got.Role != incident.RoleAuditor || !got.CreatedAt.Equal(t0) {
		t.Fatalf("user = %+v", got)
	}
}

func testAuditChain(t *testing.T, s incident.Store) {
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		tx(t, s, func(tx incident.Tx) error {
			_, err := tx.Append(ctx, audit.Entry{Time: t0.Add(time.Duration(i) * time.Second), Actor: "system",
				Action: "test", IncidentID: fmt.Sprintf("i%d", i%2), Details: map[string]string{"n": fmt.Sprint(i), "ü": "ß"}})
			return err
		})
	}
	head, err := s.AuditHead(ctx)
	must(t, err)
	if head.Seq != 5 {
		t.Fatalf("head = %d, want 5", head.Seq)
	}
	res, err := audit.Verify(ctx, s.AuditSource(head.Seq), head)
	must(t, err)
	if res.Entries != 5 || res.Head != head.Hash {
		t.Fatalf("verify = %+v", res)
	}
	var es []audit.Entry
	tx(t, s, func(tx incident.Tx) (err error) {
		es, err = tx.AuditEntries(ctx, incident.AuditFilter{IncidentID: "i1"})
		return
	})
	if len(es) != 2 || es[0].Seq != 2 || es[1].Details["n"] != "3" {
		t.Fatalf("incident entries = %+v", es)
	}
	tx(t, s, func(tx incident.Tx) (err error) {
		es, err = tx.AuditEntries(ctx, incident.AuditFilter{From: t0.Add(time.Second), To: t0.Add(3 * time.Second)})
		return
	})
	if len(es) != 2 || es[0].Seq != 2 {
		t.Fatalf("time range entries = %+v", es)
	}
	tx(t, s, func(tx incident.Tx) error {
		_, err := tx.Append(ctx, audit.Entry{Time: t0.Add(5 * time.Second), Actor: "system", Action: "other", IncidentID: "i1"})
		return err
	})
	for _, tc := range []struct {
		f    incident.AuditFilter
		seqs []int64
	}{
		{incident.AuditFilter{Action: "other"}, []int64{6}},
		{incident.AuditFilter{Action: "test", IncidentID: "i1"}, []int64{2, 4}},
		{incident.AuditFilter{Action: "other", IncidentID: "i0"}, nil},
		{incident.AuditFilter{Action: "test", From: t0.Add(3 * time.Second)}, []int64{4, 5}},
		{incident.AuditFilter{IncidentID: "i1", From: t0.Add(2 * time.Second)}, []int64{4, 6}},
	} {
		tx(t, s, func(tx incident.Tx) (err error) {
			es, err = tx.AuditEntries(ctx, tc.f)
			return
		})
		var seqs []int64
		for _, e := range es {
			seqs = append(seqs, e.Seq)
		}
		if !slices.Equal(seqs, tc.seqs) {
			t.Errorf("entries of %+v: %v, want %v", tc.f, seqs, tc.seqs)
		}
	}
}

func testAuditConcurrent(t *testing.T, s incident.Store) {
	ctx := context.Background()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Tx(ctx, func(tx incident.Tx) error {
				_, err := tx.Append(ctx, audit.Entry{Time: t0, Actor: "system", Action: "concurrent"})
				return err
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	head, err := s.AuditHead(ctx)
	must(t, err)
	if _, err := audit.Verify(ctx, s.AuditSource(head.Seq), head); err != nil || head.Seq != n {
		t.Fatalf("after %d concurrent appends: head %d, verify %v", n, head.Seq, err)
	}
}

func testJobsEnqueue(t *testing.T, s incident.Store) {
	ctx := context.Background()
	j := incident.Job{Kind: incident.JobSecure, IncidentID: "i1", Key: "secure:i1", RunAt: t0, CreatedAt: t0}
	for i := 0; i < 3; i++ {
		tx(t, s, func(tx incident.Tx) error { return tx.Enqueue(ctx, j) })
	}
	var jobs []incident.Job
	tx(t, s, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(ctx, "i1"); return })
	if len(jobs) != 1 {
		t.Fatalf("three enqueues of one key gave %d jobs", len(jobs))
	}
	later := incident.Job{Kind: incident.JobDestroy, IncidentID: "i1", Key: "destroy:i1", RunAt: t0.Add(time.Hour), CreatedAt: t0}
	tx(t, s, func(tx incident.Tx) error { return tx.Enqueue(ctx, later) })
	got, err := s.ClaimJob(ctx, t0, time.Minute)
	must(t, err)
	if got.Key != "secure:i1" || got.Attempts != 1 || got.Token == "" {
		t.Fatalf("claimed %+v", got)
	}
	if _, err := s.ClaimJob(ctx, t0, time.Minute); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("a job not yet due was claimed: %v", err)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.CompleteJob(ctx, got) })
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CompleteJob(ctx, got) }); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("completing twice = %v, want ErrConflict", err)
	}
	got, err = s.ClaimJob(ctx, t0.Add(2*time.Hour), time.Minute)
	must(t, err)
	if got.Key != "destroy:i1" {
		t.Fatalf("claimed %+v, want the destroy job", got)
	}
}

func testJobsLease(t *testing.T, s incident.Store) {
	ctx := context.Background()
	tx(t, s, func(tx incident.Tx) error {
		return tx.Enqueue(ctx, incident.Job{Kind: incident.JobRevoke, IncidentID: "i1", Key: "revoke:i1", RunAt: t0, CreatedAt: t0})
	})
	first, err := s.ClaimJob(ctx, t0, time.Minute)
	must(t, err)
	if _, err := s.ClaimJob(ctx, t0.Add(30*time.Second), time.Minute); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("a leased job was claimed again: %v", err)
	}
	// The first worker died; after its lease another takes over.
	second, err := s.ClaimJob(ctx, t0.Add(2*time.Minute), time.Minute)
	must(t, err)
	if second.ID != first.ID || second.Attempts != 2 || second.Token == first.Token {
		t.Fatalf("takeover = %+v (first %+v)", second, first)
	}
	// A lost lease cannot be renewed; the holder's can.
	if err := s.ExtendJob(ctx, first, t0.Add(time.Hour)); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("renewing a lost lease = %v, want ErrConflict", err)
	}
	must(t, s.ExtendJob(ctx, second, t0.Add(10*time.Minute)))
	if _, err := s.ClaimJob(ctx, t0.Add(5*time.Minute), time.Minute); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("a renewed lease was taken over: %v", err)
	}
	// The first worker's late completion must not count.
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CompleteJob(ctx, first) }); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("completion with a lost lease = %v, want ErrConflict", err)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.CompleteJob(ctx, second) })
}

func testJobsRetry(t *testing.T, s incident.Store) {
	ctx := context.Background()
	tx(t, s, func(tx incident.Tx) error {
		return tx.Enqueue(ctx, incident.Job{Kind: incident.JobRevoke, IncidentID: "i1", Key: "revoke:i1", RunAt: t0, CreatedAt: t0})
	})
	j, err := s.ClaimJob(ctx, t0, time.Hour)
	must(t, err)
	tx(t, s, func(tx incident.Tx) error {
		return tx.RetryJob(ctx, j, "whatsapp offline", t0.Add(10*time.Second), false)
	})
	if _, err := s.ClaimJob(ctx, t0.Add(5*time.Second), time.Hour); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("retried job ran before its time: %v", err)
	}
	j, err = s.ClaimJob(ctx, t0.Add(10*time.Second), time.Hour)
	must(t, err)
	if j.Attempts != 2 || j.LastError != "whatsapp offline" {
		t.Fatalf("retried job = %+v", j)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.RetryJob(ctx, j, "gave up", t0, true) })
	if _, err := s.ClaimJob(ctx, t0.Add(time.Hour), time.Hour); !errors.Is(err, incident.ErrNoJob) {
		t.Fatalf("a dead job was claimed: %v", err)
	}
	var jobs []incident.Job
	tx(t, s, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(ctx, "i1"); return })
	if len(jobs) != 1 || jobs[0].State != incident.JobDead {
		t.Fatalf("jobs = %+v", jobs)
	}
}

// A job handed back at shutdown is due at once, its attempt not
// counted; a holder that lost its lease cannot hand it back.
func testJobsRelease(t *testing.T, s incident.Store) {
	ctx := context.Background()
	tx(t, s, func(tx incident.Tx) error {
		return tx.Enqueue(ctx, incident.Job{Kind: incident.JobRevoke, IncidentID: "i1", Key: "revoke:i1", RunAt: t0, CreatedAt: t0})
	})
	j, err := s.ClaimJob(ctx, t0, time.Hour)
	must(t, err)
	must(t, s.ReleaseJob(ctx, j, t0.Add(time.Second)))
	if err := s.ReleaseJob(ctx, j, t0); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("second release = %v, want ErrConflict", err)
	}
	again, err := s.ClaimJob(ctx, t0.Add(time.Second), time.Hour)
	must(t, err)
	if again.ID != j.ID || again.Attempts != 1 {
		t.Fatalf("released job claimed again = %+v, want job %d at attempt 1", again, j.ID)
	}
	if _, err := s.ClaimJob(ctx, t0.Add(2*time.Hour), time.Hour); err != nil {
		t.Fatalf("job after its lease ran out: %v", err)
	}
	if err := s.ReleaseJob(ctx, again, t0); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("release by a holder whose lease was taken over = %v, want ErrConflict", err)
	}
}

func testJobsConcurrentClaim(t *testing.T, s incident.Store) {
	ctx := context.Background()
	const n = 10
	for i := 0; i < n; i++ {
		tx(t, s, func(tx incident.Tx) error {
			return tx.Enqueue(ctx, incident.Job{Kind: incident.JobEscalate, IncidentID: "i", Key: fmt.Sprint("k", i), RunAt: t0, CreatedAt: t0})
		})
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j, err := s.ClaimJob(ctx, t0, time.Hour)
				if errors.Is(err, incident.ErrNoJob) {
					return
				}
				if errors.Is(err, incident.ErrConflict) {
					continue
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				seen[j.ID]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("claimed %d distinct jobs, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("job %d claimed %d times", id, c)
		}
	}
}

// testView: a read-only transaction sees committed data and refuses writes.
func testView(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "w1")
	in := sample("i1", "w1")
	tx(t, s, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &in) })
	err := s.View(ctx, func(tx incident.Tx) error {
		got, err := tx.Incident(ctx, "i1")
		if err != nil || got.ID != "i1" {
			return fmt.Errorf("read in View: %+v, %v", got, err)
		}
		return nil
	})
	must(t, err)
	other := sample("i2", "w1")
	err = s.View(ctx, func(tx incident.Tx) error { return tx.CreateIncident(ctx, &other) })
	if err == nil {
		t.Fatal("a write inside View succeeded")
	}
	tx(t, s, func(tx incident.Tx) error {
		if _, err := tx.Incident(ctx, "i2"); !errors.Is(err, incident.ErrNotFound) {
			return fmt.Errorf("the refused write left a row: %v", err)
		}
		return nil
	})
}

// testAccountRequests: an account request comes back as stored (times at
// microsecond precision); an update stores the decision and bumps the
// version, a stale one is ErrConflict; lists are newest first and filter
// by state, by account and by expiry (ExpiredBy: pending ones whose
// expiry is at or before it, not decided ones).
func testAccountRequests(t *testing.T, s incident.Store) {
	ctx := context.Background()
	addUser(t, s, "a1")
	addUser(t, s, "u1")
	addUser(t, s, "u2")
	mk := func(id, subject string, created time.Time, ttl time.Duration) incident.AccountRequest {
		r := incident.AccountRequest{ID: id, Kind: incident.AccountResetPassword, SubjectID: subject, RequesterID: "a1",
			PasswordHash: "$argon2id$h-" + id, State: incident.RequestPending, CreatedAt: created, ExpiresAt: created.Add(ttl)}
		tx(t, s, func(tx incident.Tx) error { return tx.CreateAccountRequest(ctx, &r) })
		return r
	}
	r1 := mk("ar1", "u1", t0, time.Hour)
	mk("ar2", "u2", t0.Add(time.Minute), time.Hour)
	mk("ar3", "u1", t0.Add(2*time.Minute), 24*time.Hour)
	var got incident.AccountRequest
	tx(t, s, func(tx incident.Tx) (err error) { got, err = tx.AccountRequest(ctx, "ar1"); return })
	if got.ID != "ar1" || got.Kind != incident.AccountResetPassword || got.SubjectID != "u1" || got.RequesterID != "a1" ||
		got.PasswordHash != r1.PasswordHash || got.State != incident.RequestPending || !got.CreatedAt.Equal(t0) ||
		!got.ExpiresAt.Equal(t0.Add(time.Hour)) || !got.DecidedAt.IsZero() || got.Version != 1 {
		t.Fatalf("stored %+v, read %+v", r1, got)
	}
	if err := s.View(ctx, func(tx incident.Tx) error { _, err := tx.AccountRequest(ctx, "nope"); return err }); !errors.Is(err, incident.ErrNotFound) {
		t.Fatalf("unknown request = %v, want ErrNotFound", err)
	}
	list := func(f incident.AccountRequestFilter) []string {
		t.Helper()
		var rs []incident.AccountRequest
		must(t, s.View(ctx, func(tx incident.Tx) (err error) { rs, err = tx.AccountRequests(ctx, f); return }))
		var ids []string
		for _, r := range rs {
			ids = append(ids, r.ID)
		}
		return ids
	}
	eq := func(what string, got []string, want ...string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	eq("all", list(incident.AccountRequestFilter{}), "ar3", "ar2", "ar1")
	eq("of u1", list(incident.AccountRequestFilter{SubjectID: "u1"}), "ar3", "ar1")
	eq("expired just before ar1's expiry", list(incident.AccountRequestFilter{ExpiredBy: t0.Add(time.Hour - time.Microsecond)}))
	eq("expired at ar1's expiry", list(incident.AccountRequestFilter{ExpiredBy: t0.Add(time.Hour)}), "ar1")
	eq("expired an hour later", list(incident.AccountRequestFilter{ExpiredBy: t0.Add(2 * time.Hour)}), "ar2", "ar1")

	decided := t0.Add(30 * time.Minute)
	got.State, got.DeciderID, got.Reason, got.DecidedAt = incident.RequestRejected, "a2", "nicht bestätigt", decided
	stale := got
	tx(t, s, func(tx incident.Tx) error { return tx.UpdateAccountRequest(ctx, &got) })
	if got.Version != 2 {
		t.Fatalf("version after update %d, want 2", got.Version)
	}
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.UpdateAccountRequest(ctx, &stale) }); !errors.Is(err, incident.ErrConflict) {
		t.Fatalf("stale update = %v, want ErrConflict", err)
	}
	var back incident.AccountRequest
	tx(t, s, func(tx incident.Tx) (err error) { back, err = tx.AccountRequest(ctx, "ar1"); return })
	if back.State != incident.RequestRejected || back.DeciderID != "a2" || back.Reason != "nicht bestätigt" || !back.DecidedAt.Equal(decided) || back.Version != 2 {
		t.Fatalf("after update %+v", back)
	}
	eq("pending", list(incident.AccountRequestFilter{State: incident.RequestPending}), "ar3", "ar2")
	eq("rejected", list(incident.AccountRequestFilter{State: incident.RequestRejected}), "ar1")
	eq("expired an hour later, after ar1 was decided", list(incident.AccountRequestFilter{ExpiredBy: t0.Add(2 * time.Hour)}), "ar2")
}
