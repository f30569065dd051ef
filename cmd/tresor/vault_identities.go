package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"golang.org/x/term"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/threshold"
)

// passphrases reads passphrases: from the terminal without echo when
// standard input is one, else one line each from standard input (never
// from argv).
type passphrases struct {
	c  *cli
	rd *bufio.Reader
}

func (c *cli) passphrases() *passphrases { return &passphrases{c: c} }

// terminal reports whether passphrases are typed (and can be repeated).
func (p *passphrases) terminal() bool {
	f, ok := p.c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (p *passphrases) read(prompt string) (string, error) {
	if p.terminal() {
		f := p.c.stdin.(*os.File)
		fmt.Fprintf(p.c.stderr, "%s: ", prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(p.c.stderr)
		if err != nil {
			return "", fmt.Errorf("failed to read passphrase: %w", err)
		}
		return string(b), nil
	}
	if p.rd == nil {
		p.rd = bufio.NewReader(io.LimitReader(p.c.stdin, 1<<16))
	}
	line, err := p.rd.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("failed to read passphrase: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", usageError("no passphrase given for %s: type it when asked, or pipe one line per protected file on standard input", prompt)
	}
	return line, nil
}

// isAgeEncrypted reports whether data is an age file (binary or armored):
// a holder identity protected with a passphrase.
func isAgeEncrypted(data []byte) bool {
	data = bytes.TrimLeft(data, " \t\r\n")
	return bytes.HasPrefix(data, []byte("age-encryption.org/v1\n")) || bytes.HasPrefix(data, []byte(armor.Header))
}

// decryptIdentityFile opens a passphrase-protected identity file with
// age's scrypt recipient type, as `age -p` or `tresor vault keygen
// --passphrase` wrote it.
func decryptIdentityFile(data []byte, path string, pp *passphrases) ([]byte, error) {
	pass, err := pp.read("passphrase for " + path)
	if err != nil {
		return nil, err
	}
	id, err := age.NewScryptIdentity(pass)
	if err != nil {
		return nil, err
	}
	var src io.Reader = bytes.NewReader(bytes.TrimLeft(data, " \t\r\n"))
	if bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte(armor.Header)) {
		src = armor.NewReader(src)
	}
	r, err := age.Decrypt(src, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) || strings.Contains(err.Error(), "incorrect passphrase") {
			return nil, fmt.Errorf("identity file %s: wrong passphrase", path)
		}
		return nil, fmt.Errorf("identity file %s: %v", path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %v", path, err)
	}
	return plain, nil
}

// readIdentities reads every --identity file (asking for the passphrase
// of protected ones), combines threshold holders into one identity, and
// returns the keys' fingerprints for the opening's audit entry.
func (c *cli) readIdentities(paths []string) ([]vault.Identity, []string, error) {
	if len(paths) == 0 {
		return nil, nil, usageError("--identity FILE is required")
	}
	pp := c.passphrases()
	var all []vault.Identity
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to read identity file: %w", err)
		}
		if len(data) > 1<<20 {
			return nil, nil, fmt.Errorf("identity file %s is larger than 1 MiB", path)
		}
		if isAgeEncrypted(data) {
			if data, err = decryptIdentityFile(data, path, pp); err != nil {
				return nil, nil, err
			}
		}
		ids, err := vault.ParseIdentities(data)
		if err != nil {
			return nil, nil, fmt.Errorf("identity file %s: %w", path, err)
		}
		all = append(all, ids...)
	}
	merged, err := threshold.Merge(all)
	if err != nil {
		return nil, nil, err
	}
	return merged, keyFingerprints(merged), nil
}

// keyFingerprints names identities without revealing them.
func keyFingerprints(ids []vault.Identity) []string {
	var fps []string
	for i, id := range ids {
		switch id := id.(type) {
		case *threshold.Identity:
			fps = append(fps, id.Fingerprints()...)
		case *age.X25519Identity:
			fps = append(fps, id.Recipient().String())
		default:
			fps = append(fps, fmt.Sprintf("identity %d", i+1))
		}
	}
	return fps
}
