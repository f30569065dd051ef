package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTimeZone(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := def.TimeZone.String(); got != DefaultTimeZone {
		t.Fatalf("default time zone %q, want %q", got, DefaultTimeZone)
	}
	// 12:00 UTC in July is 14:00 in Berlin (summer time).
	if h := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC).In(def.TimeZone).Hour(); h != 14 {
		t.Fatalf("12:00 UTC in July shows as %d:00 in Berlin, want 14:00", h)
	}
	for _, tc := range []struct {
		yaml    string
		want    string // zone name, or "" when an error is expected
		errPart string
	}{
		{"time_zone: Europe/Vienna\n", "Europe/Vienna", ""},
		{"time_zone: UTC\n", "UTC", ""},
		{"time_zone: Mars/Olympus\n", "", `tz.yaml:1: time_zone "Mars/Olympus" is not a known time zone`},
		{"time_zone: \"\"\n", "", "tz.yaml:1: time_zone must name a zone"},
		{"time_zone: Local\n", "", "tz.yaml:1: time_zone must name a zone"},
		{"time_zone: [Europe/Berlin]\n", "", "tz.yaml:1:"},
	} {
		p, err := Parse("tz.yaml", []byte(tc.yaml))
		if tc.want != "" {
			if err != nil {
				t.Errorf("%q: %v", tc.yaml, err)
			} else if p.TimeZone.String() != tc.want {
				t.Errorf("%q: zone %s, want %s", tc.yaml, p.TimeZone, tc.want)
			}
			continue
		}
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.errPart) {
			t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.errPart)
		}
	}
}

func TestProcessing(t *testing.T) {
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"controller", "data_protection_officer", "legal_basis.incidents", "legal_basis.captures",
		"legal_basis.evidence", "legal_basis.audit_log", "legal_basis.accounts", "legal_basis.whatsapp_devices",
		"legal_basis.identity_provider", "recipients", "whatsapp_transfer"}
	if got := def.Processing.Missing(); !slices.Equal(got, all) {
		t.Fatalf("default policy: missing %v, want every entry %v", got, all)
	}
	for _, tc := range []struct {
		name, yaml string
		missing    []string // nil when an error is expected
		errPart    string
	}{
		{"controller filled in", "processing:\n  controller: {de: Jugendhilfe e. V., en: Jugendhilfe e. V.}\n", all[1:], ""},
		{"one legal basis", "processing:\n  legal_basis:\n    evidence: {de: Art. 6 Abs. 1 lit. f DSGVO, en: Art. 6(1)(f) GDPR}\n",
			slices.Delete(slices.Clone(all), 4, 5), ""},
		{"unknown kind", "processing:\n  legal_basis:\n    chats: {de: x, en: x}\n", nil, `p.yaml:3: unknown key "chats" in processing.legal_basis`},
		{"unknown key", "processing:\n  controler: {de: x, en: x}\n", nil, `p.yaml:2: unknown key "controler" in processing`},
		{"one language", "processing:\n  recipients: {de: Polizei}\n", nil, `missing key "en"`},
		{"blank", "processing:\n  recipients: {de: \" \", en: x}\n", nil, "processing.recipients.de must not be empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tc.yaml))
			if tc.missing == nil {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.errPart) {
					t.Fatalf("error %v, want one containing %q", err, tc.errPart)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Processing.Missing(); !slices.Equal(got, tc.missing) {
				t.Fatalf("missing %v, want %v", got, tc.missing)
			}
		})
	}
}

func TestRecordOfProcessing(t *testing.T) {
	p, err := Parse("p.yaml", []byte(`capture_window: 48h
processing:
  recipients: {de: Polizei nach § 158 StPO, en: Police under s. 158 StPO}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := p.RecordOfProcessing()
	var kinds []DataKind
	for _, a := range r.Activities {
		kinds = append(kinds, a.Kind)
		for field, txt := range map[string]Text{"name": a.Name, "data": a.Data, "subjects": a.Subjects, "purpose": a.Purpose,
			"legal basis": a.LegalBasis, "retention": a.Retention, "access": a.Access, "recipients": a.Recipients} {
			if txt.DE == "" || txt.EN == "" {
				t.Errorf("%s: %s lacks a language: %+v", a.Kind, field, txt)
			}
		}
	}
	if want := DataKinds()[:len(DataKinds())-1]; !slices.Equal(kinds, want) {
		t.Fatalf("activities %v, want %v (no identity provider without an oidc section)", kinds, want)
	}
	byKind := func(k DataKind) Activity { return r.Activities[slices.Index(kinds, k)] }
	if got := byKind(DataCaptures).Retention.DE; !strings.HasPrefix(got, "2 Tage ab Empfang") {
		t.Errorf("captures retention %q, want it to start with the capture window of 2 days", got)
	}
	if got := byKind(DataEvidence).Retention.EN; !strings.Contains(got, "Suspected child sexual abuse material (CSAM): 365 days") {
		t.Errorf("evidence retention %q lacks the CSAM category's 365 days", got)
	}
	if got := byKind(DataEvidence).Recipients.DE; got != "Polizei nach § 158 StPO" {
		t.Errorf("evidence recipients %q, want the policy's", got)
	}
	if got := byKind(DataEvidence).LegalBasis; got != ToBeFilledIn {
		t.Errorf("evidence legal basis %+v, want it still to be filled in", got)
	}
	if got := byKind(DataAuditLog).Recipients.EN; got != "none" {
		t.Errorf("audit log recipients %q, want none", got)
	}
	if slices.Contains(r.Missing, "recipients") || !slices.Contains(r.Missing, "controller") {
		t.Errorf("missing %v: recipients is filled in, controller is not", r.Missing)
	}
	if r.Measures.DE == "" || r.Measures.EN == "" {
		t.Errorf("measures %+v lack a language", r.Measures)
	}
	if r.TimeZone != "Europe/Berlin" || r.WhatsAppTransfer.LegalBasis != ToBeFilledIn || !strings.Contains(r.WhatsAppTransfer.Description.DE, "Meta") {
		t.Errorf("time zone %q, transfer %+v", r.TimeZone, r.WhatsAppTransfer)
	}
}

func TestDays(t *testing.T) {
	for _, tc := range []struct {
		d      time.Duration
		de, en string
	}{
		{72 * time.Hour, "3 Tage", "3 days"},
		{24 * time.Hour, "1 Tag", "1 day"},
		{36 * time.Hour, "36 Stunden", "36 hours"},
		{time.Hour, "1 Stunde", "1 hour"},
		{15 * time.Minute, "15 Minuten", "15 minutes"},
		{time.Minute, "1 Minute", "1 minute"},
		{90 * time.Minute, "90 Minuten", "90 minutes"},
	} {
		if got := days(tc.d, "de"); got != tc.de {
			t.Errorf("days(%s, de) = %q, want %q", tc.d, got, tc.de)
		}
		if got := days(tc.d, "en"); got != tc.en {
			t.Errorf("days(%s, en) = %q, want %q", tc.d, got, tc.en)
		}
	}
}
