package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
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
		{"step-up not yet a setting", "oidc:\n  claim: roles\n  roles: {a: worker}\n  step_up_max_age: 5m\n", 4, `unknown key "step_up_max_age" in oidc`},
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
