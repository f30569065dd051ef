package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/internal/testclock"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
	"github.com/tresor-evidence/tresor/vault/s3backend"
	"github.com/tresor-evidence/tresor/vault/s3backend/versitytest"
)

// orphanVersity runs versitygw (an S3 server with Object Lock) with an
// Object Lock bucket and returns the vault's configuration for it.
func orphanVersity(t *testing.T) s3backend.Config {
	t.Helper()
	srv := versitytest.Start(t)
	return s3backend.Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, Region: srv.Region, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
		Prefix: "tresor/", TempDir: t.TempDir(), PartSize: 5 << 20}
}

// TestOrphanUnderObjectLock: on a real S3 server with Object Lock, an
// orphan under COMPLIANCE retention is kept by the sweep and marked as an
// orphan, retried without an audit entry while the storage refuses, and
// destroyed with exactly one entry once the retention has ended.
func TestOrphanUnderObjectLock(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			cfg := orphanVersity(t)
			const retain = 2 * time.Second
			cfg.RetainFor, cfg.Mode = retain, "COMPLIANCE"
			b, err := s3backend.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			id, err := age.GenerateX25519Identity()
			if err != nil {
				t.Fatal(err)
			}
			recs, fps, err := vault.ParseRecipients([]string{id.Recipient().String()})
			if err != nil {
				t.Fatal(err)
			}
			v, err := vault.New(b, recs, fps)
			if err != nil {
				t.Fatal(err)
			}
			s := sqltest.Open(t, d)
			pol, err := policies.Default()
			if err != nil {
				t.Fatal(err)
			}
			clock := testclock.New(time.Now().UTC())
			svc := incident.NewService(s, pol, evidencevault.New(v), nil, incident.WithClock(clock.Now))

			// What an upload killed after publication leaves: a pending
			// intent and its complete bundle, here under retention.
			const incidentID, bundleID = "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "b10cb10cb10cb10cb10cb10cb10cb10c"
			if err := s.Tx(ctx, func(tx incident.Tx) error {
				return tx.CreateBundleIntent(ctx, incident.BundleIntent{BundleID: bundleID, IncidentID: incidentID,
					Kind: incident.IntentUpload, State: incident.IntentPending, CreatedAt: clock.Now()})
			}); err != nil {
				t.Fatal(err)
			}
			sealed := time.Now()
			if _, err := evidencevault.New(v).Seal(ctx, bundleID, incident.Manifest{IncidentID: incidentID, Category: "threat"},
				[]incident.Part{{Name: "drohung.png", MediaType: "image/png", Size: 9, Content: strings.NewReader("PNG bytes")}}); err != nil {
				t.Fatal(err)
			}
			orphanEntries := func() int {
				t.Helper()
				n := 0
				if err := s.View(ctx, func(tx incident.Tx) error {
					es, err := tx.AuditEntries(ctx, incident.AuditFilter{IncidentID: incidentID})
					for _, e := range es {
						if e.Action == string(incident.ActionEvidenceOrphanDestroyed) {
							n++
						}
					}
					return err
				}); err != nil {
					t.Fatal(err)
				}
				return n
			}
			listed := func() bool {
				t.Helper()
				found := false
				if err := v.List(ctx, func(got string) error { found = found || got == bundleID; return nil }); err != nil {
					t.Fatal(err)
				}
				return found
			}

			clock.Advance(2 * time.Hour)
			rep, err := svc.SweepOrphans(ctx)
			if err != nil || rep != (incident.OrphanSweep{Held: 1}) {
				t.Fatalf("sweep under retention = %+v, %v", rep, err)
			}
			marks, err := svc.BundleStatuses(ctx, incident.System)
			if err != nil || marks[bundleID] != incident.BundleOrphan || !listed() || orphanEntries() != 0 {
				t.Fatalf("under retention: marks %v (%v), listed %v, %d entries", marks, err, listed(), orphanEntries())
			}

			// Each later sweep is a day on for the service; the storage's
			// retention runs on real time, so the sweeps go on until it
			// has ended.
			deadline := sealed.Add(retain + 30*time.Second)
			for {
				clock.Advance(25 * time.Hour)
				rep, err := svc.SweepOrphans(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Destroyed == 1 {
					break
				}
				if rep.Held != 1 || time.Now().After(deadline) {
					t.Fatalf("sweep = %+v, retention ended %v ago", rep, time.Since(sealed.Add(retain)))
				}
				time.Sleep(200 * time.Millisecond)
			}
			if listed() || orphanEntries() != 1 {
				t.Fatalf("after retention: listed %v, %d orphan_destroyed entries", listed(), orphanEntries())
			}
			if marks, err := svc.BundleStatuses(ctx, incident.System); err != nil || marks[bundleID] != "" {
				t.Fatalf("marks after destruction %v %v", marks, err)
			}
			if _, err := svc.VerifyAudit(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
