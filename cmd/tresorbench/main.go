// Command tresorbench seeds a database with many incidents and audit
// entries, serves the real web handler on loopback, signs in a worker and
// an auditor, and measures the latency of the busiest pages under
// concurrent load. It sends a bounded number of requests and stops by
// itself.
//
//	go run ./cmd/tresorbench                      # SQLite in a temporary folder
//	TRESOR_TEST_DATABASE_URL=postgres://… go run ./cmd/tresorbench   # SQLite, then PostgreSQL
//
// The PostgreSQL run works in a fresh schema that it drops afterwards. The
// exit status is 1 when a page's p99 exceeds -max-p99.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"
)

type options struct {
	incidents  int
	audit      int
	mine       int
	requests   int
	clients    int
	warmup     int
	rounds     int
	inFlight   int
	maxP99     time.Duration
	timeout    time.Duration
	dbs        string
	pgURL      string
	cpuProfile string
	keep       bool
	only       string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Measure what `tresor serve` runs with (see tuneGC there).
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	var o options
	fs := flag.NewFlagSet("tresorbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.incidents, "incidents", 10000, "incidents to seed")
	fs.IntVar(&o.audit, "audit", 100000, "audit entries to seed (spread over the incidents)")
	fs.IntVar(&o.mine, "mine", 1000, "incidents of the worker who signs in (the rest go to 19 colleagues)")
	fs.IntVar(&o.requests, "n", 2000, "requests per page")
	fs.IntVar(&o.clients, "c", 50, "concurrent clients")
	fs.IntVar(&o.warmup, "warmup", 100, "unmeasured requests per page first")
	fs.IntVar(&o.inFlight, "inflight", 0, "requests the server works on at once (web.Config.MaxInFlight; 0: its default, 2 per CPU)")
	fs.IntVar(&o.rounds, "rounds", 1, "measure every page this many times (on the same seeded database), to show the spread")
	fs.DurationVar(&o.maxP99, "max-p99", 100*time.Millisecond, "p99 budget per page")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "the whole run stops after this")
	fs.StringVar(&o.dbs, "db", "", "databases to run: sqlite, postgres or sqlite,postgres (default: sqlite, plus postgres when TRESOR_TEST_DATABASE_URL is set)")
	fs.StringVar(&o.pgURL, "pg", os.Getenv("TRESOR_TEST_DATABASE_URL"), "PostgreSQL URL (a fresh schema is created in it and dropped)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the load phase to this file (one database only)")
	fs.BoolVar(&o.keep, "keep", false, "keep the SQLite file and print its path")
	fs.StringVar(&o.only, "only", "", "load only the pages whose name contains this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.incidents < 1 || o.mine < 1 || o.mine > o.incidents || o.audit < 0 || o.requests < 1 || o.clients < 1 || o.rounds < 1 {
		fmt.Fprintln(stderr, "tresorbench: need incidents ≥ mine ≥ 1, audit ≥ 0, n ≥ 1, c ≥ 1, rounds ≥ 1")
		return 2
	}
	if o.dbs == "" {
		o.dbs = "sqlite"
		if o.pgURL != "" {
			o.dbs += ",postgres"
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	fmt.Fprintf(stdout, "tresorbench: %d incidents, %d audit entries, %d requests per page at %d clients, GOMAXPROCS %d, %s\n",
		o.incidents, o.audit, o.requests, o.clients, runtime.GOMAXPROCS(0), runtime.Version())
	failed := false
	for _, db := range strings.Split(o.dbs, ",") {
		db = strings.TrimSpace(db)
		if db == "postgres" && o.pgURL == "" {
			fmt.Fprintln(stderr, "tresorbench: postgres needs -pg or TRESOR_TEST_DATABASE_URL")
			return 2
		}
		if db != "sqlite" && db != "postgres" {
			fmt.Fprintf(stderr, "tresorbench: unknown database %q\n", db)
			return 2
		}
		res, err := bench(ctx, o, db, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "tresorbench: %s: %v\n", db, err)
			return 1
		}
		printResults(stdout, db, o, res)
		for _, r := range res {
			failed = failed || r.p99 > o.maxP99 || r.errors > 0
		}
	}
	if failed {
		fmt.Fprintf(stdout, "\nFAIL: a page missed the p99 budget of %s or had errors\n", o.maxP99)
		return 1
	}
	fmt.Fprintf(stdout, "\nOK: every page's p99 is within %s\n", o.maxP99)
	return 0
}

// startProfile starts a CPU profile when asked; the returned func stops it.
func startProfile(path string) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}
