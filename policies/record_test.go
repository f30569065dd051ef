package policies

import (
	"slices"
	"strings"
	"testing"
)

// TestRecordIdentityProvider: the identity provider's activity is in the
// record exactly when the policy has an oidc section, last, with the
// policy's check interval and legal basis; its legal basis is missing
// only then.
func TestRecordIdentityProvider(t *testing.T) {
	const oidc = "oidc:\n  claim: groups\n  roles:\n    tresor-team: worker\n"
	for _, tc := range []struct {
		name, yaml   string
		shown        bool
		interval     string // in the purpose, German
		basis        Text
		basisMissing bool
	}{
		{"no oidc section", "", false, "", ToBeFilledIn, false},
		{"no oidc section, basis filled in", "processing:\n  legal_basis:\n    identity_provider: {de: § 26 BDSG, en: s. 26 BDSG}\n", false, "", Text{}, false},
		{"oidc, default interval", oidc, true, "Abstand: 15 Minuten", ToBeFilledIn, true},
		{"oidc, 2h, basis filled in", oidc + "  offboarding_check_interval: 2h\nprocessing:\n  legal_basis:\n    identity_provider: {de: § 26 BDSG, en: s. 26 BDSG}\n",
			true, "Abstand: 2 Stunden", Text{DE: "§ 26 BDSG", EN: "s. 26 BDSG"}, false},
		{"oidc, 24h", oidc + "  offboarding_check_interval: 24h\n", true, "Abstand: 1 Tag", ToBeFilledIn, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			r := p.RecordOfProcessing()
			last := r.Activities[len(r.Activities)-1]
			if shown := last.Kind == DataIdentityProvider; shown != tc.shown {
				t.Fatalf("identity provider's activity shown %v, want %v", shown, tc.shown)
			}
			if got := slices.Contains(r.Missing, "legal_basis.identity_provider"); got != tc.basisMissing {
				t.Errorf("missing %v: identity provider's basis listed %v, want %v", r.Missing, got, tc.basisMissing)
			}
			if !tc.shown {
				if len(r.Activities) != len(DataKinds())-1 {
					t.Errorf("%d activities, want %d", len(r.Activities), len(DataKinds())-1)
				}
				return
			}
			if !strings.Contains(last.Purpose.DE, tc.interval) {
				t.Errorf("purpose %q lacks %q", last.Purpose.DE, tc.interval)
			}
			if last.LegalBasis != tc.basis {
				t.Errorf("legal basis %+v, want %+v", last.LegalBasis, tc.basis)
			}
			for _, want := range []string{"Refresh-Token", "ID-Token", "Aussteller"} {
				if !strings.Contains(last.Data.DE, want) {
					t.Errorf("data %q does not name %s", last.Data.DE, want)
				}
			}
			if !strings.Contains(last.Recipients.EN, "refresh token") || !strings.Contains(last.Recipients.EN, "userinfo") {
				t.Errorf("recipients %q: want what goes to the identity provider", last.Recipients.EN)
			}
		})
	}
}

// TestRecordPlaceholdersFilled: no activity of any policy keeps a
// placeholder, and every text has both languages.
func TestRecordPlaceholdersFilled(t *testing.T) {
	p, err := Parse("p.yaml", []byte("capture_window: 36h\noidc:\n  claim: roles\n  roles:\n    a: admin\n  offboarding_check_interval: 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := p.RecordOfProcessing()
	if len(r.Activities) != len(DataKinds()) {
		t.Fatalf("%d activities, want %d", len(r.Activities), len(DataKinds()))
	}
	for _, a := range r.Activities {
		for _, f := range append(a.Fields(), Field{Label: Text{DE: "Name", EN: "Name"}, Value: a.Name}) {
			for _, s := range []string{f.Value.DE, f.Value.EN} {
				if s == "" || strings.ContainsAny(s, "{}") {
					t.Errorf("%s %s: %q is empty or keeps a placeholder", a.Kind, f.Label.EN, s)
				}
			}
		}
	}
	if got := r.Activities[1].Retention.EN; !strings.HasPrefix(got, "36 hours from receipt") {
		t.Errorf("captures retention %q", got)
	}
	if got := r.Activities[len(r.Activities)-1].Purpose.EN; !strings.Contains(got, "(interval: 1 minute)") {
		t.Errorf("identity provider purpose %q lacks the interval", got)
	}
}

// TestParseActivities: the record's table is decoded strictly.
func TestParseActivities(t *testing.T) {
	if _, err := parseActivities("record.yaml", recordYAML); err != nil {
		t.Fatalf("embedded table: %v", err)
	}
	row := func(kind string) string {
		return "- kind: " + kind + "\n  name: {de: a, en: a}\n  data: {de: a, en: a}\n  subjects: {de: a, en: a}\n" +
			"  purpose: {de: a, en: a}\n  retention: {de: a, en: a}\n  access: {de: a, en: a}\n"
	}
	var all string
	for _, k := range DataKinds() {
		all += row(string(k))
	}
	for _, tc := range []struct{ name, yaml, errPart string }{
		{"complete", all, ""},
		{"one short", strings.TrimSuffix(all, row(string(DataIdentityProvider))), "6 activities, want one per kind of data (7)"},
		{"wrong order", row("captures") + row("incidents"), `t.yaml:1: activities[0].kind "captures"`},
		{"unknown kind", row("chats"), `activities[0].kind "chats"`},
		{"unknown key", all + "  legal_basis: {de: a, en: a}\n", `unknown key "legal_basis" in activities[6]`},
		{"one language", strings.Replace(all, "name: {de: a, en: a}", "name: {de: a}", 1), `missing key "en"`},
		{"no access", strings.Replace(all, "  access: {de: a, en: a}\n", "", 1), `missing key "access"`},
		{"not a list", "kind: incidents\n", "activities must be a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseActivities("t.yaml", []byte(tc.yaml))
			if tc.errPart == "" {
				if err != nil || len(a) != len(DataKinds()) {
					t.Fatalf("%d activities, %v", len(a), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.errPart) {
				t.Fatalf("error %v, want one containing %q", err, tc.errPart)
			}
		})
	}
}
