package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// pgTool is a PostgreSQL client program (pg_dump, pg_restore) run with
// the configured database's address. The password never goes on the
// command line, where other users could read it (ps): the address given
// with --dbname has it removed, and a password file only this process
// can read (PGPASSFILE, 0600, removed afterwards) holds it.
type pgTool struct {
	path  string
	major int
}

var pgVersionRE = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

// findPGTool finds name for a server of major version serverMajor: first
// Debian's /usr/lib/postgresql/MAJOR/bin, then PATH. A client older than
// the server cannot read its dumps reliably and is refused.
func findPGTool(ctx context.Context, name string, serverMajor int) (pgTool, error) {
	candidates := []string{filepath.Join("/usr/lib/postgresql", strconv.Itoa(serverMajor), "bin", name)}
	if p, err := exec.LookPath(name); err == nil {
		candidates = append(candidates, p)
	}
	var found []string
	for _, p := range candidates {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		out, err := exec.CommandContext(ctx, p, "--version").Output()
		if err != nil {
			continue
		}
		m := pgVersionRE.FindSubmatch(out)
		if m == nil {
			continue
		}
		major, _ := strconv.Atoi(string(m[1])) // the pattern admits only digits
		if major >= serverMajor {
			return pgTool{path: p, major: major}, nil
		}
		found = append(found, fmt.Sprintf("%s is version %d", p, major))
	}
	if len(found) == 0 {
		return pgTool{}, fmt.Errorf("%s is not installed: install the PostgreSQL %d client tools (Debian: apt-get install postgresql-client-%d)", name, serverMajor, serverMajor)
	}
	return pgTool{}, fmt.Errorf("%s; the server is PostgreSQL %d: install the PostgreSQL %d client tools (Debian: apt-get install postgresql-client-%d)",
		strings.Join(found, ", "), serverMajor, serverMajor, serverMajor)
}

// libpqParams are the connection parameters libpq (and so pg_dump and
// pg_restore) reads from a URL; others, such as the Go driver's pool
// settings or search_path, make libpq refuse the URL and are left out:
// pg_dump and pg_restore set their own search_path.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true, "gssencmode": true,
	"sslmode": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true,
	"sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true,
	"ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true,
}

// libpqURL returns the database URL for libpq without its password, and
// the password (ok false when the URL has none).
func libpqURL(dsn string) (string, string, bool, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", false, fmt.Errorf("malformed database url: %w", err)
	}
	var pw string
	var ok bool
	if u.User != nil {
		if pw, ok = u.User.Password(); ok {
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), pw, ok, nil
}

// pgpassLine is a password file line that matches every connection.
func pgpassLine(pw string) string {
	return "*:*:*:*:" + strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(pw) + "\n"
}

// run runs the tool with args and the database address dsn, appended
// as --dbname without its password.
func (t pgTool) run(ctx context.Context, dsn string, args ...string) (err error) {
	addr, pw, hasPW, err := libpqURL(dsn)
	if err != nil {
		return err
	}
	env := os.Environ()
	if hasPW {
		dir, err := os.MkdirTemp("", "tresor-pgpass-")
		if err != nil {
			return fmt.Errorf("failed to create a password file: %w", err)
		}
		defer func() {
			if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
				err = fmt.Errorf("failed to remove the password file: %w", rerr)
			}
		}()
		pass := filepath.Join(dir, "pgpass")
		if err := writeNew(pass, []byte(pgpassLine(pw)), 0o600); err != nil {
			return err
		}
		env = append(env, "PGPASSFILE="+pass)
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, t.path, append(args, "--dbname="+addr)...)
	cmd.Env, cmd.Stderr = env, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + " …"
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return fmt.Errorf("%s failed (%s): %s", filepath.Base(t.path), exit, msg)
		}
		return fmt.Errorf("failed to run %s: %w", t.path, err)
	}
	return nil
}

// restoreList is pg_restore's table of contents of archive without the
// data of whatsmeow's tables other than its version: the restored
// database never holds a copy of a linked device's Signal state, even
// if the restore stops before it is marked for linking again.
func (t pgTool) restoreList(ctx context.Context, archive string) ([]byte, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, t.path, "--list", archive)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("pg_restore --list failed: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	var keep bytes.Buffer
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		f := strings.Fields(string(line))
		// "3380; 0 16400 TABLE DATA public whatsmeow_sessions owner"
		if len(f) >= 7 && f[3] == "TABLE" && f[4] == "DATA" && strings.HasPrefix(f[6], "whatsmeow_") && f[6] != "whatsmeow_version" {
			continue
		}
		keep.Write(line)
	}
	return keep.Bytes(), nil
}
