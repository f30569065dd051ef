package main

import (
	"bufio"
	"context"
	"crypto/rand"
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

// cmdVaultBench seals a random file into a scratch vault and compares the
// throughput with the age command on the same file.
func (c *cli) cmdVaultBench(ctx context.Context, args []string) error {
	fs := c.flags("vault bench", "vault bench [--size SIZE] [--dir DIR] [--age PATH] [--unknown-size]")
	sizeFlag := fs.String("size", "1GiB", "size of the random test file (bytes, or with KiB/MiB/GiB)")
	dir := fs.String("dir", "", "scratch `DIR` for the test file and vault (default: system temp)")
	agePath := fs.String("age", "", "the age command to compare with (default: age from PATH)")
	unknown := fs.Bool("unknown-size", false, "seal as a stream of unknown size (through the encrypted spool)")
	if err := parse(fs, args); err != nil {
		return err
	}
	size, err := parseSize(*sizeFlag)
	if err != nil {
		return usageError("bad --size: %v", err)
	}
	work, err := os.MkdirTemp(*dir, "tresor-bench-")
	if err != nil {
		return fmt.Errorf("failed to create scratch directory: %w", err)
	}
	defer os.RemoveAll(work)

	input := filepath.Join(work, "input.bin")
	if err := writeRandomFile(input, size); err != nil {
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
	f, err := os.Open(input)
	if err != nil {
		return err
	}
	defer f.Close()
	part := vault.Part{Name: "input.bin", MediaType: "application/octet-stream", Size: size, R: f}
	mode := "known size, seekable source (hash pass + encrypt pass)"
	if *unknown {
		part.Size, part.R = -1, struct{ io.Reader }{f}
		mode = "unknown size (encrypted spool)"
	}
	start := time.Now()
	rc, err := v.Seal(ctx, vault.Manifest{IncidentID: "bench"}, part)
	if err != nil {
		return err
	}
	sealDur := time.Since(start)
	hwm, err := peakRSS()
	if err != nil {
		return err
	}
	mib := float64(size) / (1 << 20)
	sealRate := mib / sealDur.Seconds()
	fmt.Fprintf(c.stdout, "input:     %d bytes (%.0f MiB) random\n", size, mib)
	fmt.Fprintf(c.stdout, "mode:      %s\n", mode)
	fmt.Fprintf(c.stdout, "tresor:    %.2f s, %.1f MiB/s, bundle %d bytes\n", sealDur.Seconds(), sealRate, rc.CiphertextSize)
	fmt.Fprintf(c.stdout, "peak RSS:  %.1f MiB (VmHWM)\n", float64(hwm)/(1<<20))

	bin := *agePath
	if bin == "" {
		if bin, err = exec.LookPath("age"); err != nil {
			fmt.Fprintln(c.stdout, "age:       not found on PATH (go install filippo.io/age/cmd/age@v1.3.2); no comparison")
			return nil
		}
	}
	out := filepath.Join(work, "age-out.age")
	cmd := exec.CommandContext(ctx, bin, "-r", id.Recipient().String(), "-o", out, input)
	cmd.Stderr = c.stderr
	start = time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("failed to run age: %w", err)
	}
	ageDur := time.Since(start)
	ageRate := mib / ageDur.Seconds()
	fmt.Fprintf(c.stdout, "age:       %.2f s, %.1f MiB/s (%s)\n", ageDur.Seconds(), ageRate, bin)
	fmt.Fprintf(c.stdout, "ratio:     %.2f× age's throughput\n", sealRate/ageRate)
	return nil
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

func writeRandomFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rand.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			return errors.Join(err, f.Close())
		}
		left -= n
	}
	return f.Close()
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
