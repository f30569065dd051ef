package main

import (
	"context"
	"strings"
	"testing"
)

// TestLibpqURL: the address pg_dump and pg_restore get on their command
// line carries no password and only parameters libpq reads.
func TestLibpqURL(t *testing.T) {
	for _, tc := range []struct {
		in, want, pw string
		hasPW        bool
	}{
		{"postgres://tresor:s3cr:et@db:5432/tresor?sslmode=verify-full&search_path=app&pool_max_conns=5",
			"postgres://tresor@db:5432/tresor?sslmode=verify-full", "s3cr:et", true},
		{"postgres://postgres@127.0.0.1/tresor?sslmode=disable", "postgres://postgres@127.0.0.1/tresor?sslmode=disable", "", false},
		{"postgresql://u:@h/d", "postgresql://u@h/d", "", true},
	} {
		got, pw, hasPW, err := libpqURL(tc.in)
		if err != nil || got != tc.want || pw != tc.pw || hasPW != tc.hasPW {
			t.Errorf("libpqURL(%q) = %q, %q, %v, %v; want %q, %q, %v", tc.in, got, pw, hasPW, err, tc.want, tc.pw, tc.hasPW)
		}
		if tc.pw != "" && strings.Contains(got, tc.pw) {
			t.Errorf("%q keeps the password", got)
		}
	}
	if got := pgpassLine(`a:b\c`); got != `*:*:*:*:a\:b\\c`+"\n" {
		t.Errorf("pgpassLine = %q", got)
	}
}

// TestFindPGToolTooOld: a client older than the server is refused with
// what to install.
func TestFindPGToolTooOld(t *testing.T) {
	_, err := findPGTool(context.Background(), "pg_dump", 99)
	if err == nil || !strings.Contains(err.Error(), "install the PostgreSQL 99 client tools") {
		t.Fatalf("err = %v", err)
	}
}
