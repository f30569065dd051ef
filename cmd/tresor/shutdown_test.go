package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
	"github.com/tresor-evidence/tresor/policies"
)

// runMainEnv makes the test binary run main() itself — the process with
// its signal handling — so that the tests below can send it SIGTERM.
const runMainEnv = "TRESOR_TEST_RUN_MAIN"

// served is a `tresor serve` process started by a test.
type served struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	// msgs receives the "msg" of every log record on stderr, in order.
	msgs chan string
	// exited is closed once the process ended; code is its exit status.
	exited chan struct{}
	code   int
	mu     sync.Mutex
	stderr []string
}

// startServe runs `tresor serve` in a process of its own with env added
// and returns once it listens.
func startServe(t *testing.T, env ...string) *served {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve")
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TRESOR_LISTEN=127.0.0.1:0", "TRESOR_LOG_FORMAT=json")
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &served{t: t, cmd: cmd, msgs: make(chan string, 10000), exited: make(chan struct{})}
	listening := make(chan string, 1)
	var pipes sync.WaitGroup
	pipes.Add(2)
	go func() {
		defer pipes.Done()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), " listening on http://"); ok {
				listening <- addr
			}
		}
	}()
	go func() {
		defer pipes.Done()
		defer close(p.msgs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr = append(p.stderr, line)
			p.mu.Unlock()
			var rec struct{ Msg string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg != "" {
				p.msgs <- rec.Msg
			}
		}
	}()
	go func() {
		pipes.Wait() // Wait closes the pipes: read them to the end first
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			p.code = exit.ExitCode()
		case err != nil:
			p.code = -1
		}
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
	})
	select {
	case p.addr = <-listening:
	case <-p.exited:
		t.Fatalf("serve exited with %d before listening:\n%s", p.code, p.log())
	}
	return p
}

func (p *served) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stderr, "\n")
}

// waitLog returns once the process logged msg; it fails if the process
// ends first.
func (p *served) waitLog(msg string) {
	p.t.Helper()
	for m := range p.msgs {
		if m == msg {
			return
		}
	}
	<-p.exited
	p.t.Fatalf("process ended (%d) without logging %q:\n%s", p.code, msg, p.log())
}

func (p *served) sigterm() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
}

// wait returns the exit status.
func (p *served) wait() int {
	<-p.exited
	return p.code
}

// openServed opens the database a served process prepared.
func openServed(t *testing.T, dbURL string) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.Open(context.Background(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func addUser(t *testing.T, s *sqlstore.Store, name string, role incident.Role, email string) incident.User {
	t.Helper()
	pol, err := policies.Load("")
	if err != nil {
		t.Fatal(err)
	}
	u, err := incident.NewService(s, pol, nil, nil).AddUser(context.Background(), incident.System,
		incident.NewUser{Username: name, Role: role, Password: "korrekt Pferd Batterie Heftklammer", Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A job running when the service gets SIGTERM is handed back: right
// after the process ended it can be claimed again — not five minutes
// later when its lease would have run out — and the interrupted run is
// not counted as an attempt. The job is a notification whose mail server
// accepts the connection and never answers, so it is surely running.
func TestShutdownHandsBackJob(t *testing.T) {
	for _, d := range sqltest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			smtp, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer smtp.Close()
			mailing := make(chan net.Conn, 4)
			go func() {
				for {
					c, err := smtp.Accept()
					if err != nil {
						return
					}
					mailing <- c // held open, never greeted
				}
			}()
			dbURL := sqltest.URL(t, d)
			p := startServe(t, "TRESOR_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "TRESOR_DATABASE_URL="+dbURL,
				"TRESOR_SMTP_URL=smtp://"+smtp.Addr().String(), "TRESOR_SMTP_FROM=tresor@example.org", "TRESOR_PUBLIC_URL=https://tresor.example.org")
			s := openServed(t, dbURL)
			u := addUser(t, s, "sven", incident.RoleSupervisor, "sven@example.org")
			ctx := context.Background()
			now := time.Now()
			if err := s.Tx(ctx, func(tx incident.Tx) error {
				return tx.Enqueue(ctx, incident.Job{Kind: incident.JobNotify, RecipientID: u.ID, Notice: incident.NoticeAccountLocked,
					Key: "notify:shutdown-test", RunAt: now, CreatedAt: now})
			}); err != nil {
				t.Fatal(err)
			}
			p.waitLog("job claimed")
			conn := <-mailing // the job is at the mail server now
			defer conn.Close()
			p.sigterm()
			p.waitLog("job interrupted and handed back")
			if code := p.wait(); code != 0 {
				t.Fatalf("exit status %d after SIGTERM:\n%s", code, p.log())
			}
			j, err := s.ClaimJob(ctx, time.Now(), time.Minute)
			if err != nil {
				t.Fatalf("the interrupted job cannot be claimed after the shutdown: %v\n%s", err, p.log())
			}
			if j.Key != "notify:shutdown-test" || j.Attempts != 1 {
				t.Fatalf("claimed %s at attempt %d, want the interrupted job at attempt 1", j.Key, j.Attempts)
			}
		})
	}
}

// uploadInFlight signs a worker in (a session in the database), starts
// an upload with "Expect: 100-continue" and returns once the server's
// handler began to read the body, with the rest of the body to send.
func uploadInFlight(t *testing.T, p *served, s *sqlstore.Store) (conn net.Conn, br *bufio.Reader, rest []byte) {
	t.Helper()
	u := addUser(t, s, "wanda", incident.RoleWorker, "")
	tok, csrf := "session-token-of-wanda-0123456789abcdef", "csrf-token-of-wanda-0123456789abcdef"
	sum := sha256.Sum256([]byte(tok))
	now := time.Now().UTC()
	if err := s.Accounts().CreateSession(context.Background(), account.Session{TokenHash: hex.EncodeToString(sum[:]), UserID: u.ID,
		Stage: account.StageActive, CSRF: csrf, CreatedAt: now, LastSeenAt: now}); err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"csrf", csrf}, {"category", "threat"}, {"description", "Drohung per Instagram"}, {"platform", "android"}} {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	fw, err := mw.CreateFormFile("file", "bedrohung.png")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte("evidence"), 4096)...)); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	conn, err = net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	fmt.Fprintf(conn, "POST /incidents/upload HTTP/1.1\r\nHost: %s\r\nCookie: tresor=%s\r\nContent-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		p.addr, tok, mw.FormDataContentType(), body.Len())
	br = bufio.NewReader(conn)
	status, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100 ") {
		t.Fatalf("upload: %q %v, want 100 Continue (the handler reading the body)", status, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q %v", blank, err)
	}
	return conn, br, body.Bytes()
}

// An upload in flight when the service gets SIGTERM finishes — its
// client gets the answer of a completed upload — and then the process
// exits 0.
func TestShutdownWaitsForUpload(t *testing.T) {
	dbURL := sqltest.URL(t, sqlstore.SQLite)
	p := startServe(t, "TRESOR_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "TRESOR_DATABASE_URL="+dbURL)
	s := openServed(t, dbURL)
	conn, br, rest := uploadInFlight(t, p, s)
	p.sigterm()
	p.waitLog("shutting down: waiting for requests in flight")
	if _, err := conn.Write(rest); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("upload cut off by the shutdown: %v\n%s", err, p.log())
	}
	_ = resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "done=uploaded") {
		t.Fatalf("upload answered %d %q, want 303 to the uploaded incident\n%s", resp.StatusCode, loc, p.log())
	}
	p.waitLog("shutdown: every request in flight finished")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0:\n%s", code, p.log())
	}
	incs, err := incidentsOf(s)
	if err != nil || len(incs) != 1 || incs[0].State != incident.StateAwaitingApproval {
		t.Fatalf("after the shutdown: %+v %v, want the uploaded incident awaiting approval", incs, err)
	}
}

func incidentsOf(s *sqlstore.Store) (incs []incident.Incident, err error) {
	ctx := context.Background()
	err = s.View(ctx, func(tx incident.Tx) error { incs, err = tx.Incidents(ctx, incident.IncidentFilter{}); return err })
	return incs, err
}

// An upload that does not finish within TRESOR_SHUTDOWN_GRACE is cut off:
// the process says so in its log and exits non-zero, and nothing of the
// upload was kept.
func TestShutdownGraceRunsOut(t *testing.T) {
	dbURL := sqltest.URL(t, sqlstore.SQLite)
	p := startServe(t, "TRESOR_DATA_DIR="+filepath.Join(t.TempDir(), "data"), "TRESOR_DATABASE_URL="+dbURL, "TRESOR_SHUTDOWN_GRACE=1s")
	s := openServed(t, dbURL)
	_, br, _ := uploadInFlight(t, p, s)
	p.sigterm()
	p.waitLog("shutdown grace ran out: closing connections of requests still running")
	if code := p.wait(); code == 0 {
		t.Fatalf("exit status 0 although an upload was cut off:\n%s", p.log())
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("the cut-off upload's connection: %v, want it closed", err)
	}
	if incs, err := incidentsOf(s); err != nil || len(incs) != 0 {
		t.Fatalf("after the cut-off upload: %+v %v, want no incident", incs, err)
	}
}

func TestShutdownGraceConfig(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 60 * time.Second, true},
		{"90s", 90 * time.Second, true},
		{"5m", 5 * time.Minute, true},
		{" 120 ", 120 * time.Second, true},
		{"1h", time.Hour, true},
		{"0", 0, false},
		{"500ms", 0, false},
		{"-5s", 0, false},
		{"2h", 0, false},
		{"lang", 0, false},
		{"60 s", 0, false},
	} {
		cfg, err := loadConfig(func(k string) string {
			if k == "TRESOR_SHUTDOWN_GRACE" {
				return tc.in
			}
			return ""
		})
		switch {
		case tc.ok && (err != nil || cfg.ShutdownGrace != tc.want):
			t.Errorf("%q: %v %v, want %v", tc.in, cfg.ShutdownGrace, err, tc.want)
		case !tc.ok && err == nil:
			t.Errorf("%q: accepted as %v", tc.in, cfg.ShutdownGrace)
		case !tc.ok && !strings.Contains(err.Error(), "TRESOR_SHUTDOWN_GRACE") || !tc.ok && !strings.Contains(err.Error(), tc.in):
			t.Errorf("%q: error does not name the variable and value: %v", tc.in, err)
		}
	}
	if _, err := loadConfig(func(k string) string {
		if k == "TRESOR_LOG_FORMAT" {
			return "xml"
		}
		return ""
	}); err == nil || !strings.Contains(err.Error(), "TRESOR_LOG_FORMAT") {
		t.Errorf("TRESOR_LOG_FORMAT=xml: %v", err)
	}
}
