package policies

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func categoryIDs(p *Policy) string {
	var ids []string
	for _, c := range p.Categories {
		ids = append(ids, c.ID)
	}
	return strings.Join(ids, ",")
}

func TestLoadEmptyDir(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"", t.TempDir()} {
		p, err := Load(dir)
		if err != nil {
			t.Fatalf("Load(%q) = %v", dir, err)
		}
		if categoryIDs(p) != categoryIDs(def) || p.FourEyes != def.FourEyes || len(p.Walkthrough) != len(def.Walkthrough) {
			t.Errorf("Load(%q) differs from Default()", dir)
		}
	}
}

func TestLoadMerge(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{
		"10-base.yaml": `
four_eyes:
  approvals: 2
  request_ttl: 12h
step_deadline: 12h
flag_emoji: "📌"
`,
		"20-categories.yml": `
categories:
  - id: violence
    name: {de: Gewalt, en: Violence}
    description: {de: Nur Gewalt, en: Violence only}
    securing: content
    require_approval: true
    approvals: 3
    retention: 30d
  - id: graffiti
    name: {de: Graffiti, en: Graffiti}
    description: {de: Sachbeschädigung, en: Property damage}
    securing: content
    require_approval: false
    retention: 14d
walkthrough:
  web:
    name: {de: Computer, en: Computer}
    steps:
      - id: chat
        title: {de: Löschen, en: Delete}
        body: {de: Im Chat löschen., en: Delete in the chat.}
emergency_contacts:
  - name: {de: Bereitschaft, en: On call}
    phone: "+49 30 123456"
upload_types: [image/jpeg]
step_deadline: 24h
`,
		// Later files win; four_eyes is replaced as a whole section.
		"30-four-eyes.yaml": "four_eyes:\n  approvals: 2\n",
		"40-empty.yaml":     "",
		// Not policy files: ignored even though they are invalid.
		".hidden.yaml":  "garbage: [",
		"README.md":     "garbage: [",
		"notes.txt":     "garbage: [",
		"sub.yaml/x.md": "directory named like a policy file",
	})

	p, err := Load(dir)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}

	if got, want := categoryIDs(p), "csam,violence,threat,extortion,self_harm,other,graffiti"; got != want {
		t.Errorf("categories = %s, want %s", got, want)
	}
	v, err := p.Category("violence")
	if err != nil {
		t.Fatal(err)
	}
	if v.Retention != 30*24*time.Hour || v.Name.DE != "Gewalt" || v.ExtraSteps != nil || p.ApprovalsFor(v) != 3 {
		t.Errorf("violence was not replaced wholly: %+v", v)
	}
	g, err := p.Category("graffiti")
	if err != nil {
		t.Fatal(err)
	}
	if g.RequireApproval || p.ApprovalsFor(g) != 2 {
		t.Errorf("graffiti = %+v, ApprovalsFor %d", g, p.ApprovalsFor(g))
	}

	if got := stepsOf(t, p, "web"); len(got) != 1 || got[0].ID != "chat" {
		t.Errorf("web walkthrough = %+v, want the override's single step", got)
	}
	if len(stepsOf(t, p, "android")) != len(stepsOf(t, def, "android")) ||
		len(stepsOf(t, p, "iphone")) != len(stepsOf(t, def, "iphone")) {
		t.Error("android or iphone walkthrough changed, want only web replaced")
	}

	if len(p.EmergencyContacts) != 1 || p.EmergencyContacts[0].Phone != "+49 30 123456" {
		t.Errorf("emergency contacts = %+v, want the override's list", p.EmergencyContacts)
	}
	if !slices.Equal(p.UploadTypes, []string{"image/jpeg"}) {
		t.Errorf("upload types = %v", p.UploadTypes)
	}
	if p.StepDeadline != 24*time.Hour {
		t.Errorf("StepDeadline = %v, want 24h from the later file", p.StepDeadline)
	}
	if p.FourEyes != (FourEyes{Approvals: 2, RequestTTL: 24 * time.Hour, DownloadLinks: 1}) {
		t.Errorf("FourEyes = %+v, want the last section with request_ttl back at its default", p.FourEyes)
	}
	if p.FlagEmoji != "📌" || p.CaptureWindow != def.CaptureWindow || p.FlagLabel != def.FlagLabel {
		t.Errorf("untouched settings changed: emoji %q, capture %v, label %q", p.FlagEmoji, p.CaptureWindow, p.FlagLabel)
	}
}

func TestLoadReplaceCSAM(t *testing.T) {
	const csam = `categories:
  - id: csam
    name: {de: CSAM, en: CSAM}
    description: {de: Inhalte sichern, en: Secure content}
    securing: content
    restricted: true
    require_approval: true
    retention: 90d
`
	_, err := Load(writeFiles(t, map[string]string{"csam.yaml": csam}))
	var e *Error
	if !errors.As(err, &e) || e.Line != 5 || !strings.Contains(e.Msg, "§184b StGB") || !strings.HasSuffix(e.File, "csam.yaml") {
		t.Fatalf("Load = %v, want an error at csam.yaml:5 naming §184b StGB", err)
	}

	p, err := Load(writeFiles(t, map[string]string{"csam.yaml": csam + "    legal_basis: \"§184b Abs. 5 StGB nach Prüfung durch den Träger\"\n"}))
	if err != nil {
		t.Fatalf("Load with legal basis = %v", err)
	}
	c, err := p.Category("csam")
	if err != nil {
		t.Fatal(err)
	}
	if c.Securing != SecureContent || !c.Restricted || c.LegalBasis == "" {
		t.Errorf("csam = %+v", c)
	}
}

func TestLoadErrorNamesFile(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"10-ok.yaml":  "step_deadline: 1h\n",
		"20-bad.yaml": "step_deadline: 2h\n\ncapture_windw: 1h\n",
	})
	_, err := Load(dir)
	want := filepath.Join(dir, "20-bad.yaml") + `:3: unknown key "capture_windw" in policy`
	if err == nil || err.Error() != want || !errors.Is(err, ErrInvalid) {
		t.Errorf("Load = %v, want %s", err, want)
	}
}

func TestLoadSymlink(t *testing.T) {
	dir := writeFiles(t, map[string]string{"..data/policy.yaml": "step_deadline: 5h\n"})
	if err := os.Symlink(filepath.Join("..data", "policy.yaml"), filepath.Join(dir, "policy.yaml")); err != nil {
		t.Skipf("symlinks unsupported: %v", err)
	}
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if p.StepDeadline != 5*time.Hour {
		t.Errorf("StepDeadline = %v, want 5h from the symlinked file", p.StepDeadline)
	}
}

func TestLoadMissingDir(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, ErrInvalid) {
		t.Errorf("Load(missing) = %v wraps ErrInvalid, want an I/O error", err)
	}
}
