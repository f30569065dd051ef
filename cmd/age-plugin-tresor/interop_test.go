package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/threshold"
)

// need finds a tool on PATH; without it the test is skipped, except in CI
// (CI=true), which installs age v1.3.2 and must run this test.
func need(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not on PATH; CI=true requires the age interoperability test to run", name)
		}
		t.Skipf("%s not on PATH", name)
	}
	return p
}

// build compiles a command of this module into dir.
func build(t *testing.T, dir, pkg, name string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
}

// TestStandardAgeOpensThresholdBundle: a bundle the vault sealed to 2 of 3
// holders opens with the standard age command and this plugin when two
// holders are combined, and is refused with one.
func TestStandardAgeOpensThresholdBundle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	ageBin := need(t, "age")
	need(t, "tar")
	need(t, "bash")
	if out, err := exec.Command(ageBin, "--version").Output(); err == nil {
		t.Logf("age %s", bytes.TrimSpace(out))
	}
	bin := t.TempDir()
	build(t, bin, "github.com/tresor-evidence/tresor/cmd/age-plugin-tresor", "age-plugin-tresor")
	build(t, bin, "github.com/tresor-evidence/tresor/cmd/tresor", "tresor")

	rec, holders, err := threshold.Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	for i, h := range holders {
		if err := os.WriteFile(filepath.Join(keys, "holder-"+string(rune('1'+i))+".txt"), []byte("# holder\n"+h.String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vdir := t.TempDir()
	b, err := vault.NewFSBackend(vdir)
	if err != nil {
		t.Fatal(err)
	}
	recs, fps, err := vault.ParseRecipients([]string{rec.String()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(b, recs, fps, vault.WithClock(func() time.Time { return time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC) }), vault.WithTempDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("Beweis\n")
	rc, err := v.Seal(context.Background(), vault.Manifest{IncidentID: "inc-1"}, vault.Part{Name: "e.txt", Size: -1, R: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(vdir, rc.BundleID[:2], rc.BundleID+".age")
	if _, err := os.Stat(bundle); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	sh := func(script string, args ...string) (string, error) {
		cmd := exec.Command("bash", append([]string{"-c", "set -o pipefail; " + script, "bash"}, args...)...)
		cmd.Env = env
		cmd.Dir = keys
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}

	for _, pair := range [][2]string{{"1", "2"}, {"1", "3"}, {"3", "2"}} {
		out := t.TempDir()
		msg, err := sh(`age -d -i <(tresor vault combine --identity holder-$1.txt --identity holder-$2.txt) "$3" | tar -x -C "$4"`,
			pair[0], pair[1], bundle, out)
		if err != nil {
			t.Fatalf("holders %v: %v\n%s", pair, err, msg)
		}
		got, err := os.ReadFile(filepath.Join(out, "e.txt"))
		if err != nil || !bytes.Equal(got, content) {
			t.Fatalf("holders %v: e.txt = %q, %v", pair, got, err)
		}
		if _, err := os.Stat(filepath.Join(out, "manifest.json")); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"-i", "holder-2.txt"}, {"-i", "holder-1.txt", "-i", "holder-2.txt"}} {
		msg, err := sh(`age -d "$@" -o /dev/null `+bundle, args...)
		if err == nil || !strings.Contains(msg, "1 more holder needed") || !strings.Contains(msg, "tresor vault combine") {
			t.Fatalf("age %v: %v\n%s", args, err, msg)
		}
	}
	// The plugin also seals: age -r age1tresor1… gives a file Tresor opens.
	msg, err := sh(`printf 'von age' | age -r "$1" -o sealed.age`, rec.String())
	if err != nil {
		t.Fatalf("age -r: %v\n%s", err, msg)
	}
	msg, err = sh(`age -d -i <(tresor vault combine --identity holder-2.txt --identity holder-3.txt) sealed.age`)
	if err != nil || msg != "von age" {
		t.Fatalf("age -d of a plugin-sealed file: %v\n%s", err, msg)
	}
}
