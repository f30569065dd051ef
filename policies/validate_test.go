package policies

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// cat is a valid one-category override; its lines are numbered 1 to 7.
const cat = `categories:
  - id: test
    name: {de: Test, en: Test}
    description: {de: Beschreibung, en: Description}
    securing: content
    require_approval: true
    retention: 30d
`

// catWith replaces the first occurrence of old in cat.
func catWith(old, new string) string {
	if !strings.Contains(cat, old) {
		panic("catWith: " + old + " not in cat")
	}
	return strings.Replace(cat, old, new, 1)
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		// Syntax and document structure.
		{"malformed yaml", "four_eyes:\n  approvals: 1\n request_ttl: 2h\n", 2, "malformed yaml"},
		{"unclosed flow", "upload_types: [image/png,\n", 1, "malformed yaml"},
		{"two documents", "step_deadline: 1h\n---\nstep_deadline: 2h\n", 2, "more than one YAML document"},
		{"not a mapping", "- a\n- b\n", 1, "policy must be a mapping"},
		{"alias", "step_deadline: &d 1h\ncapture_window: *d\n", 2, "aliases are not supported"},
		{"duplicate key", "step_deadline: 1h\nstep_deadline: 2h\n", 2, `duplicate key "step_deadline"`},

		// Unknown keys at every depth.
		{"unknown top-level key", "step_deadline: 1h\nfoo: 1\n", 2, `unknown key "foo"`},
		{"escalate_to not a user name", "escalate_to:\n  - Susi Leitung\n", 2, `"Susi Leitung" is not a user name`},
		{"escalate_to duplicate", "escalate_to: [susi, susi]\n", 1, `duplicate user name "susi"`},
		{"escalate_to not a list", "escalate_to: susi\n", 1, "escalate_to"},
		{"unknown four_eyes key", "four_eyes:\n  approvals: 1\n  quorum: 2\n", 3, `unknown key "quorum" in four_eyes`},
		{"unknown category key", cat + "    colour: red\n", 8, `unknown key "colour" in category "test"`},
		{"unknown text key", catWith("{de: Test, en: Test}", "{de: Test, en: Test, fr: Essai}"), 3, `unknown key "fr"`},
		{"unknown step key", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n        icon: x\n", 8, `unknown key "icon"`},
		{"unknown contact key", "emergency_contacts:\n  - name: {de: a, en: b}\n    phone: \"110\"\n    fax: \"110\"\n", 4, `unknown key "fax"`},

		// Wrong types.
		{"duration as integer", "step_deadline: 5\n", 1, "must be a duration"},
		{"section as list", "four_eyes: [1]\n", 1, "four_eyes must be a mapping, not a list"},
		{"list as string", "upload_types: image/png\n", 1, "upload_types must be a list"},
		{"bool as string", cat + "    restricted: \"yes\"\n", 8, "must be true or false"},
		{"integer as string", "upload_max_bytes: lots\n", 1, "must be an integer"},
		{"text as string", catWith("name: {de: Test, en: Test}", "name: Test"), 3, "name must be a mapping, not a string"},
		{"emoji as integer", "flag_emoji: 1\n", 1, "must be a string"},

		// Durations.
		{"bad duration", "capture_window: 3 days\n", 1, `invalid duration "3 days"`},
		{"negative duration", "step_deadline: -1h\n", 1, "must be positive"},
		{"zero duration", "capture_window: 0d\n", 1, "must be positive"},
		{"days overflow", catWith("retention: 30d", "retention: 99999999999999d"), 7, "too many days"},

		// Four eyes.
		{"zero approvals", "four_eyes:\n  approvals: 0\n", 2, "four_eyes.approvals must be between 1 and 100"},
		{"negative approvals", "four_eyes:\n  approvals: -2\n", 2, "four_eyes.approvals must be between 1 and 100"},
		{"zero ttl", "four_eyes:\n  request_ttl: 0s\n", 2, "must be positive"},
		{"no download link", "four_eyes:\n  download_links: 0\n", 2, "four_eyes.download_links must be between 1 and 10"},
		{"too many download links", "four_eyes:\n  download_links: 11\n", 2, "four_eyes.download_links must be between 1 and 10"},
		{"negative category approvals", cat + "    approvals: -1\n", 8, "approvals must be between 0 and 100"},
		{"approvals without approval", catWith("require_approval: true", "require_approval: false") + "    approvals: 2\n", 8, "require_approval is false"},

		// Categories.
		{"unknown securing", catWith("securing: content", "securing: everything"), 5, `unknown securing mode "everything"`},
		{"missing securing", catWith("    securing: content\n", ""), 2, `missing key "securing"`},
		{"bad category id", catWith("id: test", "id: Test-1"), 2, `id "Test-1" must start with a-z`},
		{"duplicate category id", cat + strings.TrimPrefix(cat, "categories:\n"), 8, `duplicate category id "test" (first at line 2)`},
		{"empty categories", "categories: []\n", 1, "categories must not be empty"},
		{"restricted content without legal basis", cat + "    restricted: true\n", 5, "§184b StGB"},
		{"restricted content blank legal basis", cat + "    restricted: true\n    legal_basis: \"  \"\n", 5, "names no legal_basis"},
		{"csam not restricted", catWith("id: test", "id: csam"), 2, `category "csam" must be restricted`},
		{"csam explicitly unrestricted", catWith("id: test", "id: csam") + "    restricted: false\n", 8, "must be restricted"},

		// Texts.
		{"missing en", catWith("name: {de: Test, en: Test}", "name: {de: Test}"), 3, `missing key "en"`},
		{"missing de", catWith("description: {de: Beschreibung, en: Description}", "description: {en: Description}"), 4, `missing key "de"`},
		{"blank de", catWith("name: {de: Test, en: Test}", "name: {de: \" \", en: Test}"), 3, "name.de must not be empty"},

		// Steps and walkthrough.
		{"bad platform key", "walkthrough:\n  iOS 17:\n    name: {de: a, en: b}\n", 2, `walkthrough platform "iOS 17" must start with a-z`},
		{"platform as list", "walkthrough:\n  ios:\n    - id: chat\n", 3, "walkthrough.ios must be a mapping, not a list"},
		{"platform without name", "walkthrough:\n  ios:\n    steps:\n      - {id: chat, title: {de: a, en: b}, body: {de: a, en: b}}\n", 3, `missing key "name"`},
		{"empty walkthrough", "walkthrough: {}\n", 1, "walkthrough must not be empty"},
		{"platform without steps", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps: []\n", 4, "walkthrough.web.steps must list at least one step"},
		{"duplicate platform", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps: [{id: chat, title: {de: a, en: b}, body: {de: a, en: b}}]\n  web:\n    name: {de: a, en: b}\n", 5, `duplicate key "web"`},
		{"duplicate step id", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n", 8, `duplicate step id "chat" (first at line 5)`},
		{"duplicate extra step id", cat + "    extra_steps:\n      - {id: a, title: {de: a, en: a}, body: {de: a, en: a}}\n      - {id: a, title: {de: a, en: a}, body: {de: a, en: a}}\n", 10, `duplicate step id "a"`},
		{"step without body", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n", 5, `missing key "body"`},
		{"follow-up without after", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n        follow_up: {title: {de: a, en: b}, body: {de: a, en: b}}\n", 8, `missing key "after"`},
		{"follow-up with zero after", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n        follow_up: {after: 0h, title: {de: a, en: b}, body: {de: a, en: b}}\n", 8, "follow_up.after"},
		{"together in one language", "walkthrough:\n  web:\n    name: {de: a, en: b}\n    steps:\n      - id: chat\n        title: {de: a, en: b}\n        body: {de: a, en: b}\n        together: {de: a}\n", 8, `missing key "en"`},

		// Emergency contacts.
		{"contact without phone", "emergency_contacts:\n  - name: {de: Polizei, en: Police}\n", 2, `missing key "phone"`},
		{"contact with bad phone", "emergency_contacts:\n  - name: {de: Polizei, en: Police}\n    phone: call me\n", 3, `phone "call me" must be a phone number`},
		{"empty contacts", "emergency_contacts: []\n", 1, "emergency_contacts must not be empty"},

		// Uploads and flags.
		{"upload type without subtype", "upload_types: [image/png, jpeg]\n", 1, `upload type "jpeg" is not of the form type/subtype`},
		{"upload type wildcard", "upload_types:\n  - image/*\n", 2, "not of the form type/subtype"},
		{"upload type with parameter", "upload_types:\n  - text/plain; charset=utf-8\n", 2, "not of the form type/subtype"},
		{"duplicate upload type", "upload_types:\n  - image/png\n  - image/png\n", 3, `duplicate upload type "image/png"`},
		{"zero upload size", "upload_max_bytes: 0\n", 1, "upload_max_bytes must be positive"},
		{"flag emoji text", "flag_emoji: star\n", 1, "must be a single emoji"},
		{"flag label padded", "flag_label: \" Tresor\"\n", 1, "flag_label"},
		{"media hash mismatch unknown", "media_hash_mismatch: ignore\n", 1, "media_hash_mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Parse succeeded, want error at line %d containing %q", tt.line, tt.msg)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *Error", err, err)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if prefix := fmt.Sprintf("t.yaml:%d: ", tt.line); !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		check func(*Policy) error
	}{
		{"empty file", "", nil},
		{"only comments", "# nothing to change\n", nil},
		{"null document", "---\n", nil},
		{"phone as integer", "emergency_contacts:\n  - name: {de: Polizei, en: Police}\n    phone: 110\n", func(p *Policy) error {
			if len(p.EmergencyContacts) != 1 || p.EmergencyContacts[0].Phone != "110" {
				return fmt.Errorf("contacts = %+v", p.EmergencyContacts)
			}
			return nil
		}},
		{"restricted content with legal basis", catWith("id: test", "id: csam") + "    restricted: true\n    legal_basis: \"§184b Abs. 5 StGB, Gutachten vom 1.2.2025\"\n", func(p *Policy) error {
			c, err := p.Category("csam")
			if err != nil {
				return err
			}
			if c.Securing != SecureContent || c.LegalBasis == "" || c.ExtraSteps != nil {
				return fmt.Errorf("csam = %+v", c)
			}
			return nil
		}},
		{"empty upload types", "upload_types: []\n", func(p *Policy) error {
			if p.UploadTypes == nil || len(p.UploadTypes) != 0 {
				return fmt.Errorf("UploadTypes = %#v, want empty", p.UploadTypes)
			}
			return nil
		}},
		{"media hash mismatch refused", "media_hash_mismatch: refuse\n", func(p *Policy) error {
			if p.MediaHashMismatch != MediaMismatchRefuse {
				return fmt.Errorf("media_hash_mismatch = %q", p.MediaHashMismatch)
			}
			return nil
		}},
		{"flags", "flag_emoji: \"🚩\"\nflag_label: \"\"\n", func(p *Policy) error {
			if p.FlagEmoji != "🚩" || p.FlagLabel != "" {
				return fmt.Errorf("flags = %q, %q", p.FlagEmoji, p.FlagLabel)
			}
			return nil
		}},
		{"escalate_to", "escalate_to: [susi, sven.k]\n", func(p *Policy) error {
			if !slices.Equal(p.EscalateTo, []string{"susi", "sven.k"}) {
				return fmt.Errorf("EscalateTo = %q", p.EscalateTo)
			}
			return nil
		}},
		{"durations", "step_deadline: 90m\ncapture_window: 7d\n", func(p *Policy) error {
			if p.StepDeadline.Minutes() != 90 || p.CaptureWindow.Hours() != 7*24 {
				return fmt.Errorf("StepDeadline %v, CaptureWindow %v", p.StepDeadline, p.CaptureWindow)
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(tt.in))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			if tt.check != nil {
				if err := tt.check(p); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestErrorClipsLongValues(t *testing.T) {
	_, err := Parse("t.yaml", []byte("flag_label: "+strings.Repeat("x", 10000)+"\n"))
	if err == nil || len(err.Error()) > 300 {
		t.Errorf("error for a long value is %d bytes, want it clipped", len(err.Error()))
	}
}
