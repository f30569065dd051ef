package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// testRewrapIntents: a rewrap intent comes back as stored while pending,
// found by bundle and new ciphertext hash only; a second one with the same
// pair is ErrDuplicate; finishing a bundle's intents makes them all
// unfindable and leaves other bundles' alone.
func testRewrapIntents(t *testing.T, s incident.Store) {
	ctx := context.Background()
	mk := func(bundle, newSHA string) incident.RewrapIntent {
		return incident.RewrapIntent{IncidentID: "inc-" + bundle[len(bundle)-1:], CreatedAt: t0, Rewrap: incident.Rewrap{
			BundleID: bundle, OldCiphertextSHA256: "0ld", NewCiphertextSHA256: newSHA, NewCiphertextSize: 4711,
			ManifestSHA256: "m4n", Recipients: []string{"age1one", "age1two"}}}
	}
	a1, a2, b1 := mk("b1", "n1"), mk("b1", "n2"), mk("b2", "n1")
	tx(t, s, func(tx incident.Tx) error {
		for _, in := range []incident.RewrapIntent{a1, a2, b1} {
			if err := tx.CreateRewrapIntent(ctx, in); err != nil {
				return err
			}
		}
		return nil
	})
	if err := s.Tx(ctx, func(tx incident.Tx) error { return tx.CreateRewrapIntent(ctx, a1) }); !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("second intent for one bundle and ciphertext: %v, want ErrDuplicate", err)
	}
	read := func(bundle, newSHA string) (incident.RewrapIntent, error) {
		var got incident.RewrapIntent
		err := s.View(ctx, func(tx incident.Tx) (err error) { got, err = tx.PendingRewrapIntent(ctx, bundle, newSHA); return })
		return got, err
	}
	got, err := read("b1", "n2")
	if err != nil || !reflect.DeepEqual(got, a2) {
		t.Fatalf("stored %+v, read %+v (%v)", a2, got, err)
	}
	if _, err := read("b1", "n3"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown ciphertext: %v, want ErrNotFound", err)
	}
	tx(t, s, func(tx incident.Tx) error { return tx.FinishRewrapIntents(ctx, "b1", t0.Add(time.Minute)) })
	for _, n := range []string{"n1", "n2"} {
		if _, err := read("b1", n); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("finished intent %s: %v, want ErrNotFound", n, err)
		}
	}
	if got, err := read("b2", "n1"); err != nil || !reflect.DeepEqual(got, b1) {
		t.Errorf("other bundle's intent after finishing b1: %+v (%v)", got, err)
	}
}
