package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tresor-evidence/tresor/vault/vaultopen"
)

// config is the service's configuration, read once from the environment.
// Secrets are never taken from argv; each secret variable X also has an
// X_FILE form that names a file holding it.
type config struct {
	DataDir     string // TRESOR_DATA_DIR, default ./tresor-data
	DatabaseURL string // TRESOR_DATABASE_URL(_FILE), default sqlite:DATA/tresor.db
	Listen      string // TRESOR_LISTEN, default 127.0.0.1:8080
	// MetricsListen is TRESOR_METRICS_LISTEN: the address serving
	// Prometheus metrics at /metrics; empty (the default) serves none.
	MetricsListen string
	PolicyDir     string // TRESOR_POLICY_DIR, optional override directory
	AuditKeyFile  string // TRESOR_AUDIT_KEY_FILE, default DATA/audit-signing.key
	// WitnessKeysFile is TRESOR_AUDIT_WITNESS_KEYS_FILE: witness verifier
	// keys, one a line, whose cosignatures the server accepts; optional.
	WitnessKeysFile string
	SecretKeyFile   string // TRESOR_SECRET_KEY_FILE, default DATA/secret.key: encrypts second-factor secrets
	WAKeyFile       string // TRESOR_WA_KEY_FILE, default DATA/wa-capture.key: encrypts captured WhatsApp messages
	WAProxy         string // TRESOR_WA_PROXY, optional proxy to WhatsApp
	RecipientsFile  string // TRESOR_VAULT_RECIPIENTS_FILE, default DATA/vault-recipients.txt
	VaultDir        string // TRESOR_VAULT_DIR, default DATA/vault; "" when TRESOR_VAULT_URL names an S3 vault
	IdentityOut     string // TRESOR_VAULT_IDENTITY_OUT: where the first run writes the vault identity
	TLSCertFile     string // TRESOR_TLS_CERT_FILE
	TLSKeyFile      string // TRESOR_TLS_KEY_FILE
	TrustedProxies  []string
	MaxInFlight     int    // TRESOR_MAX_IN_FLIGHT, default 0: 2 per CPU
	SMTPURL         string // TRESOR_SMTP_URL(_FILE): smtp://user:password@host:587 or smtps://…; "" sends no mail
	SMTPFrom        string // TRESOR_SMTP_FROM: the sender, e.g. "Tresor <tresor@example.org>"
	PublicURL       string // TRESOR_PUBLIC_URL: https://tresor.example.org, the base of links in mails
	// ShutdownGrace is TRESOR_SHUTDOWN_GRACE: how long a stopping
	// service waits for requests in flight (uploads) before cutting them
	// off (default 60 s).
	ShutdownGrace time.Duration
	// LogFormat is TRESOR_LOG_FORMAT: "json" or "text"; empty chooses
	// text on a terminal and JSON otherwise.
	LogFormat string

	// Vault is where the vault is: TRESOR_VAULT_URL (file:///… or
	// s3://…), else the folder VaultDir.
	Vault vaultopen.Location
	// S3AccessKeyID and S3SecretAccessKey are TRESOR_S3_ACCESS_KEY_ID and
	// TRESOR_S3_SECRET_ACCESS_KEY(_FILE), the S3 vault's credentials.
	S3AccessKeyID     string
	S3SecretAccessKey string
	OIDC              oidcConfig
}

// envVars documents every variable; `tresor serve --help` prints it.
const envVars = `Environment:
  TRESOR_DATA_DIR               data folder (default ./tresor-data)
  TRESOR_DATABASE_URL[_FILE]    postgres://… or sqlite:PATH (default sqlite:DATA/tresor.db)
  TRESOR_LISTEN                 listen address (default 127.0.0.1:8080)
  TRESOR_METRICS_LISTEN         address serving Prometheus metrics at /metrics, apart from the web
                                interface, e.g. 127.0.0.1:9090 (default: no metrics)
  TRESOR_POLICY_DIR             folder of policy YAML overriding the embedded defaults
  TRESOR_AUDIT_KEY_FILE         audit checkpoint signing key (default DATA/audit-signing.key)
  TRESOR_AUDIT_WITNESS_KEYS_FILE  witness verifier keys, one a line ('tresor audit witness-keygen'):
                                cosignatures by these keys are accepted and checked (optional)
  TRESOR_SECRET_KEY_FILE        32-byte key encrypting second-factor secrets (default DATA/secret.key)
  TRESOR_WA_KEY_FILE            key encrypting captured WhatsApp messages (default DATA/wa-capture.key)
  TRESOR_VAULT_RECIPIENTS_FILE  vault recipients, one age1… per line (default DATA/vault-recipients.txt)
  TRESOR_VAULT_DIR              filesystem vault (default DATA/vault)
  TRESOR_VAULT_URL              the vault as a URL instead of TRESOR_VAULT_DIR: file:///PATH or
                                s3://BUCKET/PREFIX?endpoint=https://HOST[:PORT]&region=R&path_style=true
                                &object_lock=governance|compliance (retention per category from the policy)
  TRESOR_S3_ACCESS_KEY_ID       access key of an S3 vault
  TRESOR_S3_SECRET_ACCESS_KEY[_FILE]  its secret key (best from a file)
  TRESOR_VAULT_IDENTITY_OUT     where the first run writes the generated vault identity
                                (default: next to the data folder, DATA-vault-identity.txt)
  TRESOR_TLS_CERT_FILE, TRESOR_TLS_KEY_FILE   serve HTTPS with these files
  TRESOR_TRUSTED_PROXIES        comma-separated proxy addresses whose X-Forwarded-For is trusted
  TRESOR_MAX_IN_FLIGHT          requests worked on at once; the rest wait in turn (default 2 per CPU)
  TRESOR_SMTP_URL[_FILE]        mail server for notifications: smtp://user:password@host:587 (STARTTLS,
                                required unless the host is loopback) or smtps://…:465 (TLS); unset: no
                                mail is sent and each notification is recorded as not sent
  TRESOR_SMTP_FROM              sender of notifications, e.g. "Tresor <tresor@example.org>"
  TRESOR_PUBLIC_URL             address people open Tresor at, for the links in mails (https://…)
  TRESOR_WA_PROXY               http://, https:// or socks5:// proxy to reach WhatsApp through (default: direct)
  TRESOR_SHUTDOWN_GRACE         how long a stopping service waits for requests in flight, such as
                                uploads, e.g. 90s or 5m (default 60s)
  TRESOR_LOG_FORMAT             json or text (default: text on a terminal, json otherwise)
` + oidcEnvVars

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		DataDir: getenv("TRESOR_DATA_DIR"), Listen: getenv("TRESOR_LISTEN"), MetricsListen: getenv("TRESOR_METRICS_LISTEN"), PolicyDir: getenv("TRESOR_POLICY_DIR"),
		AuditKeyFile: getenv("TRESOR_AUDIT_KEY_FILE"), WitnessKeysFile: getenv("TRESOR_AUDIT_WITNESS_KEYS_FILE"), SecretKeyFile: getenv("TRESOR_SECRET_KEY_FILE"),
		WAKeyFile: getenv("TRESOR_WA_KEY_FILE"), RecipientsFile: getenv("TRESOR_VAULT_RECIPIENTS_FILE"),
		VaultDir: getenv("TRESOR_VAULT_DIR"), IdentityOut: getenv("TRESOR_VAULT_IDENTITY_OUT"),
		TLSCertFile: getenv("TRESOR_TLS_CERT_FILE"), TLSKeyFile: getenv("TRESOR_TLS_KEY_FILE"),
		WAProxy: getenv("TRESOR_WA_PROXY"),
	}
	if c.DataDir == "" {
		c.DataDir = "tresor-data"
	}
	c.DataDir = filepath.Clean(c.DataDir)
	var err error
	if c.DatabaseURL, err = secretEnv(getenv, "TRESOR_DATABASE_URL"); err != nil {
		return config{}, err
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite:" + filepath.Join(c.DataDir, "tresor.db")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.AuditKeyFile == "" {
		c.AuditKeyFile = filepath.Join(c.DataDir, "audit-signing.key")
	}
	if c.SecretKeyFile == "" {
		c.SecretKeyFile = filepath.Join(c.DataDir, "secret.key")
	}
	if c.WAKeyFile == "" {
		c.WAKeyFile = filepath.Join(c.DataDir, "wa-capture.key")
	}
	if c.RecipientsFile == "" {
		c.RecipientsFile = filepath.Join(c.DataDir, "vault-recipients.txt")
	}
	if u := getenv("TRESOR_VAULT_URL"); u != "" {
		if c.VaultDir != "" {
			return config{}, fmt.Errorf("set TRESOR_VAULT_URL or TRESOR_VAULT_DIR, not both (TRESOR_VAULT_URL=file:///PATH names a folder too)")
		}
		if c.Vault, err = vaultopen.ParseURL(u); err != nil {
			return config{}, fmt.Errorf("TRESOR_VAULT_URL: %w", err)
		}
		c.VaultDir = c.Vault.Dir
	} else {
		if c.VaultDir == "" {
			c.VaultDir = filepath.Join(c.DataDir, "vault")
		}
		c.Vault = vaultopen.FileLocation(c.VaultDir)
	}
	c.S3AccessKeyID = strings.TrimSpace(getenv("TRESOR_S3_ACCESS_KEY_ID"))
	if c.S3SecretAccessKey, err = secretEnv(getenv, "TRESOR_S3_SECRET_ACCESS_KEY"); err != nil {
		return config{}, err
	}
	if c.IdentityOut == "" {
		c.IdentityOut = c.DataDir + "-vault-identity.txt"
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return config{}, fmt.Errorf("set both TRESOR_TLS_CERT_FILE and TRESOR_TLS_KEY_FILE, or neither")
	}
	for _, p := range strings.Split(getenv("TRESOR_TRUSTED_PROXIES"), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if c.SMTPURL, err = secretEnv(getenv, "TRESOR_SMTP_URL"); err != nil {
		return config{}, err
	}
	c.SMTPFrom, c.PublicURL = strings.TrimSpace(getenv("TRESOR_SMTP_FROM")), strings.TrimRight(strings.TrimSpace(getenv("TRESOR_PUBLIC_URL")), "/")
	if c.SMTPURL != "" {
		if c.SMTPFrom == "" || c.PublicURL == "" {
			return config{}, fmt.Errorf("TRESOR_SMTP_URL needs TRESOR_SMTP_FROM (the sender) and TRESOR_PUBLIC_URL (for the links in mails)")
		}
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return config{}, fmt.Errorf("TRESOR_PUBLIC_URL must be an address such as https://tresor.example.org, not %q", c.PublicURL)
		}
	}
	if c.OIDC, err = loadOIDCConfig(getenv, c.PublicURL); err != nil {
		return config{}, err
	}
	if v := getenv("TRESOR_MAX_IN_FLIGHT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return config{}, fmt.Errorf("TRESOR_MAX_IN_FLIGHT must be a whole number of at least 1, not %q", v)
		}
		c.MaxInFlight = n
	}
	if c.ShutdownGrace, err = parseGrace(getenv("TRESOR_SHUTDOWN_GRACE")); err != nil {
		return config{}, err
	}
	switch c.LogFormat = strings.ToLower(strings.TrimSpace(getenv("TRESOR_LOG_FORMAT"))); c.LogFormat {
	case "", "json", "text":
	default:
		return config{}, fmt.Errorf("TRESOR_LOG_FORMAT must be json or text, not %q", getenv("TRESOR_LOG_FORMAT"))
	}
	return c, nil
}

// defaultShutdownGrace is long enough for an upload of the largest
// accepted size over a slow line to finish.
const defaultShutdownGrace = 60 * time.Second

// parseGrace reads TRESOR_SHUTDOWN_GRACE: a duration such as 90s or 5m
// (a bare number counts as seconds), at least one second and at most
// one hour; empty is the default.
func parseGrace(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultShutdownGrace, nil
	}
	d, err := time.ParseDuration(v)
	if n, nerr := strconv.Atoi(v); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < time.Second || d > time.Hour {
		return 0, fmt.Errorf("TRESOR_SHUTDOWN_GRACE must be a duration between 1s and 1h, such as 60s or 5m, not %q", v)
	}
	return d, nil
}

// secretEnv reads NAME, or the file named by NAME_FILE; setting both is an error.
func secretEnv(getenv func(string) string, name string) (string, error) {
	direct, file := getenv(name), getenv(name+"_FILE")
	switch {
	case direct != "" && file != "":
		return "", fmt.Errorf("set %s or %s_FILE, not both", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("failed to read %s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return direct, nil
}
