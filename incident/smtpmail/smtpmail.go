// Package smtpmail sends Tresor's notification mails over SMTP; it
// implements [incident.Mailer] and passes the suite in incident/mailtest.
//
// # Guarantees
//
//   - Nothing is sent in clear text to another machine: smtp:// upgrades
//     the connection with STARTTLS and refuses a server that does not
//     offer it ([ErrNoStartTLS]), unless the server is on loopback (a
//     relay on the same host); smtps:// speaks TLS from the first byte.
//     Certificates are verified for the URL's host name.
//   - The password is sent (AUTH PLAIN) only over TLS or to loopback,
//     and never appears in an error.
//   - Header values are checked before anything is sent: a recipient or
//     subject with a line break is refused, so no header can be injected.
//     The subject is RFC 2047 encoded and the body quoted-printable UTF-8.
package smtpmail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// ErrNoStartTLS: the server does not offer STARTTLS and is not on loopback.
var ErrNoStartTLS = errors.New("the SMTP server does not offer STARTTLS; use a server that does, or smtps://")

// ErrConfig: the SMTP URL or sender address is not usable.
var ErrConfig = errors.New("invalid SMTP configuration")

// Options adjust a Mailer; the zero value is right for production.
type Options struct {
	// RootCAs verifies the server's certificate (default: the system's).
	RootCAs *x509.CertPool
	// Now stamps the Date header (default time.Now).
	Now func() time.Time
	// Dial opens the TCP connection (default net.Dialer), e.g. for a test
	// that reaches a local server under another host name.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds one Send when ctx has no deadline (default 30 s).
	Timeout time.Duration
}

// Mailer sends each mail on its own connection: notifications are rare.
type Mailer struct {
	implicitTLS bool
	host, addr  string
	user, pass  string
	from        *mail.Address
	o           Options
}

// New parses an SMTP URL, smtp://user:password@host:587 (STARTTLS) or
// smtps://user:password@host:465 (implicit TLS), and the sender address
// (e.g. "Tresor <tresor@example.org>"). The user part is optional.
func New(rawURL, from string, o Options) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url's error repeats the URL, password included.
		return nil, fmt.Errorf("%w: the SMTP URL is not a URL of the form smtp://user:password@host:587", ErrConfig)
	}
	m := &Mailer{o: o}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.implicitTLS, port = true, "465"
	default:
		return nil, fmt.Errorf("%w: the SMTP URL must start with smtp:// or smtps://", ErrConfig)
	}
	if u.Hostname() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: the SMTP URL must be smtp://user:password@host:port, with nothing after the port", ErrConfig)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	m.host, m.addr = u.Hostname(), net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	if m.from, err = mail.ParseAddress(from); err != nil || strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("%w: the sender %q is not an address such as \"Tresor <tresor@example.org>\"", ErrConfig, from)
	}
	if m.o.Now == nil {
		m.o.Now = time.Now
	}
	if m.o.Dial == nil {
		var d net.Dialer
		m.o.Dial = d.DialContext
	}
	if m.o.Timeout <= 0 {
		m.o.Timeout = 30 * time.Second
	}
	return m, nil
}

// loopback reports whether the server's host names this machine.
func (m *Mailer) loopback() bool {
	if m.host == "localhost" {
		return true
	}
	ip := net.ParseIP(m.host)
	return ip != nil && ip.IsLoopback()
}

// Send delivers one mail: connect, (START)TLS, authenticate, send, quit.
func (m *Mailer) Send(ctx context.Context, msg incident.Mail) error {
	if err := msg.Check(); err != nil {
		return err
	}
	to, err := mail.ParseAddress(msg.To)
	if err != nil || to.Address != msg.To {
		return fmt.Errorf("%w: recipient is not a bare address", incident.ErrMailHeader)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.o.Timeout)
		defer cancel()
	}
	body, err := m.message(msg)
	if err != nil {
		return err
	}
	conn, err := m.o.Dial(ctx, "tcp", m.addr)
	if err != nil {
		return fmt.Errorf("failed to connect to the SMTP server %s: %w", m.addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // best effort; the AfterFunc below also ends a hung exchange
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	tlsConf := &tls.Config{ServerName: m.host, RootCAs: m.o.RootCAs, MinVersion: tls.VersionTLS12}
	if m.implicitTLS {
		tc := tls.Client(conn, tlsConf)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("failed TLS with the SMTP server %s: %w", m.addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return fmt.Errorf("failed to greet the SMTP server %s: %w", m.addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return &replyError{stage: "ehlo", err: err}
	}
	if !m.implicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConf); err != nil {
				return fmt.Errorf("failed STARTTLS with the SMTP server %s: %w", m.addr, err)
			}
		} else if !m.loopback() {
			return fmt.Errorf("%s: %w", m.addr, ErrNoStartTLS)
		}
	}
	if m.user != "" {
		// PlainAuth itself refuses a connection that is neither TLS nor
		// to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return fmt.Errorf("SMTP authentication as %q failed: %w", m.user, &replyError{stage: "auth", err: err})
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return &replyError{stage: "mail", err: err}
	}
	if err := c.Rcpt(to.Address); err != nil {
		return &replyError{stage: "rcpt", err: err}
	}
	w, err := c.Data()
	if err != nil {
		return &replyError{stage: "data", err: err}
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("failed to send the mail: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("the SMTP server did not accept the mail: %w", &replyError{stage: "data_end", err: err})
	}
	// The mail was accepted at the end of DATA: a failed goodbye loses
	// nothing, and reporting it would send the mail again.
	_ = c.Quit()
	return nil
}

// message renders the headers and the quoted-printable body.
func (m *Mailer) message(msg incident.Mail) ([]byte, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("failed to make a Message-ID: %w", err)
	}
	domain := m.from.Address[strings.LastIndexByte(m.from.Address, '@')+1:]
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", m.from.String())
	h("To", "<"+msg.To+">")
	h("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	h("Date", m.o.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(msg.Text)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
