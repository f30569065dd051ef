package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/vault/s3backend/versitytest"
)

// s3Env is a data folder whose vault is a bucket on a running versitygw
// with Object Lock, configured the way an operator does it.
type s3Env struct {
	t      *testing.T
	server versitytest.Server
	env    map[string]string
	dir    string
}

func newS3Env(t *testing.T) *s3Env {
	srv := versitytest.Start(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "s3-secret")
	if err := os.WriteFile(secret, []byte(srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &s3Env{t: t, server: srv, dir: dir, env: map[string]string{
		"TRESOR_DATA_DIR": filepath.Join(dir, "data"),
		"TRESOR_VAULT_URL": "s3://" + srv.Bucket + "/tresor?endpoint=http://" + srv.Endpoint + "&region=" + srv.Region +
			"&path_style=true&object_lock=governance",
		"TRESOR_S3_ACCESS_KEY_ID":          srv.AccessKey,
		"TRESOR_S3_SECRET_ACCESS_KEY_FILE": secret,
		"TRESOR_LISTEN":                    "127.0.0.1:0",
		"TRESOR_VAULT_IDENTITY_OUT":        filepath.Join(dir, "identity.txt"),
	}}
}

// cli returns a cli with the environment and stdin.
func (e *s3Env) cli(stdin string, stdout, stderr io.Writer) *cli {
	return &cli{stdin: strings.NewReader(stdin), stdout: stdout, stderr: stderr, now: time.Now,
		getenv: func(k string) string { return e.env[k] }}
}

// run runs one command and fails the test unless it succeeds.
func (e *s3Env) run(stdin string, args ...string) string {
	e.t.Helper()
	var out, errs bytes.Buffer
	if code := e.cli(stdin, &out, &errs).dispatch(context.Background(), args); code != 0 {
		e.t.Fatalf("tresor %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errs.String())
	}
	return out.String()
}

// serve starts `tresor serve` until the test ends and returns its address.
func (e *s3Env) serve() string {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var errs bytes.Buffer
	done := make(chan int, 1)
	go func() {
		code := e.cli("", pw, &errs).dispatch(ctx, []string{"serve"})
		_ = pw.CloseWithError(fmt.Errorf("serve exited %d", code))
		done <- code
	}()
	e.t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			e.t.Errorf("serve exited %d: %s", code, errs.String())
		}
	})
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "tresor "); ok && strings.Contains(a, " listening on ") {
				addr <- a[strings.Index(a, " listening on ")+len(" listening on "):]
			}
		}
		close(addr)
	}()
	a, ok := <-addr
	if !ok {
		e.t.Fatalf("serve did not start: %s", errs.String())
	}
	return a
}

var csrfValue = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn signs a worker in at base and returns the client and a CSRF token.
func signIn(t *testing.T, base, user, password string) (*http.Client, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := func(path string) string {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		if cerr := resp.Body.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
		m := csrfValue.FindSubmatch(body)
		if m == nil {
			t.Fatalf("GET %s: %d, no CSRF token in\n%s", path, resp.StatusCode, body)
		}
		return string(m[1])
	}
	resp, err := c.PostForm(base+"/login", url.Values{"csrf": {token("/login")}, "username": {user}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	return c, token("/incidents/new/details")
}

// TestServeS3Vault runs serve with TRESOR_VAULT_URL=s3://… against a real
// S3 server with Object Lock: a worker uploads a file, two supervisors
// approve, and the bundle lies in the bucket under a GOVERNANCE retention
// that ends with its category's retention in the policy (threat: 180
// days), no later than the incident's destruction date. The vault
// commands reach the same bucket: verify without ids checks it.
func TestServeS3Vault(t *testing.T) {
	e := newS3Env(t)
	e.run("admin password 1\n", "init")
	e.run("worker password 1\n", "user", "add", "--role", "worker", "wanda")
	e.run("supervisor pass 1\n", "user", "add", "--role", "supervisor", "sven")
	e.run("supervisor pass 2\n", "user", "add", "--role", "supervisor", "sabine")
	base := e.serve() // "http://127.0.0.1:PORT"

	client, csrf := signIn(t, base, "wanda", "worker password 1")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"csrf", csrf}, {"category", "threat"}, {"platform", "android"}, {"description", "Drohung per Instagram"}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "Beweis.jpg")
	if err != nil {
		t.Fatal(err)
	}
	jpeg := append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte("evidence"), 1000)...)
	if _, err := fw.Write(jpeg); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, base+"/incidents/upload", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	loc := resp.Header.Get("Location")
	incID, ok := strings.CutPrefix(strings.TrimSuffix(loc, "?done=uploaded"), "/incidents/")
	if resp.StatusCode != http.StatusSeeOther || !ok {
		t.Fatalf("upload: %d, Location %q", resp.StatusCode, loc)
	}

	// The supervisors approve (the web's step-up with a TOTP code is the
	// web's; the decision itself is the domain's, on serve's database).
	ctx := context.Background()
	var inc incident.Incident
	err = e.cli("", io.Discard, io.Discard).withService(ctx, func(svc *incident.Service, s *sqlstore.Store, cfg config) error {
		key, err := readSecretKey(cfg.SecretKeyFile)
		if err != nil {
			return err
		}
		stepUp, auth := testFactors(t, s, key)
		svc = incident.NewService(s, svc.Policy(), nil, nil, stepUp)
		users, err := svc.Users(ctx, incident.Actor{ID: "t", Role: incident.RoleAdmin})
		if err != nil {
			return err
		}
		for _, u := range users {
			if u.Role != incident.RoleSupervisor {
				continue
			}
			reqs, err := svc.Requests(ctx, incident.Actor{ID: u.ID, Role: u.Role}, incident.RequestFilter{IncidentID: incID, State: incident.RequestPending})
			if err != nil {
				return err
			}
			if len(reqs) == 0 {
				break
			}
			auth.Enroll(t, u.ID)
			if _, err := svc.Decide(ctx, incident.Actor{ID: u.ID, Role: u.Role}, reqs[0].ID, true, "Drohung sichern", auth.Code(t, u.ID)); err != nil {
				return err
			}
		}
		// serve's job worker secures the staged bundle.
		deadline := time.Now().Add(time.Minute)
		for {
			if inc, err = svc.Incident(ctx, incident.System, incID); err != nil {
				return err
			}
			if inc.Evidence == incident.EvidenceSecured || time.Now().After(deadline) {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Evidence != incident.EvidenceSecured || inc.Receipt == nil || inc.RetentionUntil == nil {
		t.Fatalf("incident not secured: evidence %q, receipt %+v", inc.Evidence, inc.Receipt)
	}

	// The bundle is in the bucket, retained for its category.
	id := inc.Receipt.BundleID
	key := "tresor/" + id[:2] + "/" + id + ".age"
	mc := e.server.Client(t)
	info, err := mc.StatObject(ctx, e.server.Bucket, key, minio.StatObjectOptions{})
	if err != nil || info.Size != inc.Receipt.CiphertextSize {
		t.Fatalf("bundle %s in the bucket: %+v, %v (receipt %d bytes)", key, info.Size, err, inc.Receipt.CiphertextSize)
	}
	// The retention as the server reports it with the object (versitygw
	// answers GetObjectRetention in a form minio-go does not read).
	mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
	until, err := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
	if mode != string(minio.Governance) || err != nil {
		t.Fatalf("retention of %s: mode %q, until %v (%v)", key, mode, info.Metadata, err)
	}
	due := *inc.RetentionUntil
	if until.After(due) || until.Before(due.Add(-time.Minute)) || due.Sub(inc.Receipt.SealedAt) != 180*24*time.Hour {
		t.Fatalf("retained until %s, destruction due %s (sealed %s): want the category's 180 days, ending by the due date", until, due, inc.Receipt.SealedAt)
	}

	// The vault commands reach the same bucket; verify without ids
	// checks every bundle, against the database's receipt.
	out := e.run("", "vault", "list")
	if strings.TrimSpace(out) != id {
		t.Fatalf("vault list = %q, want %s", out, id)
	}
	out = e.run("", "vault", "verify")
	if !strings.Contains(out, id) || !strings.Contains(out, "matches the database's receipt (incident "+incID+")") {
		t.Fatalf("vault verify:\n%s", out)
	}
	exp := filepath.Join(e.dir, "export")
	out = e.run("", "vault", "export", "-o", exp, "--incident", incID)
	if !strings.Contains(out, "exported") {
		t.Fatalf("vault export:\n%s", out)
	}
}
