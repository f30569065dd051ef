package audit

import (
	"context"
	"testing"
	"time"
)

func BenchmarkSeal(b *testing.B) {
	prev := Seal(nil, Entry{Time: t0, Actor: "system", Action: "log.created"})
	e := Entry{
		Time:       t0,
		Actor:      "user-3",
		Action:     "request.approved",
		IncidentID: "inc-0042",
		Details: map[string]string{
			"request_id": "req-17",
			"sha256":     "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			"reason":     "Vier-Augen-Prinzip: Leitung hat zugestimmt",
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		prev = Seal(&prev, e)
	}
}

func BenchmarkEncode(b *testing.B) {
	entries, _ := newLog(b, 1)
	e := entries[0]
	b.Run("Encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = e.Encode()
		}
	})
	b.Run("ComputeHash", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = e.ComputeHash()
		}
	})
}

// BenchmarkVerify verifies a log of 100,000 entries (with a checkpoint
// halfway) per op. ns/entry is wall time; cpu-ns/entry is the process's CPU
// time, which stays meaningful when other work shares the machine.
func BenchmarkVerify(b *testing.B) {
	const n = 100_000
	entries, head := newLog(b, n)
	cp := treeOf(b, entries[:n/2])
	ctx := context.Background()
	b.ReportAllocs()
	cpu0, cpuOK := processCPUTime()
	start := time.Now()
	for b.Loop() {
		if _, err := Verify(ctx, SliceSource(entries), head, cp); err != nil {
			b.Fatal(err)
		}
	}
	perEntry := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / n }
	b.ReportMetric(perEntry(time.Since(start)), "ns/entry")
	if cpu1, ok := processCPUTime(); ok && cpuOK {
		b.ReportMetric(perEntry(cpu1-cpu0), "cpu-ns/entry")
	}
}
