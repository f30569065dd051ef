//go:build unix

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/vault"
)

// A `vault open` killed with SIGKILL while it writes decrypted parts
// leaves them only in DIR/.tresor-open-partial; the next run into DIR
// removes them, says so, and writes the bundle. The killed run reads the
// bundle from a FIFO the test feeds, so that it is killed while it has
// written plaintext, not before or after.
func TestVaultOpenKilled(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.txt")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := vault.NewFSBackend(filepath.Join(data, "vault"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.New(b, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	first, second := make([]byte, 1<<20), make([]byte, 8<<20)
	for _, p := range [][]byte{first, second} {
		if _, err := rand.Read(p); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "inc-1", Category: "threat"},
		vault.Part{Name: "Beweis-Übersicht.jpg", MediaType: "image/jpeg", Size: int64(len(first)), R: bytes.NewReader(first)},
		vault.Part{Name: "video.mp4", MediaType: "video/mp4", Size: int64(len(second)), R: bytes.NewReader(second)})
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(data, "vault", rc.BundleID[:2], rc.BundleID+".age")
	ciphertext, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(blob, 0o600); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "out")
	cmd := exec.Command(os.Args[0], "vault", "open", "--offline", "--operator", "susi", "--identity", keyFile, rc.BundleID, "-o", out)
	cmd.Env = append(os.Environ(), "TRESOR_TEST_MAIN_CLI=1", "TRESOR_DATA_DIR="+data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the child has ended
	go func() { _ = cmd.Wait(); close(exited) }()
	opened := make(chan struct{})
	defer close(opened)
	go func() {
		// A child that ends without opening the bundle would leave the
		// open below blocked: open the FIFO's other end to release it.
		select {
		case <-exited:
			if r, err := os.OpenFile(blob, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
				r.Close()
			}
		case <-opened:
		}
	}()
	fifo, err := os.OpenFile(blob, os.O_WRONLY, 0) // returns once the child opened it
	if err != nil {
		t.Fatal(err)
	}
	// Past the first part and into the second: once Write returns, the
	// child has read all but a pipe buffer of it.
	if _, err := fifo.Write(ciphertext[:len(ciphertext)/2]); err != nil {
		<-exited
		t.Fatalf("%v; child said: %s", err, stderr.String())
	}
	staging := filepath.Join(out, openStaging)
	deadline := time.Now().Add(time.Minute)
	for stagedBytes(staging) < int64(len(first)) {
		if time.Now().After(deadline) {
			t.Fatalf("no decrypted part staged; child said: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited // killed
	_ = fifo.Close()
	if n := stagedBytes(staging); n < int64(len(first)) {
		t.Fatalf("killed run left %d bytes staged, want the decrypted first part", n)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 { // the staging folder and the lock file
		t.Fatalf("killed run wrote outside its staging folder: %v", entries)
	}

	// The next run removes the leftovers, says so, and opens the bundle.
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, ciphertext, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, errs bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &errs, now: time.Now,
		getenv: func(k string) string { return map[string]string{"TRESOR_DATA_DIR": data}[k] }}
	if code := c.dispatch(ctx, []string{"vault", "open", "--offline", "--operator", "susi", "--identity", keyFile, rc.BundleID, "-o", out}); code != 0 {
		t.Fatalf("second open: exit %d: %s", code, errs.String())
	}
	if !regexp.MustCompile(`removed [12] file\(s\) of decrypted evidence that an interrupted 'vault open' left in ` + regexp.QuoteMeta(out)).MatchString(errs.String()) {
		t.Fatalf("second open did not say it removed the leftovers: %q", errs.String())
	}
	if _, err := os.Stat(staging); !os.IsNotExist(err) {
		t.Fatalf("staging folder still there: %v", err)
	}
	for name, want := range map[string][]byte{"Beweis-Übersicht.jpg": first, "video.mp4": second} {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes, %v", name, len(got), err)
		}
	}
}

// stagedBytes is the size of the files in the staging folder.
func stagedBytes(dir string) int64 {
	var n int64
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
