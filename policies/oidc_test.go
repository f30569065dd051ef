package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

const oidcOK = `oidc:
  claim: roles
  roles:
    Tresor.Leitung: supervisor
    Tresor.Fachkraft: worker
    "8f3c1a2e-0000-4000-8000-000000000001": auditor
  require_oidc_for_all_but_local_admins: true
  provider_enforces_mfa: true
`

func TestOIDCValid(t *testing.T) {
	p, err := Parse("t.yaml", []byte(oidcOK))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	o := p.OIDC
	if !o.Enabled() || o.Claim != "roles" || !o.RequireForAllButLocalAdmins || !o.ProviderEnforcesMFA {
		t.Errorf("OIDC = %+v", o)
	}
	want := []OIDCRole{{"Tresor.Leitung", "supervisor"}, {"Tresor.Fachkraft", "worker"}, {"8f3c1a2e-0000-4000-8000-000000000001", "auditor"}}
	if !slices.Equal(o.Roles, want) {
		t.Errorf("Roles = %+v, want %+v (file order)", o.Roles, want)
	}

	// Defaults of the optional keys, and a numeric-looking group id.
	p, err = Parse("t.yaml", []byte("oidc:\n  claim: groups\n  roles:\n    12345: worker\n"))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if o := p.OIDC; o.RequireForAllButLocalAdmins || o.ProviderEnforcesMFA || o.Roles[0].Value != "12345" {
		t.Errorf("OIDC = %+v", o)
	}

	d, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if d.OIDC.Enabled() {
		t.Errorf("default policy maps OIDC users: %+v", d.OIDC)
	}
}

func TestOIDCRoleFor(t *testing.T) {
	p, err := Parse("t.yaml", []byte(oidcOK))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		values []string
		role   string
		ok     bool
	}{
		{[]string{"Tresor.Fachkraft"}, "worker", true},
		{[]string{"Tresor.Fachkraft", "Tresor.Leitung"}, "supervisor", true}, // first mapping in policy order wins
		{[]string{"other", "8f3c1a2e-0000-4000-8000-000000000001"}, "auditor", true},
		{[]string{"tresor.leitung"}, "", false}, // values are compared exactly
		{nil, "", false},
	}
	for _, tt := range tests {
		role, ok := p.OIDC.RoleFor(tt.values)
		if role != tt.role || ok != tt.ok {
			t.Errorf("RoleFor(%q) = %q, %v; want %q, %v", tt.values, role, ok, tt.role, tt.ok)
		}
	}
}

// TestOIDCStepUp: step-up at the provider is chosen per policy, with its
// age bounded and TOTP the default.
func TestOIDCStepUp(t *testing.T) {
	const base = "oidc:\n  claim: roles\n  roles: {a: worker}\n"
	tests := []struct {
		name       string
		extra      string
		atProvider bool
		age        time.Duration
		acr, amr   []string
	}{
		{"default is totp", "", false, DefaultStepUpMaxAge, nil, nil},
		{"totp", "  step_up: totp\n  step_up_max_age: 2m\n", false, 2 * time.Minute, nil, nil},
		{"provider, auth_time alone (Entra ID)", "  step_up: provider\n", true, 5 * time.Minute, nil, nil},
		{"provider with bounds", "  step_up: provider\n  step_up_max_age: 1m\n", true, time.Minute, nil, nil},
		{"provider upper bound", "  step_up: provider\n  step_up_max_age: 15m\n", true, 15 * time.Minute, nil, nil},
		{"provider with acr and amr (Keycloak)", "  step_up: provider\n  step_up_max_age: 10m\n  step_up_acr: [gold, \"2\"]\n  step_up_amr: [otp, hwk]\n",
			true, 10 * time.Minute, []string{"gold", "2"}, []string{"otp", "hwk"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("t.yaml", []byte(base+tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			o := p.OIDC
			if o.StepUpAtProvider() != tt.atProvider || o.StepUpAge() != tt.age || !slices.Equal(o.StepUpACR, tt.acr) || !slices.Equal(o.StepUpAMR, tt.amr) {
				t.Errorf("OIDC = %+v (at provider %v, age %v)", o, o.StepUpAtProvider(), o.StepUpAge())
			}
		})
	}
	// Without an oidc section nobody signs in at a provider, so nobody
	// steps up there.
	d, err := Parse("t.yaml", []byte("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d.OIDC.StepUpAtProvider() || d.OIDC.StepUpAge() != DefaultStepUpMaxAge {
		t.Errorf("no oidc section: %+v", d.OIDC)
	}
}

func TestOIDCInvalid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		msg  string
	}{
		{"not a mapping", "oidc: roles\n", 1, "oidc must be a mapping"},
		{"missing claim", "oidc:\n  roles: {a: worker}\n", 2, `missing key "claim"`},
		{"missing roles", "oidc:\n  claim: roles\n", 2, `missing key "roles"`},
		{"unknown key", "oidc:\n  claim: roles\n  roles: {a: worker}\n  issuer: https://x\n", 4, `unknown key "issuer" in oidc`},
		{"claim with space", "oidc:\n  claim: my roles\n  roles: {a: worker}\n", 2, "must be a claim name"},
		{"empty claim", "oidc:\n  claim: \"\"\n  roles: {a: worker}\n", 2, "must be a claim name"},
		{"claim not a string", "oidc:\n  claim: [roles]\n  roles: {a: worker}\n", 2, "oidc.claim must be a string"},
		{"roles as list", "oidc:\n  claim: roles\n  roles: [worker]\n", 3, "oidc.roles must be a mapping"},
		{"empty roles", "oidc:\n  claim: roles\n  roles: {}\n", 3, "must map at least one"},
		{"unknown role", "oidc:\n  claim: roles\n  roles:\n    a: boss\n", 4, `role "boss" for "a" must be one of`},
		{"role as list", "oidc:\n  claim: roles\n  roles:\n    a: [worker]\n", 4, "must be a string"},
		{"duplicate value", "oidc:\n  claim: roles\n  roles:\n    a: worker\n    a: admin\n", 5, `duplicate claim value "a" (first at line 4)`},
		{"value with spaces", "oidc:\n  claim: roles\n  roles:\n    \" a\": worker\n", 4, "without surrounding spaces"},
		{"empty value", "oidc:\n  claim: roles\n  roles:\n    \"\": worker\n", 4, "without surrounding spaces"},
		{"bool flag as string", "oidc:\n  claim: roles\n  roles: {a: worker}\n  provider_enforces_mfa: \"yes\"\n", 4, "must be true or false"},
		{"require flag as int", "oidc:\n  claim: roles\n  roles: {a: worker}\n  require_oidc_for_all_but_local_admins: 1\n", 4, "must be true or false"},
		{"unknown step-up method", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: sms\n", 4, `oidc.step_up "sms" must be totp or provider`},
		{"step-up as bool", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: true\n", 4, "oidc.step_up must be a string"},
		{"max age too short", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_max_age: 30s\n", 5, "between 1m and 15m"},
		{"max age too long", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_max_age: 1h\n", 5, "between 1m and 15m"},
		{"max age in days", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_max_age: 1d\n", 5, "between 1m and 15m"},
		{"max age fraction", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_max_age: 90.5s\n", 5, "whole seconds"},
		{"max age as number", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_max_age: 300\n", 5, "must be a duration"},
		{"acr as string", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_acr: gold\n", 5, "oidc.step_up_acr must be a list"},
		{"acr empty", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_acr: []\n", 5, "at least one value"},
		{"acr with space", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_acr: [\"a b\"]\n", 5, "without spaces"},
		{"amr duplicate", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: provider\n  step_up_amr: [mfa, mfa]\n", 5, `duplicate value "mfa"`},
		{"acr without provider step-up", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up_acr: [gold]\n", 2, "need step_up: provider"},
		{"amr with totp step-up", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up: totp\n  step_up_amr: [mfa]\n", 2, "need step_up: provider"},
		{"alias in roles", "step_deadline: &r 1h\noidc:\n  claim: roles\n  roles: *r\n", 4, "aliases are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.in))
			var pe *Error
			if !errors.As(err, &pe) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse = %v, want *Error wrapping ErrInvalid", err)
			}
			if tt.line != 0 && pe.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", pe.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

func TestOIDCOverrideReplacesSection(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"10-oidc.yaml": oidcOK,
		"20-oidc.yaml": "oidc:\n  claim: groups\n  roles:\n    tresor-admins: admin\n",
	})
	p, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if o := p.OIDC; o.Claim != "groups" || len(o.Roles) != 1 || o.RequireForAllButLocalAdmins || o.ProviderEnforcesMFA {
		t.Errorf("OIDC after override = %+v, want only the second file's section", o)
	}
}
