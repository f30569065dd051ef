package audit

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793000, time.UTC)

// newLog returns n sealed entries and the matching head.
func newLog(tb testing.TB, n int) ([]Entry, Head) {
	tb.Helper()
	entries := make([]Entry, 0, n)
	var prev *Entry
	for i := range n {
		e := Seal(prev, Entry{
			Time:       t0.Add(time.Duration(i) * 1500 * time.Millisecond),
			Actor:      fmt.Sprintf("user-%d", i%7),
			Action:     []string{"incident.flagged", "request.created", "request.approved", "deletion.step.confirmed"}[i%4],
			IncidentID: fmt.Sprintf("inc-%04d", i/4),
			Details: map[string]string{
				"request_id": fmt.Sprintf("req-%d", i),
				"sha256":     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
				"reason":     "Vier-Augen-Prinzip: Leitung hat zugestimmt",
			},
		})
		entries = append(entries, e)
		prev = &entries[len(entries)-1]
	}
	return entries, headOf(entries)
}

func headOf(entries []Entry) Head {
	if len(entries) == 0 {
		return Head{}
	}
	last := entries[len(entries)-1]
	return Head{Seq: last.Seq, Hash: last.Hash}
}

// reseal recomputes Seq, PrevHash and Hash of entries[from:] as an attacker
// with database access would, and returns the new head.
func reseal(entries []Entry, from int) Head {
	for i := from; i < len(entries); i++ {
		var prev *Entry
		if i > 0 {
			prev = &entries[i-1]
		}
		entries[i] = Seal(prev, entries[i])
	}
	return headOf(entries)
}

func clone(entries []Entry) []Entry {
	out := make([]Entry, len(entries))
	for i, e := range entries {
		out[i] = e
		if e.Details != nil {
			out[i].Details = make(map[string]string, len(e.Details))
			for k, v := range e.Details {
				out[i].Details[k] = v
			}
		}
	}
	return out
}

// wantTamper checks that err is a *TamperError at seq.
func wantTamper(tb testing.TB, err error, seq int64) {
	tb.Helper()
	if !errors.Is(err, ErrTampered) {
		tb.Fatalf("err = %v, want ErrTampered", err)
	}
	var te *TamperError
	if !errors.As(err, &te) {
		tb.Fatalf("err = %v, want *TamperError", err)
	}
	if te.Seq != seq {
		tb.Errorf("TamperError.Seq = %d, want %d (%v)", te.Seq, seq, err)
	}
}
