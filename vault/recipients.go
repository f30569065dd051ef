package vault

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"unicode/utf8"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"filippo.io/age/plugin"
	"github.com/tresor-evidence/tresor/vault/threshold"
	"golang.org/x/crypto/ssh"
)

// Recipient is a public key a bundle is encrypted to.
type Recipient = age.Recipient

// Identity is a private key that decrypts bundles.
type Identity = age.Identity

// maxKeyFile bounds the size of recipients and identity files.
const maxKeyFile = 1 << 20

// ParseRecipients parses recipients, one per element: native X25519
// ("age1…"), post-quantum hybrid ("age1pq1…"), SSH public keys ("ssh-ed25519
// …", "ssh-rsa …") and plugin recipients ("age1yubikey1…", only when the
// plugin binary age-plugin-NAME is on PATH). Blank elements and elements
// starting with "#" are ignored. It returns the recipients and, for each, its
// fingerprint: the recipient string itself for age and plugin recipients,
// "TYPE SHA256:…" for SSH keys. The error for a bad element quotes it.
func ParseRecipients(lines []string) ([]Recipient, []string, error) {
	var recs []Recipient
	var fps []string
	seen := make(map[string]bool)
	for _, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, fp, err := parseRecipient(line)
		if err != nil {
			return nil, nil, err
		}
		if seen[fp] {
			return nil, nil, fmt.Errorf("duplicate recipient %q", quoteShort(line))
		}
		seen[fp] = true
		recs = append(recs, r)
		fps = append(fps, fp)
	}
	if len(recs) == 0 {
		return nil, nil, fmt.Errorf("no recipients found")
	}
	if err := checkThresholdMix(fps); err != nil {
		return nil, nil, err
	}
	return recs, fps, nil
}

// checkThresholdMix refuses threshold recipients beside any other kind:
// a single key next to K-of-N holders would open the bundle alone (age
// itself refuses the mix by label when sealing; this says why, earlier).
func checkThresholdMix(fps []string) error {
	th := 0
	for _, fp := range fps {
		if strings.HasPrefix(fp, thresholdPrefix) {
			th++
		}
	}
	if th > 0 && th < len(fps) {
		return fmt.Errorf("a threshold recipient (%s…) cannot be combined with single-key recipients: one key would open what the holders must open together; remove the other recipients", thresholdPrefix)
	}
	return nil
}

// ReadRecipientsFile reads a recipients file (see ParseRecipients).
func ReadRecipientsFile(path string) ([]Recipient, []string, error) {
	lines, err := readLines(path)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to read recipients file: %w", err)
	}
	recs, fps, err := ParseRecipients(lines)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to parse recipients file %s: %w", path, err)
	}
	return recs, fps, nil
}

func parseRecipient(s string) (Recipient, string, error) {
	if !utf8.ValidString(s) {
		return nil, "", fmt.Errorf("invalid recipient %q: not valid UTF-8", quoteShort(s))
	}
	switch {
	case strings.HasPrefix(s, "ssh-"):
		r, err := agessh.ParseRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		return r, pk.Type() + " " + ssh.FingerprintSHA256(pk), nil
	case strings.HasPrefix(s, "age1pq1"):
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		return r, r.String(), nil
	case strings.HasPrefix(s, "age1") && strings.LastIndexByte(s, '1') == 3:
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		return r, r.String(), nil
	case strings.HasPrefix(s, thresholdPrefix):
		// Threshold recipients are sealed natively, without the plugin.
		r, err := threshold.ParseRecipient(s, rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		return r, r.String(), nil
	case strings.HasPrefix(s, "age1"):
		r, err := plugin.NewRecipient(s, &plugin.ClientUI{})
		if err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: %v", quoteShort(s), err)
		}
		bin := "age-plugin-" + r.Name()
		if _, err := exec.LookPath(bin); err != nil {
			return nil, "", fmt.Errorf("invalid recipient %q: plugin %s not found on PATH", quoteShort(s), bin)
		}
		return r, s, nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-") || strings.HasPrefix(s, "AGE-PLUGIN-"):
		// Never echo what looks like a private key.
		return nil, "", fmt.Errorf("invalid recipient: found a private key (identity) where a public recipient was expected")
	default:
		return nil, "", fmt.Errorf("invalid recipient %q: unknown recipient type", quoteShort(s))
	}
}

// ParseIdentities parses identities: native age secret keys
// ("AGE-SECRET-KEY-1…", "AGE-SECRET-KEY-PQ-1…") one per line, plugin
// identities ("AGE-PLUGIN-…"), or one unencrypted PEM-encoded SSH private
// key. Errors never quote key material.
func ParseIdentities(data []byte) ([]Identity, error) {
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		id, err := agessh.ParseIdentity(data)
		if err != nil {
			return nil, fmt.Errorf("failed to parse SSH identity: %w", err)
		}
		return []Identity{id}, nil
	}
	var ids []Identity
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var id Identity
		var err error
		switch {
		case strings.HasPrefix(line, thresholdIdentityPrefix):
			id, err = threshold.ParseIdentity(line)
		case strings.HasPrefix(line, "AGE-PLUGIN-"):
			id, err = plugin.NewIdentity(line, &plugin.ClientUI{})
		default:
			var parsed []age.Identity
			parsed, err = age.ParseIdentities(strings.NewReader(line))
			if err == nil {
				id = parsed[0]
			}
		}
		if err != nil {
			return nil, fmt.Errorf("failed to parse identity at line %d: %v", n, err)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("failed to read identities: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no identities found")
	}
	return threshold.Merge(ids)
}

// ReadIdentitiesFile reads an identity file (see ParseIdentities).
func ReadIdentitiesFile(path string) ([]Identity, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read identity file: %w", err)
	}
	ids, err := ParseIdentities(data)
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	return ids, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxKeyFile)
	}
	return data, nil
}

func readLines(path string) ([]string, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return strings.Split(string(data), "\n"), nil
}

// quoteShort shortens s for an error message.
func quoteShort(s string) string {
	if len(s) > 100 {
		return s[:100] + "…"
	}
	return s
}

// Threshold recipients and holder identities (see package threshold).
const (
	thresholdPrefix         = "age1" + threshold.PluginName + "1"
	thresholdIdentityPrefix = "AGE-PLUGIN-TRESOR-1"
)

// stanzasFor returns how many header stanzas a recipient with the given
// fingerprint produces: one per holder for a threshold recipient, else 1.
func stanzasFor(fingerprint string) int {
	if strings.HasPrefix(fingerprint, thresholdPrefix) {
		if r, err := threshold.ParseRecipient(fingerprint, rand.Reader); err == nil {
			return r.Holders()
		}
	}
	return 1
}

// stanzaTypeFor returns the age header stanza type a recipient with the
// given fingerprint produces, or "" when it cannot be known (plugins).
func stanzaTypeFor(fingerprint string) string {
	switch {
	case strings.HasPrefix(fingerprint, "ssh-ed25519 "):
		return "ssh-ed25519"
	case strings.HasPrefix(fingerprint, "ssh-rsa "):
		return "ssh-rsa"
	case strings.HasPrefix(fingerprint, "age1pq1"):
		return "mlkem768x25519"
	case strings.HasPrefix(fingerprint, thresholdPrefix):
		return threshold.StanzaType
	case strings.HasPrefix(fingerprint, "age1") && strings.LastIndexByte(fingerprint, '1') == 3:
		return "X25519"
	}
	return ""
}
