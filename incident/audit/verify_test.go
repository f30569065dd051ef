package audit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// treeOf computes the Merkle tree of entries with tlog's own functions.
func treeOf(tb testing.TB, entries []Entry) tlog.Tree {
	tb.Helper()
	s, err := NewHashStore(entries)
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := s.Tree(s.Len())
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

func TestVerifyIntact(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 2, 3, 10, 64, 100} {
		entries, head := newLog(t, n)
		res, err := Verify(ctx, SliceSource(entries), head)
		if err != nil {
			t.Fatalf("n=%d: Verify: %v", n, err)
		}
		if res.Entries != int64(n) || res.Head != head.Hash || res.Tree != treeOf(t, entries) {
			t.Errorf("n=%d: Result = %+v, want %d entries, head %v, tree %+v", n, res, n, head.Hash, treeOf(t, entries))
		}
	}
}

func TestVerifyTampered(t *testing.T) {
	const n = 10
	tests := []struct {
		name   string
		mutate func(es []Entry, h Head) ([]Entry, Head)
		seq    int64 // where the damage must be reported
	}{
		{"seq changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Seq = 50; return es, h }, 5},
		{"time changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Time = es[4].Time.Add(-time.Hour); return es, h }, 5},
		{"time changed by 1µs", func(es []Entry, h Head) ([]Entry, Head) { es[4].Time = es[4].Time.Add(time.Microsecond); return es, h }, 5},
		{"actor changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Actor = "supervisor-2"; return es, h }, 5},
		{"action changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Action = "request.rejected"; return es, h }, 5},
		{"incident changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].IncidentID = "inc-9999"; return es, h }, 5},
		{"detail value changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Details["reason"] = "x"; return es, h }, 5},
		{"detail added", func(es []Entry, h Head) ([]Entry, Head) { es[4].Details["note"] = ""; return es, h }, 5},
		{"detail removed", func(es []Entry, h Head) ([]Entry, Head) { delete(es[4].Details, "sha256"); return es, h }, 5},
		{"details dropped", func(es []Entry, h Head) ([]Entry, Head) { es[4].Details = nil; return es, h }, 5},
		{"prev hash changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].PrevHash[0] ^= 1; return es, h }, 5},
		{"hash changed", func(es []Entry, h Head) ([]Entry, Head) { es[4].Hash[0] ^= 1; return es, h }, 5},
		{"first prev hash set", func(es []Entry, h Head) ([]Entry, Head) { es[0].PrevHash[0] = 1; return es, h }, 1},
		{"changed and rehashed", func(es []Entry, h Head) ([]Entry, Head) {
			es[4].Actor = "someone-else"
			es[4].Hash = es[4].ComputeHash()
			return es, h
		}, 6},
		{"first rehashed with prev", func(es []Entry, h Head) ([]Entry, Head) {
			es[0].PrevHash[0] = 1
			es[0].Hash = es[0].ComputeHash()
			return es, h
		}, 1},
		{"last changed and rehashed", func(es []Entry, h Head) ([]Entry, Head) {
			es[n-1].Action = "nothing.happened"
			es[n-1].Hash = es[n-1].ComputeHash()
			return es, h
		}, n},
		{"middle deleted", func(es []Entry, h Head) ([]Entry, Head) { return append(es[:4], es[5:]...), h }, 5},
		{"first deleted", func(es []Entry, h Head) ([]Entry, Head) { return es[1:], h }, 1},
		{"middle deleted and renumbered", func(es []Entry, h Head) ([]Entry, Head) {
			es = append(es[:4], es[5:]...)
			for i := 4; i < len(es); i++ {
				es[i].Seq--
			}
			return es, h
		}, 5},
		{"two swapped", func(es []Entry, h Head) ([]Entry, Head) { es[3], es[6] = es[6], es[3]; return es, h }, 4},
		{"neighbours swapped", func(es []Entry, h Head) ([]Entry, Head) { es[3], es[4] = es[4], es[3]; return es, h }, 4},
		{"swapped and renumbered", func(es []Entry, h Head) ([]Entry, Head) {
			es[3], es[6] = es[6], es[3]
			es[3].Seq, es[6].Seq = 4, 7
			return es, h
		}, 4},
		{"duplicated", func(es []Entry, h Head) ([]Entry, Head) {
			return append(es[:5], append([]Entry{es[4]}, es[5:]...)...), h
		}, 6},
		{"inserted", func(es []Entry, h Head) ([]Entry, Head) {
			fake := Seal(&es[3], Entry{Time: t0, Actor: "x", Action: "request.approved"})
			return append(es[:4], append([]Entry{fake}, es[4:]...)...), h
		}, 6},
		{"truncated", func(es []Entry, h Head) ([]Entry, Head) { return es[:n-3], h }, n - 2},
		{"all deleted", func(es []Entry, h Head) ([]Entry, Head) { return nil, h }, 1},
		{"appended", func(es []Entry, h Head) ([]Entry, Head) {
			return append(es, Seal(&es[n-1], Entry{Time: t0, Actor: "x", Action: "junk"})), h
		}, n + 1},
		{"head hash corrupt", func(es []Entry, h Head) ([]Entry, Head) { h.Hash[3] ^= 0x10; return es, h }, n},
		{"head seq too high", func(es []Entry, h Head) ([]Entry, Head) { h.Seq++; return es, h }, n + 1},
		{"head seq too low", func(es []Entry, h Head) ([]Entry, Head) { h.Seq--; return es, h }, n},
		{"head seq negative", func(es []Entry, h Head) ([]Entry, Head) { h.Seq = -1; return es, h }, n},
		{"head zero", func(es []Entry, h Head) ([]Entry, Head) { return es, Head{} }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries, head := newLog(t, n)
			if _, err := Verify(context.Background(), SliceSource(entries), head); err != nil {
				t.Fatalf("intact log: %v", err)
			}
			es, h := tt.mutate(clone(entries), head)
			res, err := Verify(context.Background(), SliceSource(es), h)
			wantTamper(t, err, tt.seq)
			if res != (Result{}) {
				t.Errorf("Result = %+v on error, want zero", res)
			}
			t.Log(err)
		})
	}
}

func TestVerifyEmptyLogCorruptHead(t *testing.T) {
	_, err := Verify(context.Background(), SliceSource(nil), Head{Hash: Hash{1}})
	wantTamper(t, err, 0)
	_, err = Verify(context.Background(), SliceSource(nil), Head{Seq: -2})
	wantTamper(t, err, 0)
}

// TestVerifyRewriteNeedsCheckpoint shows the documented limit: a consistent
// rewrite with an updated head row verifies, and only a checkpoint saved
// before the rewrite reveals it.
func TestVerifyRewriteNeedsCheckpoint(t *testing.T) {
	const n = 20
	entries, head := newLog(t, n)
	cp := treeOf(t, entries[:12])

	rewrites := map[string]func([]Entry) ([]Entry, Head){
		"modified": func(es []Entry) ([]Entry, Head) {
			es[7].Details["reason"] = "rewritten"
			return es, reseal(es, 7)
		},
		"deleted": func(es []Entry) ([]Entry, Head) {
			es = append(es[:7], es[8:]...)
			return es, reseal(es, 7)
		},
		"reordered": func(es []Entry) ([]Entry, Head) {
			es[2], es[9] = es[9], es[2]
			return es, reseal(es, 2)
		},
		"truncated, head rolled back": func(es []Entry) ([]Entry, Head) {
			es = es[:10]
			return es, headOf(es)
		},
	}
	for name, rewrite := range rewrites {
		t.Run(name, func(t *testing.T) {
			es, h := rewrite(clone(entries))
			if _, err := Verify(context.Background(), SliceSource(es), h); err != nil {
				t.Fatalf("without checkpoint: %v (a consistent rewrite is expected to verify)", err)
			}
			_, err := Verify(context.Background(), SliceSource(es), h, cp)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("with checkpoint: err = %v, want ErrTampered", err)
			}
			t.Log(err)
		})
	}
	if _, err := Verify(context.Background(), SliceSource(entries), head, cp); err != nil {
		t.Fatalf("intact log with checkpoint: %v", err)
	}
}

func TestVerifyCheckpoints(t *testing.T) {
	const n = 37
	entries, head := newLog(t, n)
	ctx := context.Background()
	older := func(k int) tlog.Tree { return treeOf(t, entries[:k]) }

	// Older checkpoints, the current one, the empty one, duplicates, any order.
	good := []tlog.Tree{older(30), older(1), older(0), older(n), older(16), older(17), older(16)}
	res, err := Verify(ctx, SliceSource(entries), head, good...)
	if err != nil {
		t.Fatalf("Verify with good checkpoints: %v", err)
	}
	if res.Tree != older(n) {
		t.Fatalf("Tree = %+v, want %+v", res.Tree, older(n))
	}
	if good[0] != older(30) {
		t.Fatal("Verify reordered the caller's checkpoints")
	}

	forged := older(16)
	forged.Hash[0] ^= 1
	_, err = Verify(ctx, SliceSource(entries), head, older(5), forged)
	wantTamper(t, err, 16)

	emptyForged := tlog.Tree{N: 0, Hash: tlog.Hash{1}}
	_, err = Verify(ctx, SliceSource(entries), head, emptyForged)
	wantTamper(t, err, 0)

	// A checkpoint of another log of the same size.
	other, _ := newLog(t, 16)
	other[0].Actor = "elsewhere"
	reseal(other, 0)
	_, err = Verify(ctx, SliceSource(entries), head, treeOf(t, other))
	wantTamper(t, err, 16)

	// A checkpoint beyond the log: truncation (even with a matching head row).
	future := tlog.Tree{N: n + 5, Hash: older(n).Hash}
	_, err = Verify(ctx, SliceSource(entries), head, future)
	wantTamper(t, err, n+1)
	_, err = Verify(ctx, SliceSource(entries[:20]), headOf(entries[:20]), older(n))
	wantTamper(t, err, 21)

	_, err = Verify(ctx, SliceSource(entries), head, tlog.Tree{N: -1})
	if err == nil || errors.Is(err, ErrTampered) {
		t.Fatalf("negative checkpoint: err = %v, want a non-tamper error", err)
	}
}

func TestMerkleRootMatchesTreeHash(t *testing.T) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	var m merkle
	check := func(n int64) {
		want, err := tlog.TreeHash(n, reader)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.root(); got != want {
			t.Fatalf("n=%d: incremental root %v, tlog.TreeHash %v", n, got, want)
		}
	}
	sizes := map[int64]bool{1000: true, 1023: true, 1024: true, 1025: true, 4097: true, 65535: true, 65536: true, 100001: true}
	for n := int64(0); n <= 100001; n++ {
		if n <= 70 || sizes[n] {
			check(n)
		}
		data := []byte(fmt.Sprintf("leaf %d", n))
		hs, err := tlog.StoredHashes(n, data, reader)
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, hs...)
		m.add(tlog.RecordHash(data))
	}
	if m.depth > 64 {
		t.Fatal("stack overflow")
	}
}

// errSource fails after some entries.
type errSource struct {
	entries []Entry
	failAt  int
	err     error
}

func (s errSource) Scan(ctx context.Context, fn func(Entry) error) error {
	for i, e := range s.entries {
		if i == s.failAt {
			return s.err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// wrappingSource wraps fn's error, or ignores it and goes on.
type wrappingSource struct {
	entries []Entry
	ignore  bool
}

func (s wrappingSource) Scan(ctx context.Context, fn func(Entry) error) error {
	for _, e := range s.entries {
		if err := fn(e); err != nil && !s.ignore {
			return fmt.Errorf("gorm: row scan: %w", errors.New(err.Error()))
		}
	}
	return nil
}

func TestVerifySourceErrors(t *testing.T) {
	entries, head := newLog(t, 10)
	ctx := context.Background()
	dbErr := errors.New("database is locked")

	_, err := Verify(ctx, errSource{entries, 4, dbErr}, head)
	if !errors.Is(err, dbErr) || errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want the source's error and not ErrTampered", err)
	}

	bad := clone(entries)
	bad[6].Actor = "x"
	for _, ignore := range []bool{false, true} {
		_, err = Verify(ctx, wrappingSource{bad, ignore}, head)
		wantTamper(t, err, 7)
	}

	if _, err := Verify(ctx, nil, head); err == nil {
		t.Fatal("nil source: no error")
	}
	//lint:ignore SA1012 testing the nil guard
	if _, err := Verify(nil, SliceSource(entries), head); err == nil { //nolint:staticcheck
		t.Fatal("nil context: no error")
	}
}

func TestVerifyCancelled(t *testing.T) {
	entries, head := newLog(t, 3*ctxCheckInterval)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Verify(ctx, SliceSource(entries), head)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrTampered) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// A source that ignores ctx: Verify still stops.
	_, err = Verify(ctx, wrappingSource{entries: entries}, head)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestVerifyConstantMemory checks that Verify allocates nothing per entry,
// so its memory does not grow with the log.
func TestVerifyConstantMemory(t *testing.T) {
	ctx := context.Background()
	small, smallHead := newLog(t, 100)
	large, largeHead := newLog(t, 20000)
	cp := treeOf(t, large[:5000])
	allocs := func(es []Entry, h Head, cps ...tlog.Tree) float64 {
		return testing.AllocsPerRun(3, func() {
			if _, err := Verify(ctx, SliceSource(es), h, cps...); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b := allocs(small, smallHead), allocs(large, largeHead, cp)
	t.Logf("allocations: %v for 100 entries, %v for 20000", a, b)
	if b > a+2 {
		t.Errorf("Verify allocates per entry: %v allocations for 100 entries, %v for 20000", a, b)
	}
}
