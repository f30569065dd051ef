package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

func testCheckpoints(t *testing.T, s incident.Store) {
	ctx := context.Background()
	view := func(fn func(tx incident.Tx) error) { t.Helper(); must(t, s.View(ctx, fn)) }

	view(func(tx incident.Tx) error {
		if _, err := tx.LatestCheckpoint(ctx); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("LatestCheckpoint of an empty store: %v, want ErrNotFound", err)
		}
		if _, err := tx.Checkpoint(ctx, 3); !errors.Is(err, incident.ErrNotFound) {
			t.Errorf("Checkpoint(3) of an empty store: %v, want ErrNotFound", err)
		}
		cps, err := tx.Checkpoints(ctx)
		if err != nil || len(cps) != 0 {
			t.Errorf("Checkpoints of an empty store: %v, %v", cps, err)
		}
		return nil
	})

	cp7 := incident.Checkpoint{Size: 7, Root: "root7", Note: "tresor audit log\n7\nroot7\n\n— tresor-audit sig\n", CreatedAt: t0}
	cp3 := incident.Checkpoint{Size: 3, Root: "root3", Note: "note3", CreatedAt: t0.Add(time.Second)}
	tx(t, s, func(tx incident.Tx) error {
		if err := tx.SaveCheckpoint(ctx, cp7); err != nil {
			return err
		}
		return tx.SaveCheckpoint(ctx, cp3)
	})
	err := s.Tx(ctx, func(tx incident.Tx) error {
		return tx.SaveCheckpoint(ctx, incident.Checkpoint{Size: 7, Root: "other", Note: "other", CreatedAt: t0})
	})
	if !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("a second checkpoint of size 7: %v, want ErrDuplicate", err)
	}

	c7a := incident.Cosignature{Size: 7, Witness: "dpo+0000000a", Note: "cosigned a", CreatedAt: t0}
	c7b := incident.Cosignature{Size: 7, Witness: "dpo+0000000b", Note: "cosigned b", CreatedAt: t0}
	c3 := incident.Cosignature{Size: 3, Witness: "dpo+0000000a", Note: "cosigned 3", CreatedAt: t0}
	tx(t, s, func(tx incident.Tx) error {
		for _, c := range []incident.Cosignature{c7b, c3, c7a} {
			if err := tx.SaveCosignature(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	err = s.Tx(ctx, func(tx incident.Tx) error {
		return tx.SaveCosignature(ctx, incident.Cosignature{Size: 7, Witness: "dpo+0000000a", Note: "again", CreatedAt: t0})
	})
	if !errors.Is(err, incident.ErrDuplicate) {
		t.Fatalf("a second cosignature by the same witness: %v, want ErrDuplicate", err)
	}
	// A failed transaction leaves nothing behind.
	errBoom := errors.New("boom")
	err = s.Tx(ctx, func(tx incident.Tx) error {
		if err := tx.SaveCosignature(ctx, incident.Cosignature{Size: 9, Witness: "w+1", Note: "n", CreatedAt: t0}); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatal(err)
	}

	view(func(tx incident.Tx) error {
		latest, err := tx.LatestCheckpoint(ctx)
		if err != nil || !reflect.DeepEqual(latest, cp7) {
			t.Errorf("LatestCheckpoint = %+v, %v; want %+v", latest, err, cp7)
		}
		got, err := tx.Checkpoint(ctx, 3)
		if err != nil || !reflect.DeepEqual(got, cp3) {
			t.Errorf("Checkpoint(3) = %+v, %v; want %+v", got, err, cp3)
		}
		cps, err := tx.Checkpoints(ctx)
		if err != nil || !reflect.DeepEqual(cps, []incident.Checkpoint{cp3, cp7}) {
			t.Errorf("Checkpoints = %+v, %v", cps, err)
		}
		cs, err := tx.Cosignatures(ctx)
		if err != nil || !reflect.DeepEqual(cs, []incident.Cosignature{c3, c7a, c7b}) {
			t.Errorf("Cosignatures = %+v, %v", cs, err)
		}
		return nil
	})
}
