package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/tresor-evidence/tresor/vault"
)

// cmdVaultBench seals a random file into a scratch vault, once for each
// way a part can reach Seal, and compares each throughput with the age
// command encrypting the same file.
func (c *cli) cmdVaultBench(ctx context.Context, args []string) error {
	fs := c.flags("vault bench", "vault bench [--size SIZE] [--dir DIR] [--age PATH] [--modes LIST]")
	sizeFlag := fs.String("size", "1GiB", "size of the random test file (bytes, or with KiB/MiB/GiB)")
	dir := fs.String("dir", "", "scratch `DIR` for the test file and vault (default: system temp)")
	agePath := fs.String("age", "", "the age command to compare with (default: age from PATH)")
	modesFlag := fs.String("modes", "declared,two-pass,stream", "comma-separated `LIST` of source modes to seal: "+
		"declared (size and SHA-256 known, one pass), two-pass (seekable file, hash unknown), stream (unknown size, encrypted spool)")
	if err := parse(fs, args); err != nil {
		return err
	}
	size, err := parseSize(*sizeFlag)
	if err != nil {
		return usageError("bad --size: %v", err)
	}
	var modes []benchMode
	for _, name := range strings.Split(*modesFlag, ",") {
		m, ok := benchModes[strings.TrimSpace(name)]
		if !ok {
			return usageError("bad --modes: unknown mode %q (declared, two-pass, stream)", name)
		}
		modes = append(modes, m)
	}
	work, err := os.MkdirTemp(*dir, "tresor-bench-")
	if err != nil {
		return fmt.Errorf("failed to create scratch directory: %w", err)
	}
	defer os.RemoveAll(work)

	input := filepath.Join(work, "input.bin")
	sum, err := writeRandomFile(input, size)
	if err != nil {
		return fmt.Errorf("failed to write test file: %w", err)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	b, err := vault.NewFSBackend(filepath.Join(work, "vault"))
	if err != nil {
		return err
	}
	v, err := vault.New(b, []vault.Recipient{id.Recipient()}, []string{id.Recipient().String()},
		vault.WithTempDir(work), vault.WithToolVersion(toolVersion()))
	if err != nil {
		return err
	}
	mib := float64(size) / (1 << 20)
	fmt.Fprintf(c.stdout, "input:     %d bytes (%.0f MiB) random, in the page cache\n", size, mib)

	ageRate, ageSyncRate, err := c.benchAge(ctx, *agePath, id.Recipient().String(), input, filepath.Join(work, "age-out.age"), mib)
	if err != nil {
		return err
	}
	for _, m := range modes {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		start := time.Now()
		part := m.shape(vault.Part{Name: "input.bin", MediaType: "application/octet-stream", Size: size, SHA256: sum, R: f})
		rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "bench"}, part)
		dur := time.Since(start)
		err = errors.Join(err, f.Close())
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		if _, err := v.Destroy(ctx, rc.BundleID); err != nil {
			return err
		}
		rate := mib / dur.Seconds()
		fmt.Fprintf(c.stdout, "tresor:    %.2f s, %.1f MiB/s  %s", dur.Seconds(), rate, m.name)
		if ageRate > 0 {
			fmt.Fprintf(c.stdout, "  ratio %.2f× age, %.2f× age+fsync", rate/ageRate, rate/ageSyncRate)
		}
		fmt.Fprintln(c.stdout)
	}
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "peak RSS:  %.1f MiB (VmHWM, whole run)\n", float64(hwm)/(1<<20))
	return nil
}

// benchAge times the age command encrypting input to out, and then the
// same with an fsync of its output (what Seal guarantees), and returns
// both throughputs in MiB/s, or zeros if age is not installed.
func (c *cli) benchAge(ctx context.Context, bin, recipient, input, out string, mib float64) (plain, synced float64, err error) {
	if bin == "" {
		if bin, err = exec.LookPath("age"); err != nil {
			fmt.Fprintln(c.stdout, "age:       not found on PATH (go install filippo.io/age/cmd/age@v1.3.2); no comparison")
			return 0, 0, nil
		}
	}
	run := func(sync bool) (time.Duration, error) {
		cmd := exec.CommandContext(ctx, bin, "-r", recipient, "-o", out, input)
		cmd.Stderr = c.stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("failed to run age: %w", err)
		}
		if sync {
			if err := fsyncFile(out); err != nil {
				return 0, err
			}
		}
		dur := time.Since(start)
		return dur, os.Remove(out)
	}
	dur, err := run(false)
	if err != nil {
		return 0, 0, err
	}
	syncDur, err := run(true)
	if err != nil {
		return 0, 0, err
	}
	fmt.Fprintf(c.stdout, "age:       %.2f s, %.1f MiB/s (%s, no fsync)\n", dur.Seconds(), mib/dur.Seconds(), bin)
	fmt.Fprintf(c.stdout, "age+fsync: %.2f s, %.1f MiB/s (the same, then fsync of its output)\n", syncDur.Seconds(), mib/syncDur.Seconds())
	return mib / dur.Seconds(), mib / syncDur.Seconds(), nil
}

func fsyncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// A benchMode is one way a part reaches Seal: what the caller knows of it.
type benchMode struct {
	name string
	// shape turns the part of known size and hash into what the mode
	// gives Seal.
	shape func(p vault.Part) vault.Part
}

var benchModes = map[string]benchMode{
	"declared": {"declared: size and SHA-256 known, one pass (as WhatsApp media arrive)",
		func(p vault.Part) vault.Part { return p }},
	"two-pass": {"two-pass: seekable file, hash unknown (hash pass + encrypt pass)",
		func(p vault.Part) vault.Part { p.SHA256 = ""; return p }},
	"stream": {"stream: unknown size (encrypted spool, as uploads arrive)",
		func(p vault.Part) vault.Part { p.SHA256, p.Size, p.R = "", -1, struct{ io.Reader }{p.R}; return p }},
}

func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return n * mult, nil
}

// writeRandomFile writes size random bytes to a new file at path and
// returns their SHA-256 in hex.
func writeRandomFile(path string, size int64) (string, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rand.Read(buf[:n])
		h.Write(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			return "", errors.Join(err, f.Close())
		}
		left -= n
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// peakRSS returns the process's peak resident set size from
// /proc/self/status (VmHWM).
func peakRSS() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("failed to read peak RSS: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("failed to parse VmHWM: %w", err)
			}
			return kb << 10, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}
