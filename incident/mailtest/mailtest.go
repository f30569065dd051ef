// Package mailtest holds the in-memory [incident.Mailer] for unit tests
// and the conformance suite every Mailer implementation passes.
package mailtest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// Memory keeps sent mails in memory. Fail makes the next sends fail, to
// test retries. It is safe for concurrent use.
type Memory struct {
	mu   sync.Mutex
	sent []incident.Mail
	fail int
}

// ErrRefused is what Memory returns while told to fail.
var ErrRefused = errors.New("mailtest: refused")

// Send records m, or fails while Fail is in effect. It refuses what a
// real server would: a recipient or subject with a line break.
func (m *Memory) Send(ctx context.Context, mail incident.Mail) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := mail.Check(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return ErrRefused
	}
	m.sent = append(m.sent, mail)
	return nil
}

// Fail makes the next n sends fail.
func (m *Memory) Fail(n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = n
}

// Sent returns the mails sent so far, oldest first.
func (m *Memory) Sent() []incident.Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]incident.Mail(nil), m.sent...)
}

// Received is a mail as the receiving side saw it.
type Received struct {
	To      []string
	Subject string
	Text    string
}

// Run checks a Mailer: what it sends arrives unchanged, and a header
// value with a line break is refused without sending anything. received
// returns every mail delivered so far by mailer, in any order.
func Run(t *testing.T, mailer incident.Mailer, received func(t *testing.T) []Received) {
	ctx := context.Background()
	mail := incident.Mail{To: "leitung@example.org", Subject: "Tresor: Eine Anfrage wartet auf Ihre Entscheidung",
		Text: "Guten Tag,\n\nÄnderungen für Sie:\n\nhttps://tresor.example.org/approvals\n\n.\n.leading dot\n-- \nend\n"}
	if err := mailer.Send(ctx, mail); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for _, bad := range []incident.Mail{
		{To: "a@example.org\r\nBcc: b@example.org", Subject: "x", Text: "x"},
		{To: "a@example.org", Subject: "x\r\nBcc: b@example.org", Text: "x"},
		{To: "", Subject: "x", Text: "x"},
	} {
		if err := mailer.Send(ctx, bad); err == nil {
			t.Errorf("Send(%q, %q) = nil, want a refusal", bad.To, bad.Subject)
		}
	}
	got := received(t)
	if len(got) != 1 {
		t.Fatalf("received %d mails, want exactly 1: %+v", len(got), got)
	}
	r := got[0]
	if len(r.To) != 1 || r.To[0] != mail.To {
		t.Errorf("To = %q, want [%q]", r.To, mail.To)
	}
	if r.Subject != mail.Subject {
		t.Errorf("Subject = %q, want %q", r.Subject, mail.Subject)
	}
	if strings.TrimRight(strings.ReplaceAll(r.Text, "\r\n", "\n"), "\n") != strings.TrimRight(mail.Text, "\n") {
		t.Errorf("Text = %q, want %q", r.Text, mail.Text)
	}
}
