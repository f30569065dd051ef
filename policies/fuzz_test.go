package policies

import (
	"bytes"
	"errors"
	"regexp"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, seed := range seeds(DefaultYAML()) {
		f.Add(seed)
	}
	f.Add([]byte(cat))
	f.Add([]byte(cat + "    restricted: true\n    legal_basis: x\n"))
	f.Add([]byte("four_eyes:\n  approvals: 2\n  request_ttl: 30d\n"))
	f.Add([]byte("walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - {id: chat, title: {de: a, en: b}, body: {de: a, en: b}, together: {de: a, en: b}}\n"))
	f.Add([]byte("walkthrough:\n  fairphone:\n    name: {de: a, en: b}\n    steps:\n      - {id: ask, title: {de: a, en: b}, body: {de: a, en: b}, with_young_person: true, follow_up: {after: 3d, title: {de: a, en: b}, body: {de: a, en: b}}}\n"))
	f.Add([]byte("emergency_contacts:\n  - name: {de: a, en: b}\n    phone: 110\n"))
	f.Add([]byte("upload_types: [image/png]\nflag_emoji: \"🚩\"\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte(oidcOK))
	f.Add([]byte("step_deadline: 1h\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v (%T) is not a *Error wrapping ErrInvalid", err, err)
			}
			return
		}
		if p.FourEyes.Approvals < 1 || p.FourEyes.RequestTTL <= 0 {
			t.Fatalf("invalid FourEyes %+v", p.FourEyes)
		}
		if p.StepDeadline <= 0 || p.CaptureWindow <= 0 || p.UploadMaxBytes <= 0 {
			t.Fatalf("non-positive limits: %v %v %d", p.StepDeadline, p.CaptureWindow, p.UploadMaxBytes)
		}
		for _, g := range p.Platforms() {
			if _, err := p.Steps(g.ID); err != nil || g.Name.DE == "" || g.Name.EN == "" {
				t.Fatalf("platform %q: %+v, %v", g.ID, g, err)
			}
		}
		if len(p.EmergencyContacts) == 0 {
			t.Fatal("no emergency contacts")
		}
		csam, err := p.Category("csam")
		if err != nil || !csam.Restricted {
			t.Fatalf("csam = %+v, %v", csam, err)
		}
		for _, c := range p.Categories {
			if c.Restricted && c.Securing == SecureContent && c.LegalBasis == "" {
				t.Fatalf("restricted content category %q without legal basis", c.ID)
			}
			if c.Securing != SecureContent && c.Securing != SecureMetadataOnly {
				t.Fatalf("category %q has securing %q", c.ID, c.Securing)
			}
			if c.Retention <= 0 || p.ApprovalsFor(c) < 1 {
				t.Fatalf("category %q: retention %v, approvals %d", c.ID, c.Retention, p.ApprovalsFor(c))
			}
			if c.Name.DE == "" || c.Name.EN == "" {
				t.Fatalf("category %q has a missing name", c.ID)
			}
		}
	})
}

var (
	topLevelRE    = regexp.MustCompile(`^[a-z_]+:`)
	secondLevelRE = regexp.MustCompile(`^  (- |[a-z_]+:\s*$)`)
)

// seeds splits a policy file into small documents, one per top-level
// setting and one per category, contact or platform, so that the fuzzer
// mutates (and minimizes) small inputs rather than the whole default.
func seeds(data []byte) [][]byte {
	var out [][]byte
	var header string
	var cur []byte
	flush := func() {
		if len(cur) > 0 {
			out = append(out, []byte(header+string(cur)))
		}
		cur = nil
	}
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		switch {
		case topLevelRE.Match(line):
			flush()
			header = ""
			if bytes.HasSuffix(bytes.TrimSpace(line), []byte(":")) {
				header = string(line) // a section: split its entries
			} else {
				cur = line
			}
		case secondLevelRE.Match(line):
			flush()
			cur = line
		case len(bytes.TrimSpace(line)) == 0 || bytes.HasPrefix(bytes.TrimSpace(line), []byte("#")):
			// comments between sections
		default:
			cur = append(cur, line...)
		}
	}
	flush()
	return out
}

func TestSeedsParse(t *testing.T) {
	s := seeds(DefaultYAML())
	if len(s) < 20 {
		t.Fatalf("only %d seeds", len(s))
	}
	for _, seed := range s {
		if _, err := Parse("seed.yaml", seed); err != nil {
			t.Errorf("seed does not parse: %v\n%s", err, seed)
		}
	}
}
