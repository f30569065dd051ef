package main

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/account/accounttest"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

// testFactors gives a test's service real second factors sealed with key
// (a fixed test key when nil) and returns the authenticator app that
// enrols its supervisors and hands out their step-up codes.
func testFactors(t testing.TB, s *sqlstore.Store, key []byte) (incident.Option, *accounttest.Authenticator) {
	t.Helper()
	if key == nil {
		key = bytes.Repeat([]byte{7}, 32)
	}
	f, err := account.NewFactors(key, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return incident.WithFactors(f), &accounttest.Authenticator{Factors: f, Store: s.Accounts(), Now: time.Now}
}
