package policies

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDefault(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}

	var ids []string
	for _, c := range p.Categories {
		ids = append(ids, c.ID)
	}
	if got, want := strings.Join(ids, ","), "csam,violence,threat,extortion,self_harm,other"; got != want {
		t.Errorf("categories = %s, want %s", got, want)
	}

	csam, err := p.Category("csam")
	if err != nil {
		t.Fatal(err)
	}
	if csam.Securing != SecureMetadataOnly || !csam.Restricted || !csam.RequireApproval {
		t.Errorf("csam = securing %q restricted %v approval %v; want metadata, restricted, approval",
			csam.Securing, csam.Restricted, csam.RequireApproval)
	}
	for _, id := range []string{"do_not_forward", "do_not_show", "do_not_copy", "report_police", "inform_leitung", "document_metadata", "hotline"} {
		if !hasStep(csam.ExtraSteps, id) {
			t.Errorf("csam has no extra step %q", id)
		}
	}
	for _, c := range p.Categories {
		if c.ID != "csam" && c.Securing != SecureContent {
			t.Errorf("category %q secures %q, want content", c.ID, c.Securing)
		}
		if c.Retention <= 0 || !c.RequireApproval {
			t.Errorf("category %q: retention %v, require approval %v", c.ID, c.Retention, c.RequireApproval)
		}
	}

	if len(p.Platforms()) != 3 {
		t.Errorf("default policy has %d platforms, want android, iphone and web", len(p.Platforms()))
	}
	for _, g := range p.Platforms() {
		pl := g.ID
		if g.Name.DE == "" || g.Name.EN == "" {
			t.Errorf("platform %q has no name", pl)
		}
		steps, err := p.Steps(pl)
		if err != nil {
			t.Errorf("Steps(%q) = %v", pl, err)
			continue
		}
		for _, id := range []string{"chat", "ask_recipient"} {
			if !hasStep(steps, id) {
				t.Errorf("walkthrough %q has no step %q", pl, id)
			}
		}
	}
	for _, id := range []string{"gallery", "local_backup", "cloud_backup", "backup_e2e", "media_folder"} {
		if !hasStep(stepsOf(t, p, "android"), id) {
			t.Errorf("android walkthrough has no step %q", id)
		}
	}
	for _, id := range []string{"gallery", "cloud_backup", "device_backup", "backup_e2e", "save_to_photos"} {
		if !hasStep(stepsOf(t, p, "iphone"), id) {
			t.Errorf("iphone walkthrough has no step %q", id)
		}
	}
	if !strings.Contains(stepBody(stepsOf(t, p, "android"), "media_folder"), "com.whatsapp.w4b") {
		t.Errorf("android media_folder step does not name com.whatsapp.w4b")
	}

	phones := map[string]bool{}
	for _, c := range p.EmergencyContacts {
		phones[c.Phone] = true
	}
	for _, ph := range []string{"110", "112", "116 111", "0800 1110111", "0800 1110222", "0800 22 55 530"} {
		if !phones[ph] {
			t.Errorf("no emergency contact with phone %q", ph)
		}
	}

	if p.FourEyes != (FourEyes{Approvals: 1, RequestTTL: 24 * time.Hour, DownloadLinks: 1}) {
		t.Errorf("FourEyes = %+v", p.FourEyes)
	}
	if p.StepDeadline != 48*time.Hour || p.CaptureWindow != 72*time.Hour || p.UploadMaxBytes != 100<<20 {
		t.Errorf("StepDeadline %v, CaptureWindow %v, UploadMaxBytes %d", p.StepDeadline, p.CaptureWindow, p.UploadMaxBytes)
	}
	if len(p.UploadTypes) == 0 || p.FlagLabel == "" {
		t.Errorf("UploadTypes %v, FlagLabel %q", p.UploadTypes, p.FlagLabel)
	}
}

func hasStep(steps []Step, id string) bool {
	return stepBody(steps, id) != ""
}

func stepBody(steps []Step, id string) string {
	for _, s := range steps {
		if s.ID == id {
			return s.Body.DE
		}
	}
	return ""
}

func TestDefaultYAML(t *testing.T) {
	a := DefaultYAML()
	if !bytes.Equal(a, defaultYAML) {
		t.Fatal("DefaultYAML differs from the embedded file")
	}
	a[0] ^= 0xff
	if bytes.Equal(a, DefaultYAML()) {
		t.Error("DefaultYAML returns the embedded slice, not a copy")
	}
}

func TestPolicyLookups(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Category("nope")
	if !errors.Is(err, ErrUnknownCategory) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Category(nope) = %v, want ErrUnknownCategory naming the id", err)
	}
	if _, err := p.Steps("ios"); !errors.Is(err, ErrInvalid) {
		t.Errorf("Steps(ios) = %v, want ErrInvalid", err)
	}

	c := Category{ID: "x"}
	if got := p.ApprovalsFor(c); got != 1 {
		t.Errorf("ApprovalsFor(0) = %d, want FourEyes default 1", got)
	}
	c.Approvals = 3
	if got := p.ApprovalsFor(c); got != 3 {
		t.Errorf("ApprovalsFor(3) = %d, want 3", got)
	}
	if got := (&Policy{}).ApprovalsFor(Category{}); got != 1 {
		t.Errorf("zero Policy ApprovalsFor = %d, want at least 1", got)
	}

	// Policies must not share state: changing one leaves later ones alone.
	p.Categories[0].ExtraSteps[0].ID = "changed"
	p.Walkthrough[0].Steps[0].ID = "changed"
	p.UploadTypes[0] = "changed/changed"
	q, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if q.Categories[0].ExtraSteps[0].ID == "changed" || q.Walkthrough[0].Steps[0].ID == "changed" || q.UploadTypes[0] == "changed/changed" {
		t.Error("a change to one Policy leaked into the next Default()")
	}

	// Returned slices must not alias the policy.
	steps, err := p.Steps("web")
	if err != nil {
		t.Fatal(err)
	}
	steps[0].ID = "changed"
	if p.Walkthrough[2].Steps[0].ID == "changed" {
		t.Error("Steps returned an alias of the walkthrough")
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{File: "default.yaml", Line: 12, Msg: `unknown key "foo"`}
	if got, want := e.Error(), `default.yaml:12: unknown key "foo"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrInvalid) {
		t.Error("Error does not wrap ErrInvalid")
	}
	e.Line = 0
	if got, want := e.Error(), `default.yaml: unknown key "foo"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func stepsOf(t *testing.T, p *Policy, pl Platform) []Step {
	t.Helper()
	steps, err := p.Steps(pl)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}
