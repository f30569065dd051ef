package policies

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// OIDCRoles are the account roles an oidc role mapping may name. They are
// the roles of package incident; policies does not import it, and a test
// there checks that the two lists agree.
var OIDCRoles = []string{"worker", "supervisor", "auditor", "admin"}

// OIDC is the policy's oidc section: how sign-in through the provider's
// identity provider (OpenID Connect) maps a person to a Tresor role.
// Where the identity provider is is server configuration (TRESOR_OIDC_*);
// who gets which role is policy, so that it is reviewed like the rest.
//
// The zero value (no oidc section) maps nobody: sign-in through an
// identity provider then creates no account and lets no one in.
type OIDC struct {
	// Claim names the ID-token claim holding the person's groups or roles,
	// e.g. "roles" (Entra ID app roles, recommended: group claims overflow
	// the token there) or "groups" (Keycloak). Its value is a string or a
	// list of strings.
	Claim string
	// Roles maps claim values to roles, in file order. A person whose
	// claim holds several mapped values gets the role of the first
	// mapping in this list; one with none is refused.
	Roles []OIDCRole
	// RequireForAllButLocalAdmins refuses password sign-in to every
	// account except admins without an identity-provider link (the
	// break-glass admin).
	RequireForAllButLocalAdmins bool
	// ProviderEnforcesMFA says the identity provider itself requires a
	// second factor, so sign-in through it replaces Tresor's own second
	// factor at sign-in (not at approvals, which keep their step-up).
	ProviderEnforcesMFA bool
	// CheckInterval is how often the periodic offboarding check asks the
	// identity provider, with each linked account's refresh token,
	// whether it still accepts the person (offboarding_check_interval,
	// between MinCheckInterval and MaxCheckInterval); 0 means the
	// default, 15 minutes (incident.DefaultProviderCheckInterval).
	CheckInterval time.Duration
}

// Bounds of oidc.offboarding_check_interval: more often would load the
// identity provider for little gain, less often would leave a removed
// person's API tokens working for more than a day.
const (
	MinCheckInterval = time.Minute
	MaxCheckInterval = 24 * time.Hour
)

// OIDCRole is one claim value and the role it grants.
type OIDCRole struct {
	Value string // the claim value as the identity provider sends it
	Role  string // one of [OIDCRoles]
}

// Enabled reports whether the section maps anybody.
func (o OIDC) Enabled() bool { return o.Claim != "" && len(o.Roles) > 0 }

// RoleFor returns the role granted to a person whose claim holds values:
// the role of the first mapping (in policy order) whose value is among
// them. ok is false when none is mapped.
func (o OIDC) RoleFor(values []string) (role string, ok bool) {
	for _, m := range o.Roles {
		if slices.Contains(values, m.Value) {
			return m.Role, true
		}
	}
	return "", false
}

func (o OIDC) clone() OIDC {
	o.Roles = slices.Clone(o.Roles)
	return o
}

// claimRE-like check: an OIDC claim name is a JSON member name; Tresor
// accepts printable names without spaces, as providers use them
// ("roles", "groups", "https://example.org/claims/groups").
func validClaim(s string) bool {
	if s == "" || len(s) > 256 || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// oidc decodes the oidc section. The section is replaced as a whole by an
// override, like four_eyes.
func (d *decoder) oidc(n *yaml.Node) (OIDC, error) {
	var o OIDC
	err := d.mapping(n, "oidc", map[string]func(*yaml.Node) error{
		"claim": func(v *yaml.Node) error {
			s, err := d.str(v, "oidc.claim")
			if err != nil {
				return err
			}
			if !validClaim(s) {
				return d.errorf(v, "oidc.claim %q must be a claim name without spaces, such as roles or groups", clip(s))
			}
			o.Claim = s
			return nil
		},
		"roles": func(v *yaml.Node) (err error) {
			o.Roles, err = d.oidcRoles(v)
			return err
		},
		"require_oidc_for_all_but_local_admins": func(v *yaml.Node) (err error) {
			o.RequireForAllButLocalAdmins, err = d.boolean(v, "oidc.require_oidc_for_all_but_local_admins")
			return err
		},
		"provider_enforces_mfa": func(v *yaml.Node) (err error) {
			o.ProviderEnforcesMFA, err = d.boolean(v, "oidc.provider_enforces_mfa")
			return err
		},
		"offboarding_check_interval": func(v *yaml.Node) error {
			iv, err := d.duration(v, "oidc.offboarding_check_interval")
			if err != nil {
				return err
			}
			if iv < MinCheckInterval || iv > MaxCheckInterval {
				return d.errorf(v, "oidc.offboarding_check_interval %q must be between 1m and 24h", clip(v.Value))
			}
			o.CheckInterval = iv
			return nil
		},
	}, "claim", "roles")
	return o, err
}

// oidcRoles decodes the value → role mapping, keeping file order.
func (d *decoder) oidcRoles(n *yaml.Node) ([]OIDCRole, error) {
	if err := d.expect(n, yaml.MappingNode, "oidc.roles", "a mapping of claim values to roles"); err != nil {
		return nil, err
	}
	var out []OIDCRole
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		// Group ids may look like numbers to YAML; the literal text counts.
		if err := d.scalar(k, "oidc.roles key", "a claim value", "!!str", "!!int", "!!float"); err != nil {
			return nil, err
		}
		val := k.Value
		if strings.TrimSpace(val) != val || val == "" || len(val) > 256 || !utf8.ValidString(val) || strings.ContainsFunc(val, unicode.IsControl) {
			return nil, d.errorf(k, "oidc.roles: %q must be a claim value of at most 256 characters without surrounding spaces", clip(val))
		}
		if line, dup := seen[val]; dup {
			return nil, d.errorf(k, "oidc.roles: duplicate claim value %q (first at line %d)", clip(val), line)
		}
		seen[val] = k.Line
		role, err := d.str(v, "oidc.roles."+clip(val))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(OIDCRoles, role) {
			return nil, d.errorf(v, "oidc.roles: role %q for %q must be one of %s", clip(role), clip(val), strings.Join(OIDCRoles, ", "))
		}
		out = append(out, OIDCRole{Value: val, Role: role})
	}
	if len(out) == 0 {
		return nil, d.errorf(n, "oidc.roles must map at least one claim value to a role")
	}
	return out, nil
}
