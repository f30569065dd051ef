package audit_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/tresor-evidence/tresor/incident/audit"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)

	// The store seals each entry after the previous one and keeps the head.
	var entries []audit.Entry
	var prev *audit.Entry
	for _, action := range []string{"incident.flagged", "securing.requested", "securing.approved"} {
		e := audit.Seal(prev, audit.Entry{Time: now, Actor: "fachkraft-1", Action: action, IncidentID: "inc-1"})
		entries = append(entries, e)
		prev = &entries[len(entries)-1]
	}
	head := audit.Head{Seq: prev.Seq, Hash: prev.Hash}

	// The auditor verifies and keeps a signed checkpoint off the server.
	skey, vkey, err := audit.GenerateKey(rand.Reader, "dsb")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := audit.NewSigner(skey)
	if err != nil {
		log.Fatal(err)
	}
	res, err := audit.Verify(ctx, audit.SliceSource(entries), head)
	if err != nil {
		log.Fatal(err)
	}
	saved, err := audit.SignCheckpoint(res.Tree, signer)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified", res.Entries, "entries")

	// Later: someone edits an entry in the database.
	entries[1].Actor = "someone-else"

	verifier, err := audit.NewVerifier(vkey)
	if err != nil {
		log.Fatal(err)
	}
	cp, err := audit.OpenCheckpoint(saved, verifier)
	if err != nil {
		log.Fatal(err)
	}
	_, err = audit.Verify(ctx, audit.SliceSource(entries), head, cp)
	fmt.Println(errors.Is(err, audit.ErrTampered))
	fmt.Println(err)
	// Output:
	// verified 3 entries
	// true
	// audit log tampered at entry 2: stored hash does not match the entry's contents (a field was modified)
}
