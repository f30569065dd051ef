package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/tresor-evidence/tresor/vault/threshold"
)

// wantsThresholdKeygen reports whether `vault keygen` was called for
// threshold custody (--holders, --threshold, --passphrase or --paper).
func wantsThresholdKeygen(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name := strings.TrimLeft(a, "-")
		if i := strings.IndexByte(name, '='); i >= 0 {
			name = name[:i]
		}
		if strings.HasPrefix(a, "-") && (name == "holders" || name == "threshold" || name == "passphrase" || name == "paper") {
			return true
		}
	}
	return false
}

// minPassphrase is the shortest passphrase a holder file accepts.
const minPassphrase = 12

// cmdVaultKeygenThreshold writes N holder identities into a new directory
// and prints the threshold recipient for vault-recipients.txt.
func (c *cli) cmdVaultKeygenThreshold(ctx context.Context, args []string) error {
	fs := c.flags("vault keygen", "vault keygen --holders N [--threshold K] [--passphrase] [--paper] -o DIR\n\n"+
		"Writes DIR/holder-1.txt … holder-N.txt (mode 0600), one per person who keeps a\n"+
		"share of the vault key; any K of them open a bundle together, fewer never do.\n"+
		"Prints the recipient for vault-recipients.txt. With --passphrase each holder's\n"+
		"file is protected by a passphrase (age scrypt), read without echo from the\n"+
		"terminal or one line per holder from standard input. With --paper, also\n"+
		"DIR/holder-I-paper.html: the key as text and QR code, to print and keep in a safe.")
	holders := fs.Int("holders", 3, "number of holders `N` (2 to 10)")
	k := fs.Int("threshold", 2, "holders `K` needed to open a bundle")
	out := fs.String("o", "", "new `DIR` for the holder files")
	withPass := fs.Bool("passphrase", false, "protect each holder file with a passphrase")
	paper := fs.Bool("paper", false, "also write a printable page per holder")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError("need -o DIR (a new directory) and no arguments")
	}
	if *k < 2 || *holders < *k || *holders > threshold.MaxHolders {
		return usageError("--threshold %d of --holders %d: want 2 ≤ threshold ≤ holders ≤ %d", *k, *holders, threshold.MaxHolders)
	}
	rec, ids, err := threshold.Generate(*k, *holders, rand.Reader)
	if err != nil {
		return err
	}
	// Ask for every passphrase before anything is written.
	contents := make([]string, len(ids))
	pp := c.passphrases()
	for i, id := range ids {
		text := fmt.Sprintf("# Tresor vault key, holder %d of %d (%d needed to open)\n# created: %s\n# recipient: %s\n%s\n",
			i+1, *holders, *k, c.now().UTC().Format("2006-01-02T15:04:05Z"), rec, id)
		if *withPass {
			pass, err := pp.read(fmt.Sprintf("passphrase for holder %d", i+1))
			if err != nil {
				return err
			}
			if n := len([]rune(pass)); n < minPassphrase {
				return usageError("the passphrase for holder %d has %d characters, at least %d are needed; nothing was written", i+1, n, minPassphrase)
			}
			if pp.terminal() {
				again, err := pp.read(fmt.Sprintf("passphrase for holder %d, once more", i+1))
				if err != nil {
					return err
				}
				if again != pass {
					return usageError("the two passphrases for holder %d differ; nothing was written, please start again", i+1)
				}
			}
			if text, err = protect(text, pass); err != nil {
				return err
			}
		}
		contents[i] = text
	}
	if err := os.Mkdir(*out, 0o700); err != nil {
		return fmt.Errorf("failed to create %s (it must be new): %w", *out, err)
	}
	var written []string
	fail := func(err error) error {
		var errs []error
		for _, p := range written {
			errs = append(errs, os.Remove(p))
		}
		return errors.Join(append([]error{err}, append(errs, os.Remove(*out))...)...)
	}
	for i, text := range contents {
		path := filepath.Join(*out, fmt.Sprintf("holder-%d.txt", i+1))
		if err := writeNewFile(path, text); err != nil {
			return fail(fmt.Errorf("failed to write holder file: %w", err))
		}
		written = append(written, path)
		if *paper {
			page, err := paperPage(i+1, *holders, *k, rec.String(), text, *withPass)
			if err != nil {
				return fail(err)
			}
			ppath := filepath.Join(*out, fmt.Sprintf("holder-%d-paper.html", i+1))
			if err := writeNewFile(ppath, page); err != nil {
				return fail(fmt.Errorf("failed to write paper page: %w", err))
			}
			written = append(written, ppath)
		}
	}
	fmt.Fprintf(c.stderr, "tresor: wrote %d holder files to %s: give each to one person; any %d of them open a bundle together. "+
		"Add the recipient to vault-recipients.txt (and remove single keys) to seal new bundles to them.\n", *holders, *out, *k)
	fmt.Fprintln(c.stdout, rec)
	return nil
}

// protect encrypts a holder file with a passphrase (age scrypt, armored,
// so that it stays text the standard age command also reads with -i).
func protect(text, pass string) (string, error) {
	r, err := age.NewScryptRecipient(pass)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, text); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}
