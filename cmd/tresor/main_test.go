package main

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/glebarez/sqlite"
)

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main() // the real process, with its signal handling (see startServe)
	}
	// A test that needs the CLI as a process it can kill runs the test
	// binary itself with TRESOR_TEST_MAIN_CLI=1.
	if os.Getenv("TRESOR_TEST_MAIN_CLI") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"tresor":  func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) },
		"sqlexec": sqlexec,
	})
}

// sqlexec DBFILE STATEMENT runs one SQL statement against a SQLite file:
// the scripts use it to tamper with the audit log the way an attacker
// with database access would.
func sqlexec() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: sqlexec DBFILE STATEMENT")
		os.Exit(2)
	}
	db, err := gorm.Open(sqlite.Open("file:"+os.Args[1]), &gorm.Config{Logger: logger.Discard})
	if err == nil {
		err = db.Exec(os.Args[2]).Error
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlexec:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestScript runs the CLI scenarios in testdata/script: each is a txtar
// archive with the commands, their expected output and exit status.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("TRESOR_TEST_DATABASE_URL", os.Getenv("TRESOR_TEST_DATABASE_URL"))
			return nil
		},
	})
}
