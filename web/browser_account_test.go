package web

import (
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserSecondFactorQRAndReminder: the second-factor set-up shows its
// QR code in the browser (the page's CSP lets the data: image load) with
// the key for typing; the admins' start page shows the reminder to delete
// the first admin's password file with its full path until the file is
// gone. Both fit a 390 px phone and pass axe-core.
func TestBrowserSecondFactorQRAndReminder(t *testing.T) {
	exe, shots := browserTest(t)
	axe := axeScript(t)
	for _, vp := range pageViewports {
		t.Run(vp.name, func(t *testing.T) {
			e := newEnv(t)
			e.enroll("adam")
			file := filepath.Join(t.TempDir(), "tresor-data", "initial-admin-password")
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte("pw\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			e.srv.initialPassword = func() (string, bool, error) {
				_, err := os.Stat(file)
				if errors.Is(err, os.ErrNotExist) {
					return file, false, nil
				}
				return file, err == nil, err
			}
			ts := httptest.NewServer(e.h)
			t.Cleanup(ts.Close)
			pe := &pagesEnv{env: e, base: ts.URL}
			b := newBrowser(t, exe)
			n := 0

			susi := pe.tab(t, b, vp, shots, "susi", &n)
			susi.visit("/account/second-factor")
			susi.see("Zweiter Faktor", "Scannen Sie den Code mit Ihrer Authenticator-App", "Schlüssel eingeben")
			if w := run(susi, chromedp.Evaluate[int](`(() => { const i = document.querySelector("img.qr"); return i && i.complete ? i.naturalWidth : -1 })()`)); w != qrPixels {
				t.Fatalf("the QR code did not load (natural width %d): the CSP or the image is wrong", w)
			}
			susi.checkWidth()
			susi.checkAxe(axe)
			susi.shot("second-factor-qr")

			adam := pe.tab(t, b, vp, shots, "adam", &n)
			adam.visit("/admin/users")
			adam.see("", "Löschen Sie die Datei mit dem ersten Admin-Passwort", file, "rm -- ")
			adam.checkWidth()
			adam.checkHeader()
			adam.checkAxe(axe)
			adam.shot("initial-password-reminder")
			if err := os.Remove(file); err != nil {
				t.Fatal(err)
			}
			adam.visit("/admin/users")
			if strings.Contains(adam.mainText(), "ersten Admin-Passwort") {
				t.Fatal("the reminder stays after the file is gone")
			}
		})
	}
}
