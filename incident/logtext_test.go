package incident_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/smtpmail"
)

// logMarker is caller-supplied text that must never reach a log line or a
// job row. It is letters and digits, so that it passes every identifier
// check at the boundary and only the logging can keep it out.
const logMarker = "hostile7f3amarker"

// rejectingSMTP is an SMTP server that refuses every recipient the way
// Postfix does, repeating the address back in its reply. It returns its
// address.
func rejectingSMTP(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				tp := textproto.NewConn(conn)
				reply := func(s string) { _ = tp.PrintfLine("%s", s) }
				reply("220 mx.example.org ESMTP")
				r := bufio.NewScanner(conn)
				for r.Scan() {
					line := r.Text()
					verb := strings.ToUpper(strings.SplitN(line, " ", 2)[0])
					switch {
					case verb == "EHLO" || verb == "HELO":
						reply("250 mx.example.org")
					case verb == "MAIL":
						reply("250 2.1.0 Ok")
					case verb == "RCPT":
						addr := strings.TrimPrefix(strings.TrimPrefix(line, "RCPT TO:"), "rcpt to:")
						reply("550 5.1.1 " + addr + ": Recipient address rejected: User unknown in virtual mailbox table")
					case verb == "QUIT":
						reply("221 2.0.0 Bye")
						return
					default:
						reply("502 5.5.2 Error: command not recognized")
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestJobErrorsCarryNoCallerText: a notification the SMTP server refuses,
// repeating the recipient's address, leaves neither that address in the
// job's last error nor in the job worker's log line — only the error's
// class (stage and reply code), the job's id and key.
func TestJobErrorsCarryNoCallerText(t *testing.T) {
	eachDB(t, func(t *testing.T, w *world) {
		m, err := smtpmail.New("smtp://"+rejectingSMTP(t), "Tresor <tresor@example.org>", smtpmail.Options{Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 16)
		w.svc = incident.NewService(w.store, w.pol, w.vault, w.msgr, incident.WithClock(w.clock.Now),
			incident.WithPasswordParams(cheap), incident.WithMailer(m, publicURL+"/"),
			incident.WithLogger(slog.New(&lineHandler{min: slog.LevelWarn, out: func(l string) { lines <- l }})))
		for _, name := range []string{"susi", "sven"} {
			if _, err := w.svc.SetUserEmail(w.ctx, incident.System, name, name+"."+logMarker+"@example.org"); err != nil {
				t.Fatal(err)
			}
		}
		inc := w.flag("MSG"+strings.ToUpper(logMarker), "threat")

		// The worker's log, as `tresor serve` wires it; both supervisors'
		// notifications fail, then the worker is stopped.
		ctx, cancel := context.WithCancel(w.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			w.svc.Work(ctx, 0)
		}()
		var logged []string
		for len(logged) < 2 {
			logged = append(logged, <-lines)
		}
		cancel()
		<-done
		for _, l := range logged {
			if strings.Contains(strings.ToLower(l), logMarker) {
				t.Errorf("log line carries the recipient's address: %s", l)
			}
			if !strings.Contains(l, "smtp_rcpt_550") || !strings.Contains(l, "job_id=") {
				t.Errorf("log line does not say which job failed how: %s", l)
			}
		}

		var jobs []incident.Job
		if err := w.store.View(w.ctx, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(w.ctx, inc.ID); return }); err != nil {
			t.Fatal(err)
		}
		failed := 0
		for _, j := range jobs {
			if strings.Contains(strings.ToLower(j.LastError), logMarker) {
				t.Errorf("job %d keeps the recipient's address: %s", j.ID, j.LastError)
			}
			if j.Kind == incident.JobNotify && j.LastError != "" {
				failed++
				if !strings.Contains(j.LastError, "smtp_rcpt_550") {
					t.Errorf("job %d: last error %q, want its class", j.ID, j.LastError)
				}
			}
		}
		if failed != 2 {
			t.Fatalf("%d failed notification jobs, want 2: %+v", failed, jobs)
		}
	})
}

// TestErrorClass: the class names sentinels, adapter classes, timeouts
// and types, and never the error's text.
func TestErrorClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{fmt.Errorf("user %q: %w", logMarker, incident.ErrNotFound), []string{"not_found", "#"}},
		{fmt.Errorf("failed to send %s: %w", logMarker, context.DeadlineExceeded), []string{"deadline_exceeded", "timeout"}},
		{errors.Join(incident.ErrUnavailable, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New(logMarker)}), []string{"unavailable", "types=*net.OpError"}},
		{classed{logMarker}, []string{"smtp_rcpt_550_x_level=ERROR_msg=forged ", "types=incident_test.classed"}},
		{errors.New(logMarker), []string{"#"}},
	} {
		got := incident.ErrorClass(tc.err)
		if strings.Contains(strings.ToLower(got), logMarker) {
			t.Errorf("ErrorClass(%v) = %q carries the text", tc.err, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("ErrorClass(%v) = %q, want %q in it", tc.err, got, w)
			}
		}
	}
	if a, b := incident.ErrorClass(errors.New("a")), incident.ErrorClass(errors.New("b")); a == b {
		t.Errorf("different errors, same class %q", a)
	}
}

// classed reports a class that tries to forge a second log line; its
// text is the marker.
type classed struct{ text string }

func (c classed) Error() string      { return c.text }
func (c classed) ErrorClass() string { return "smtp_rcpt_550 x\nlevel=ERROR msg=forged" }
