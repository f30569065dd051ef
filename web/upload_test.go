package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"filippo.io/age"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/password"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/evidencevault"
)

// vaultEnv is an env whose service seals into a real filesystem vault,
// with a small upload limit, and whose temporary files all live under
// root (TMPDIR included), so that a test can scan every file written.
type vaultEnv struct {
	*env
	root     string
	vaultDir string
	identity *age.X25519Identity
	vault    *vault.Vault
}

const testUploadMax = 1 << 20

func newVaultEnv(t *testing.T) *vaultEnv {
	root := t.TempDir()
	t.Setenv("TMPDIR", root) // anything spooled by anyone lands where the test looks
	e := newEnv(t)
	ve := &vaultEnv{env: e, root: filepath.Dir(root), vaultDir: filepath.Join(root, "vault")}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	rs, fps, err := vault.ParseRecipients([]string{id.Recipient().String()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.NewFSBackend(ve.vaultDir)
	if err != nil {
		t.Fatal(err)
	}
	if ve.vault, err = vault.New(b, rs, fps, vault.WithTempDir(filepath.Join(root)), vault.WithClock(e.clock.Now)); err != nil {
		t.Fatal(err)
	}
	ve.identity = id
	pol, err := policies.Default()
	if err != nil {
		t.Fatal(err)
	}
	pol.UploadMaxBytes = testUploadMax
	e.svc = incident.NewService(e.store, pol, evidencevault.New(ve.vault, evidencevault.WithClock(e.clock.Now)), fakeMessenger{}, incident.WithClock(e.clock.Now),
		incident.WithPasswordParams(password.Params{Memory: 64, Time: 1, Threads: 1}), incident.WithFactors(e.factors()))
	e.serve(false)
	return ve
}

// vaultFiles lists the regular files in the vault directory.
func (ve *vaultEnv) vaultFiles() []string {
	ve.t.Helper()
	var out []string
	err := filepath.WalkDir(ve.vaultDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		ve.t.Fatal(err)
	}
	return out
}

// noIncidents fails unless nothing was stored.
func (ve *vaultEnv) noIncidents() {
	ve.t.Helper()
	incs, err := ve.svc.Incidents(ve.ctx, incident.Actor{ID: "t", Role: incident.RoleAuditor}, incident.IncidentFilter{})
	if err != nil || len(incs) != 0 {
		ve.t.Fatalf("incidents after a refused upload: %v, %v", incs, err)
	}
	if files := ve.vaultFiles(); len(files) != 0 {
		ve.t.Fatalf("vault files after a refused upload: %v", files)
	}
}

// part is one multipart field; file names a file part.
type part struct {
	name, file string
	body       io.Reader
}

func field(name, value string) part { return part{name: name, body: strings.NewReader(value)} }

// multipartStream writes the parts in order through a pipe, so that the
// body is produced only as fast as the server reads it.
func multipartStream(parts ...part) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			if p.file != "" {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.file))
				h.Set("Content-Type", "application/octet-stream")
			} else {
				h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
			}
			w, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(w, p.body)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	return pr, mw.FormDataContentType()
}

// multipartBody is a small multipart body of plain fields.
func multipartBody(t *testing.T, fields [][2]string) (io.Reader, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

// raw sends a body as is, with the client's cookies and headers.
func (c *client) raw(method, target, ctype string, body io.Reader) *httptest.ResponseRecorder {
	c.e.t.Helper()
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("Content-Type", ctype)
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	for n, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: n, Value: v})
	}
	w := httptest.NewRecorder()
	c.e.h.ServeHTTP(w, req)
	if cl, ok := body.(io.Closer); ok {
		cl.Close() // stops a multipartStream writer the server left
	}
	return w
}

// upload posts the upload form: csrf first, the fields, the file last.
func (c *client) upload(category, fileName string, content io.Reader) *httptest.ResponseRecorder {
	body, ctype := multipartStream(field("csrf", c.csrf), field("category", category), field("description", "Drohung per Instagram"),
		field("platform", "android"), part{name: "file", file: fileName, body: content})
	return c.raw(http.MethodPost, "/incidents/upload", ctype, body)
}

// pngWith is a PNG signature followed by payload.
func pngWith(payload []byte) []byte {
	return append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), payload...)
}

func TestUploadSealsAndStages(t *testing.T) {
	ve := newVaultEnv(t)
	wanda := ve.as("wanda")
	marker := make([]byte, 4096)
	if _, err := rand.Read(marker); err != nil {
		t.Fatal(err)
	}
	content := pngWith(marker)
	w := wanda.upload("threat", `C:\Users\x\..\..\Desktop\bedrohung.png`, bytes.NewReader(content))
	if w.Code != http.StatusSeeOther {
		t.Log(ve.log.String())
	}
	loc := wantRedirect(t, w, "/incidents/")
	if !strings.HasSuffix(loc, "?done=uploaded") {
		t.Fatalf("redirect to %q", loc)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/incidents/"), "?done=uploaded")
	inc := ve.incident(id)
	if inc.Channel != incident.ChannelUpload || inc.Receipt == nil || inc.Evidence != incident.EvidencePending ||
		inc.State != incident.StateAwaitingApproval || inc.Message.MediaType != "image/png" {
		t.Fatalf("incident after upload: %+v", inc)
	}
	if inc.Message.FileName != "bedrohung.png" {
		t.Fatalf("file name kept as %q, want the sanitized base name", inc.Message.FileName)
	}
	if files := ve.vaultFiles(); len(files) != 1 {
		t.Fatalf("vault files: %v, want one bundle", files)
	}
	// The bundle holds exactly the bytes sent, under a name of our making.
	var got []byte
	var names []string
	_, err := ve.vault.Open(ve.ctx, inc.Receipt.BundleID, []vault.Identity{ve.identity}, func(p vault.PartInfo, r io.Reader) error {
		names = append(names, p.Name)
		b, err := io.ReadAll(r)
		got = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || names[0] != "upload.png" || !bytes.Equal(got, content) {
		t.Fatalf("bundle parts %v, content equal %v", names, bytes.Equal(got, content))
	}
	w = wanda.get("/incidents/" + id + "?done=uploaded")
	if !strings.Contains(w.Body.String(), "verschlüsselt abgelegt") || !strings.Contains(w.Body.String(), inc.Receipt.CiphertextSHA256) {
		t.Fatal("incident page lacks the flash or the receipt")
	}

	// No plaintext anywhere on disk: database, vault, spool, TMPDIR — every
	// file the test's processes wrote lives under ve.root.
	probe := marker[1000:1064]
	scanned := map[string]bool{}
	err = filepath.WalkDir(ve.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		scanned[filepath.Ext(p)] = true
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, probe) {
			t.Errorf("plaintext of the upload found in %s", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !scanned[".db"] || !scanned[filepath.Ext(ve.vaultFiles()[0])] {
		t.Fatalf("the scan missed the database or the vault: %v", scanned)
	}
	if bytes.Contains(ve.log.Bytes(), probe) {
		t.Error("plaintext of the upload in the log")
	}
}

func TestUploadRefusals(t *testing.T) {
	ve := newVaultEnv(t)
	wanda := ve.as("wanda")
	t.Run("too large", func(t *testing.T) {
		big := io.MultiReader(bytes.NewReader(pngWith(nil)), io.LimitReader(zeros{}, testUploadMax))
		w := wanda.upload("threat", "big.png", big)
		wantStatus(t, w, http.StatusRequestEntityTooLarge)
		ve.noIncidents()
	})
	t.Run("body far too large", func(t *testing.T) {
		big := io.MultiReader(bytes.NewReader(pngWith(nil)), io.LimitReader(zeros{}, 3*testUploadMax))
		wantStatus(t, wanda.upload("threat", "big.png", big), http.StatusRequestEntityTooLarge)
		ve.noIncidents()
	})
	t.Run("empty", func(t *testing.T) {
		wantStatus(t, wanda.upload("threat", "leer.png", strings.NewReader("")), http.StatusBadRequest)
		ve.noIncidents()
	})
	t.Run("wrong magic bytes", func(t *testing.T) {
		w := wanda.upload("threat", "bild.png", strings.NewReader("MZ\x90\x00 this is a program, whatever its name says"))
		wantStatus(t, w, http.StatusUnsupportedMediaType)
		ve.noIncidents()
		wantStatus(t, wanda.upload("threat", "bild.png", strings.NewReader("just text")), http.StatusUnsupportedMediaType)
		ve.noIncidents()
	})
	t.Run("no file", func(t *testing.T) {
		body, ctype := multipartBody(t, [][2]string{{"csrf", wanda.csrf}, {"category", "threat"}, {"platform", "android"}})
		wantStatus(t, wanda.raw(http.MethodPost, "/incidents/upload", ctype, body), http.StatusBadRequest)
		ve.noIncidents()
	})
	t.Run("not multipart", func(t *testing.T) {
		wantStatus(t, wanda.post("/incidents/upload", "category", "threat"), http.StatusBadRequest)
	})
	t.Run("unknown platform", func(t *testing.T) {
		tw := &tripwire{t: t}
		body, ctype := multipartStream(field("csrf", wanda.csrf), field("category", "threat"), field("platform", "nokia"),
			part{name: "file", file: "x.png", body: tw})
		wantStatus(t, wanda.raw(http.MethodPost, "/incidents/upload", ctype, body), http.StatusBadRequest)
		tw.check()
		ve.noIncidents()
	})
	t.Run("csam", func(t *testing.T) {
		tw := &tripwire{t: t}
		w := wanda.upload("csam", "x.jpg", tw)
		wantStatus(t, w, http.StatusUnprocessableEntity)
		tw.check()
		body := w.Body.String()
		for _, want := range []string{"Kein Upload in dieser Kategorie", "nur Metadaten", "Nicht weiterleiten", "/incidents/new/details"} {
			if !strings.Contains(body, want) {
				t.Errorf("csam page lacks %q", want)
			}
		}
		ve.noIncidents()
	})
}

func TestUploadCSRFBeforeFile(t *testing.T) {
	ve := newVaultEnv(t)
	wanda := ve.as("wanda")
	for name, first := range map[string][]part{
		"missing":      {field("category", "threat"), field("csrf", wanda.csrf)},
		"wrong":        {field("csrf", "csrf-not-this-one")},
		"other user's": {field("csrf", ve.as("otto").csrf)},
		"empty":        {field("csrf", "")},
		"as a file":    {{name: "csrf", file: "csrf.txt", body: strings.NewReader(wanda.csrf)}},
	} {
		t.Run(name, func(t *testing.T) {
			tw := &tripwire{t: t}
			parts := append(first, field("platform", "android"), part{name: "file", file: "x.png", body: tw})
			body, ctype := multipartStream(parts...)
			w := wanda.raw(http.MethodPost, "/incidents/upload", ctype, body)
			wantStatus(t, w, http.StatusForbidden)
			tw.check()
			ve.noIncidents()
		})
	}
	t.Run("cross-site", func(t *testing.T) {
		c := *wanda
		c.header = http.Header{"Sec-Fetch-Site": {"cross-site"}}
		tw := &tripwire{t: t}
		body, ctype := multipartStream(field("csrf", wanda.csrf), part{name: "file", file: "x.png", body: tw})
		wantStatus(t, c.raw(http.MethodPost, "/incidents/upload", ctype, body), http.StatusForbidden)
		tw.check()
	})
	t.Run("other roles", func(t *testing.T) {
		ve.enroll("anna")
		tw := &tripwire{t: t}
		anna := ve.as("anna")
		body, ctype := multipartStream(field("csrf", anna.csrf), part{name: "file", file: "x.png", body: tw})
		wantStatus(t, anna.raw(http.MethodPost, "/incidents/upload", ctype, body), http.StatusForbidden)
		tw.check()
	})
}

// tripwire is file content that must not be read: it offers 1 MiB in
// small chunks (the pipe in multipartStream hands each on only when the
// server reads it) and fails the test when more than multipart's 4 KiB
// look-ahead buffer of it was consumed — which reading the file part
// would do.
type tripwire struct {
	t    *testing.T
	read atomic.Int64 // written by multipartStream's goroutine
}

const (
	lookAhead    = 4096
	tripwireStep = 256
)

func (tw *tripwire) Read(p []byte) (int, error) {
	read := int(tw.read.Load())
	if read >= 1<<20 {
		return 0, io.EOF
	}
	n := min(len(p), tripwireStep, 1<<20-read)
	for i := range p[:n] {
		p[i] = 'A'
	}
	tw.read.Add(int64(n))
	return n, nil
}

func (tw *tripwire) check() {
	tw.t.Helper()
	if n := tw.read.Load(); n > lookAhead+2*tripwireStep {
		tw.t.Fatalf("the file part was read: %d bytes consumed", n)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestSafeFileName(t *testing.T) {
	for in, want := range map[string]string{
		"../../etc/passwd":              "passwd",
		`C:\fakepath\Foto 1.jpg`:        "Foto 1.jpg",
		"a\x00b\u202ec\r\n.png":         "abc.png",
		"..":                            "",
		strings.Repeat("ä", 100) + ".x": strings.Repeat("ä", 60),
	} {
		if got := safeFileName(in); got != want {
			t.Errorf("safeFileName(%q) = %q, want %q", in, got, want)
		}
	}
}
