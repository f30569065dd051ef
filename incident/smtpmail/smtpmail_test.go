package smtpmail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/mailtest"
	"github.com/tresor-evidence/tresor/internal/mailpit"
)

func received(mp *mailpit.Server) func(t *testing.T) []mailtest.Received {
	return func(t *testing.T) []mailtest.Received {
		var out []mailtest.Received
		for _, m := range mp.Messages(t) {
			out = append(out, mailtest.Received{To: m.To, Subject: m.Subject, Text: m.Text})
		}
		return out
	}
}

// TestConformanceLoopback sends to a real SMTP server on loopback, where
// a plain connection is allowed.
func TestConformanceLoopback(t *testing.T) {
	mp := mailpit.Start(t)
	m, err := New("smtp://"+mp.SMTPAddr, "Tresor <tresor@example.org>", Options{})
	if err != nil {
		t.Fatal(err)
	}
	mailtest.Run(t, m, received(mp))
	raw := mp.Messages(t)[0].Raw
	for _, h := range []string{"From: \"Tresor\" <tresor@example.org>", "Content-Type: text/plain; charset=utf-8", "Auto-Submitted: auto-generated"} {
		if !strings.Contains(raw, h) {
			t.Errorf("raw mail lacks %q:\n%s", h, raw)
		}
	}
}

// redirect dials addr whatever host the mailer asks for, so that a local
// server can stand in for one elsewhere.
func redirect(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

// TestRefusesPlainRemote: a server that is not on loopback and offers no
// STARTTLS gets nothing, not even the password.
func TestRefusesPlainRemote(t *testing.T) {
	mp := mailpit.Start(t, "--smtp-auth-accept-any", "--smtp-auth-allow-insecure")
	m, err := New("smtp://tresor:geheim@mail.example.org:587", "tresor@example.org", Options{Dial: redirect(mp.SMTPAddr)})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Send(context.Background(), incident.Mail{To: "leitung@example.org", Subject: "s", Text: "t"})
	if !errors.Is(err, ErrNoStartTLS) {
		t.Fatalf("Send = %v, want ErrNoStartTLS", err)
	}
	if strings.Contains(err.Error(), "geheim") {
		t.Errorf("error reveals the password: %v", err)
	}
	if got := mp.Messages(t); len(got) != 0 {
		t.Errorf("the server received %d mails over a plain connection", len(got))
	}
}

// certFor writes a self-signed certificate for host and returns its
// files and a pool that trusts it.
func certFor(t *testing.T, host string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLS sends to a remote-named server that requires STARTTLS (smtp://)
// or TLS from the start (smtps://), with a password, and checks that a
// certificate for another name is refused.
func TestTLS(t *testing.T) {
	const host = "mail.example.org"
	certFile, keyFile, pool := certFor(t, host)
	for _, tc := range []struct{ scheme, require string }{{"smtp", "--smtp-require-starttls"}, {"smtps", "--smtp-require-tls"}} {
		t.Run(tc.scheme, func(t *testing.T) {
			mp := mailpit.Start(t, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile, tc.require, "--smtp-auth-accept-any")
			m, err := New(tc.scheme+"://tresor:geheim@"+host+":2525", "tresor@example.org", Options{RootCAs: pool, Dial: redirect(mp.SMTPAddr)})
			if err != nil {
				t.Fatal(err)
			}
			mailtest.Run(t, m, received(mp))

			other, err := New(tc.scheme+"://tresor:geheim@other.example.org:2525", "tresor@example.org", Options{RootCAs: pool, Dial: redirect(mp.SMTPAddr)})
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Send(context.Background(), incident.Mail{To: "a@example.org", Subject: "s", Text: "t"}); err == nil {
				t.Error("a certificate for another host name was accepted")
			}
		})
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct{ url, from string }{
		{"http://mail.example.org", "tresor@example.org"},
		{"smtp://", "tresor@example.org"},
		{"smtp://mail.example.org/path", "tresor@example.org"},
		{"smtp://mail.example.org?x=1", "tresor@example.org"},
		{"smtp://u:geheim@mail.example.org:99999999999999999999x", "tresor@example.org"},
		{"smtp://mail.example.org", "not an address"},
		{"smtp://mail.example.org", "tresor@example.org\r\nBcc: x@example.org"},
		{"mail.example.org:587", "tresor@example.org"},
	} {
		_, err := New(tc.url, tc.from, Options{})
		if !errors.Is(err, ErrConfig) {
			t.Errorf("New(%q, %q) = %v, want ErrConfig", tc.url, tc.from, err)
		}
		if err != nil && strings.Contains(err.Error(), "geheim") {
			t.Errorf("New(%q) error reveals the password: %v", tc.url, err)
		}
	}
	m, err := New("smtps://u:p%40ss@mail.example.org", "Tresor <tresor@example.org>", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.addr != "mail.example.org:465" || m.pass != "p@ss" || !m.implicitTLS {
		t.Errorf("parsed %q %q %v", m.addr, m.pass, m.implicitTLS)
	}
}

func FuzzNew(f *testing.F) {
	f.Add("smtp://user:pw@mail.example.org:587", "Tresor <tresor@example.org>")
	f.Add("smtps://[::1]:465", "a@b.c")
	f.Fuzz(func(t *testing.T, raw, from string) {
		m, err := New(raw, from, Options{})
		if err != nil {
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("error without ErrConfig: %v", err)
			}
			return
		}
		if m.host == "" || strings.ContainsAny(m.from.String(), "\r\n") {
			t.Fatalf("accepted %q %q", raw, from)
		}
	})
}
