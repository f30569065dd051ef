package oidcrp

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/incident"
)

// An answer of exactly the limit is read whole; one byte more is an
// error, not a shortened answer.
func TestLimitedBody(t *testing.T) {
	for _, tc := range []struct {
		size int
		err  error
	}{{0, nil}, {maxProviderAnswer, nil}, {maxProviderAnswer + 1, errAnswerTooLarge}, {3 * maxProviderAnswer, errAnswerTooLarge}} {
		b := &limitedBody{ReadCloser: io.NopCloser(bytes.NewReader(make([]byte, tc.size))), left: maxProviderAnswer}
		got, err := io.ReadAll(b)
		if !errors.Is(err, tc.err) {
			t.Errorf("%d bytes: %v, want %v", tc.size, err, tc.err)
		}
		if tc.err == nil && len(got) != tc.size {
			t.Errorf("%d bytes: read %d", tc.size, len(got))
		}
	}
}

// A discovery document larger than the limit (go-oidc reads it whole) is
// refused as a provider Tresor cannot use, without reading all of it.
func TestDiscoveryTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for range 64 { // 4 MiB of white space before a document that never comes
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	rp, err := New(Config{Issuer: srv.URL, ClientID: "tresor", RedirectURL: "http://127.0.0.1/cb", Claim: "groups", Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	// go-oidc keeps only the text of the cause.
	if _, _, err := rp.Start(t.Context()); !errors.Is(err, incident.ErrUnavailable) || !strings.Contains(err.Error(), errAnswerTooLarge.Error()) {
		t.Fatalf("Start with a 4 MiB discovery document: %v, want it refused as too large", err)
	}
}
