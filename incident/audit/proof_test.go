package audit

import (
	"context"
	"errors"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestProofs(t *testing.T) {
	const n = 19
	entries, head := newLog(t, n)
	store, err := NewHashStore(entries)
	if err != nil {
		t.Fatal(err)
	}
	trees := make([]tlog.Tree, n+1)
	for k := range trees {
		if trees[k], err = store.Tree(int64(k)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Verify(context.Background(), SliceSource(entries), head)
	if err != nil || res.Tree != trees[n] {
		t.Fatalf("Verify tree %+v, %v; HashStore tree %+v", res.Tree, err, trees[n])
	}

	for size := int64(1); size <= n; size++ {
		for seq := int64(1); seq <= size; seq++ {
			p, err := store.ProveInclusion(seq, size)
			if err != nil {
				t.Fatalf("ProveInclusion(%d, %d): %v", seq, size, err)
			}
			if err := CheckInclusion(p, trees[size], entries[seq-1]); err != nil {
				t.Fatalf("CheckInclusion(%d in %d): %v", seq, size, err)
			}
			other := entries[(seq)%size] // a different entry, claimed at seq
			other.Seq = seq
			if size > 1 && CheckInclusion(p, trees[size], other) == nil {
				t.Fatalf("entry %d: proof accepted a different entry", seq)
			}
		}
	}
	for older := int64(0); older <= n; older++ {
		for newer := older; newer <= n; newer++ {
			p, err := store.ProveConsistency(older, newer)
			if err != nil {
				t.Fatalf("ProveConsistency(%d, %d): %v", older, newer, err)
			}
			if err := CheckConsistency(p, trees[older], trees[newer]); err != nil {
				t.Fatalf("CheckConsistency(%d, %d): %v", older, newer, err)
			}
			forged := trees[older]
			forged.Hash[5] ^= 1
			if err := CheckConsistency(p, forged, trees[newer]); !errors.Is(err, ErrProof) {
				t.Fatalf("CheckConsistency(forged %d, %d) = %v, want ErrProof", older, newer, err)
			}
		}
	}

	// The free functions build the store themselves.
	p, err := ProveInclusion(entries, 7, 12)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckInclusion(p, trees[12], entries[6]); err != nil {
		t.Fatal(err)
	}
	altered := entries[6]
	altered.Actor = "x"
	if err := CheckInclusion(p, trees[12], altered); !errors.Is(err, ErrProof) {
		t.Fatalf("altered entry: %v", err)
	}
	altered.Hash = altered.ComputeHash()
	if err := CheckInclusion(p, trees[12], altered); !errors.Is(err, ErrProof) {
		t.Fatalf("altered, rehashed entry: %v", err)
	}
	if err := CheckInclusion(p, trees[5], entries[6]); !errors.Is(err, ErrProof) {
		t.Fatalf("entry outside tree: %v", err)
	}
	tp, err := ProveConsistency(entries, 4, 15)
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckConsistency(tp, trees[4], trees[15]); err != nil {
		t.Fatal(err)
	}
	if err := CheckConsistency(tp[:len(tp)-1], trees[4], trees[15]); !errors.Is(err, ErrProof) {
		t.Fatalf("short proof: %v", err)
	}
	if err := CheckConsistency(tp, trees[15], trees[4]); !errors.Is(err, ErrProof) {
		t.Fatalf("reversed trees: %v", err)
	}
	if err := CheckConsistency(tlog.TreeProof{{1}}, trees[0], trees[4]); !errors.Is(err, ErrProof) {
		t.Fatalf("non-empty proof from empty tree: %v", err)
	}
}

func TestProofErrors(t *testing.T) {
	entries, _ := newLog(t, 5)
	store, err := NewHashStore(entries)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]int64{{0, 5}, {6, 5}, {1, 6}, {1, 0}, {-1, 3}} {
		if _, err := store.ProveInclusion(c[0], c[1]); err == nil {
			t.Errorf("ProveInclusion(%d, %d) succeeded", c[0], c[1])
		}
	}
	for _, c := range [][2]int64{{3, 2}, {-1, 2}, {1, 6}} {
		if _, err := store.ProveConsistency(c[0], c[1]); err == nil {
			t.Errorf("ProveConsistency(%d, %d) succeeded", c[0], c[1])
		}
	}
	for _, k := range []int64{-1, 6} {
		if _, err := store.Tree(k); err == nil {
			t.Errorf("Tree(%d) succeeded", k)
		}
	}
	if _, err := store.ReadHashes([]int64{0, 1 << 40}); err == nil {
		t.Error("ReadHashes out of range succeeded")
	}
	if _, err := ProveInclusion(entries, 1, 9); err == nil {
		t.Error("ProveInclusion beyond entries succeeded")
	}
	if _, err := ProveConsistency(entries, 1, -1); err == nil {
		t.Error("ProveConsistency(-1) succeeded")
	}
	swapped := clone(entries)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	if _, err := NewHashStore(swapped); err == nil {
		t.Error("NewHashStore(out of order) succeeded")
	}
	if _, err := ProveInclusion(swapped, 1, 3); err == nil {
		t.Error("ProveInclusion(out of order) succeeded")
	}
}
