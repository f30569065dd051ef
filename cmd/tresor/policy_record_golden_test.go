package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/tresor-evidence/tresor/policies"
)

var updateRecord = flag.Bool("update-record", false, "rewrite testdata/record/*.golden from the current record")

// TestRecordGolden pins the rendered record of processing activities,
// byte for byte, for the embedded defaults and for a policy that fills
// in part of the processing section, in both languages and both
// formats. The default and filled-in files were written before the
// activities moved into one table (record.yaml) and pin that move; the
// oidc files add the identity provider's activity.
func TestRecordGolden(t *testing.T) {
	filled := `capture_window: 48h
processing:
  controller:
    de: Jugendhilfe Beispielstadt e. V., Hauptstraße 1, 12345 Beispielstadt
    en: Jugendhilfe Beispielstadt e. V., Hauptstraße 1, 12345 Beispielstadt
  recipients:
    de: Polizei und Jugendamt auf deren Ersuchen
    en: Police and youth welfare office at their request
  legal_basis:
    accounts: {de: § 26 BDSG, en: s. 26 BDSG}
`
	oidc := `oidc:
  claim: roles
  roles:
    Tresor.Leitung: supervisor
    Tresor.Fachkraft: worker
  offboarding_check_interval: 30m
processing:
  legal_basis:
    identity_provider: {de: § 26 BDSG, en: s. 26 BDSG}
`
	for _, pc := range []struct{ name, yaml string }{{"default", ""}, {"filled", filled}, {"oidc", oidc}} {
		p, err := policies.Default()
		if pc.yaml != "" {
			p, err = policies.Parse(pc.name+".yaml", []byte(pc.yaml))
		}
		if err != nil {
			t.Fatalf("%s: %v", pc.name, err)
		}
		for _, lang := range []string{"de", "en"} {
			for _, md := range []bool{false, true} {
				name := pc.name + "." + lang + ".txt"
				if md {
					name = pc.name + "." + lang + ".md"
				}
				var b bytes.Buffer
				if err := writeRecord(&b, p.RecordOfProcessing(), lang, md); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", "record", name+".golden")
				if *updateRecord {
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update-record to write it)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs from the rendered record:\n%s", path, b.String())
				}
			}
		}
	}
}
