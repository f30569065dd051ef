package web

import (
	"html"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/tresor-evidence/tresor/account"
)

var totpQRImage = regexp.MustCompile(`<img class="qr" src="(data:image/png;base64,[A-Za-z0-9+/=&#;]+)"`)

// TestSecondFactorSetupShowsQRCode: the set-up page shows the secret as a
// QR code drawn by the server — the otpauth address of exactly the key
// written out beside it for typing — and, only while it does, allows
// data: images in its CSP. A wrong code shows the same key and code again.
func TestSecondFactorSetupShowsQRCode(t *testing.T) {
	e := newEnv(t)
	c, _ := e.login("susi", "correct horse susi")
	w := c.get("/account/second-factor")
	wantStatus(t, w, http.StatusOK)
	key := wantSetupQR(t, w, "susi")
	for _, part := range []string{"Authenticator-App", "Scannen Sie den Code"} {
		if !strings.Contains(w.Body.String(), part) {
			t.Errorf("set-up page without %q", part)
		}
	}
	if strings.Contains(w.Body.String(), "<script") {
		t.Error("the set-up page needs a script")
	}

	sealed := regexp.MustCompile(`name="sealed" value="([^"]+)"`).FindStringSubmatch(w.Body.String())[1]
	w = c.post("/account/second-factor", "sealed", sealed, "code", "000000")
	wantStatus(t, w, http.StatusBadRequest)
	if again := wantSetupQR(t, w, "susi"); again != key {
		t.Fatalf("a wrong code showed another key: %q, then %q", key, again)
	}

	// Once enabled, no code is shown and the strict policy is back.
	code := account.TOTPCode(mustB32(t, key), account.TOTPStep(e.clock.Now()))
	w = c.post("/account/second-factor", "sealed", sealed, "code", code)
	wantStatus(t, w, http.StatusOK)
	wantNotBody(t, w, "data:image/png")
	if got := w.Header().Get("Content-Security-Policy"); got != csp {
		t.Fatalf("page without a QR code: CSP %q, want %q", got, csp)
	}
	w = c.get("/account/second-factor")
	wantNotBody(t, w, "data:image/png")
	if got := w.Header().Get("Content-Security-Policy"); got != csp {
		t.Fatalf("status page: CSP %q, want %q", got, csp)
	}
}

// wantSetupQR checks the set-up page's QR code and CSP and returns the
// key shown for typing.
func wantSetupQR(t *testing.T, w *httptest.ResponseRecorder, username string) string {
	t.Helper()
	if got := w.Header().Get("Content-Security-Policy"); got != cspDataImages {
		t.Fatalf("set-up page: CSP %q, want %q", got, cspDataImages)
	}
	m := keyPattern.FindStringSubmatch(w.Body.String())
	if m == nil {
		t.Fatal("no key on the set-up page")
	}
	grouped := m[1]
	for _, g := range strings.Fields(grouped) {
		if len(g) > 4 {
			t.Fatalf("key not grouped for typing: %q", grouped)
		}
	}
	q := totpQRImage.FindStringSubmatch(w.Body.String())
	if q == nil {
		t.Fatalf("no QR code on the set-up page:\n%s", w.Body.String())
	}
	got := html.UnescapeString(q[1])
	wantPNG(t, got)
	// The encoder is deterministic: drawing the otpauth address of the
	// typed key must give the very image on the page.
	want, err := qrDataURL(account.OTPAuthURI(mustB32(t, grouped), username))
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatal("the QR code does not hold the otpauth address of the key shown")
	}
	return grouped
}

func mustB32(t *testing.T, grouped string) []byte {
	t.Helper()
	key, err := account.B32.DecodeString(strings.ReplaceAll(grouped, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return key
}
