// Package mailpit starts a real SMTP server for tests: the mailpit binary
// (github.com/axllent/mailpit), on loopback ports, with its mails read back
// through mailpit's HTTP API. A test that needs it is skipped when the
// binary is not installed, unless TRESOR_REQUIRE_MAILPIT=1 (CI) makes
// that a failure.
//
// Install: go install github.com/axllent/mailpit@v1.27.11
package mailpit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Server is one running mailpit.
type Server struct {
	// SMTPAddr is host:port of its SMTP listener; APIURL the base of its
	// HTTP API.
	SMTPAddr string
	APIURL   string
}

// binary finds mailpit on PATH or in the Go install directory.
func binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	for _, dir := range []string{os.Getenv("GOBIN"), filepath.Join(os.Getenv("GOPATH"), "bin"), filepath.Join(os.Getenv("HOME"), "go", "bin")} {
		if dir == "" {
			continue
		}
		if p := filepath.Join(dir, "mailpit"); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Start runs mailpit for the test's lifetime. extra are further mailpit
// flags (e.g. --smtp-tls-cert). It returns once both listeners accept.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin := binary()
	if bin == "" {
		msg := "mailpit is not installed (go install github.com/axllent/mailpit@v1.27.11): SMTP tests skipped"
		if os.Getenv("TRESOR_REQUIRE_MAILPIT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	s := &Server{SMTPAddr: freePort(t)}
	httpAddr := freePort(t)
	s.APIURL = "http://" + httpAddr
	ctx, cancel := context.WithCancel(context.Background())
	args := append([]string{"--smtp", s.SMTPAddr, "--listen", httpAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check"}, extra...)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("failed to start mailpit: %v", err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	// Wait for mailpit to say that both servers start; the log is the event.
	lines := bufio.NewScanner(out)
	var smtpUp, httpUp bool
	var seen []string
	for !(smtpUp && httpUp) && lines.Scan() {
		l := lines.Text()
		seen = append(seen, l)
		smtpUp = smtpUp || strings.Contains(l, "[smtpd] starting on")
		httpUp = httpUp || strings.Contains(l, "[http] accessible via")
	}
	if !(smtpUp && httpUp) {
		t.Fatalf("mailpit did not start:\n%s", strings.Join(seen, "\n"))
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	// "starting" is logged just before listening: connect until it accepts.
	for _, addr := range []string{s.SMTPAddr, httpAddr} {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("mailpit does not accept on %s: %v", addr, err)
			}
			time.Sleep(10 * time.Millisecond) // a retry pace, not a wait for an outcome
		}
	}
	return s
}

// Message is a received mail as mailpit's API reports it.
type Message struct {
	ID      string
	Subject string
	To      []string
	From    string
	Text    string // the decoded plain-text body
	HTML    string
	Raw     string // the message as received, headers included
}

// Messages returns every received mail, newest first, with bodies.
func (s *Server) Messages(t testing.TB) []Message {
	t.Helper()
	var list struct {
		Messages []struct {
			ID      string
			Subject string
			From    struct{ Address string }
			To      []struct{ Address string }
		} `json:"messages"`
	}
	s.getJSON(t, "/api/v1/messages?limit=500", &list)
	out := make([]Message, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full struct{ Text, HTML string }
		s.getJSON(t, "/api/v1/message/"+m.ID, &full)
		msg := Message{ID: m.ID, Subject: m.Subject, From: m.From.Address, Text: full.Text, HTML: full.HTML, Raw: s.get(t, "/api/v1/message/"+m.ID+"/raw")}
		for _, to := range m.To {
			msg.To = append(msg.To, to.Address)
		}
		out = append(out, msg)
	}
	return out
}

func (s *Server) get(t testing.TB, path string) string {
	t.Helper()
	resp, err := http.Get(s.APIURL + path)
	if err != nil {
		t.Fatalf("mailpit API: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit API %s: %s %v", path, resp.Status, err)
	}
	return string(b)
}

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s.get(t, path)), v); err != nil {
		t.Fatalf("mailpit API %s: %v", path, err)
	}
}

// String names the server in test logs.
func (s *Server) String() string { return fmt.Sprintf("mailpit smtp=%s api=%s", s.SMTPAddr, s.APIURL) }
