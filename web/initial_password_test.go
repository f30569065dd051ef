package web

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitialPasswordReminder: while the first admin's password file
// exists, every admin page names it and says how to delete it; nobody
// else sees the reminder; once the file is gone, so is the reminder; a
// failing check leaves the page working.
func TestInitialPasswordReminder(t *testing.T) {
	e := newEnv(t)
	e.enroll("adam")
	dir := filepath.Join(t.TempDir(), "data dir")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "initial-admin-password")
	if err := os.WriteFile(file, []byte("pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var checkErr error
	e.srv.initialPassword = func() (string, bool, error) {
		if checkErr != nil {
			return file, false, checkErr
		}
		_, err := os.Stat(file)
		if errors.Is(err, os.ErrNotExist) {
			return file, false, nil
		}
		return file, err == nil, err
	}
	adam := e.as("adam")
	for _, page := range []string{"/admin/users", "/admin/devices", "/account/tokens"} {
		w := adam.get(page)
		wantStatus(t, w, http.StatusOK)
		wantBody(t, w, `data-testid="initial-password"`, file, "rm -- &#39;"+file+"&#39;", "Löschen Sie")
	}
	for _, name := range []string{"wanda", "susi", "anna"} {
		e.enroll(name)
		c := e.as(name)
		w := c.get("/account/tokens")
		wantStatus(t, w, http.StatusOK)
		wantNotBody(t, w, `data-testid="initial-password"`, "initial-admin-password")
	}

	checkErr = errors.New("permission denied")
	w := adam.get("/admin/users")
	wantStatus(t, w, http.StatusOK)
	wantNotBody(t, w, `data-testid="initial-password"`)
	if !strings.Contains(e.log.String(), "initial password check") {
		t.Errorf("a failed check is not logged:\n%s", e.log.String())
	}
	checkErr = nil

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	w = adam.get("/admin/users")
	wantStatus(t, w, http.StatusOK)
	wantNotBody(t, w, `data-testid="initial-password"`, "initial-admin-password")
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/tresor/initial-admin-password": "/var/lib/tresor/initial-admin-password",
		"/srv/data dir/initial-admin-password":   "'/srv/data dir/initial-admin-password'",
		"/srv/it's/x":                            `'/srv/it'\''s/x'`,
		"/srv/$(reboot)/x":                       "'/srv/$(reboot)/x'",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}
