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
	// StepUp is how an account linked to the identity provider proves
	// itself again for an approval: [StepUpTOTP] (the default: Tresor's
	// own second factor) or [StepUpProvider] (a fresh sign-in at the
	// identity provider, prompt=login with max_age). Local accounts and
	// the API always use TOTP.
	StepUp string
	// StepUpMaxAge is how old the sign-in at the identity provider
	// (the ID token's auth_time) may be for a step-up, and so how long a
	// confirmation stays usable; [DefaultStepUpMaxAge] when not set,
	// between [MinStepUpMaxAge] and [MaxStepUpMaxAge].
	StepUpMaxAge time.Duration
	// StepUpACR, when not empty, lists the authentication context class
	// references (acr) of which the ID token must name one; they are
	// also asked for as acr_values.
	StepUpACR []string
	// StepUpAMR, when not empty, lists authentication methods (amr) of
	// which the ID token must name at least one. Entra ID v2 tokens carry
	// no amr: leave it empty there.
	StepUpAMR []string
}

// Step-up methods of [OIDC.StepUp].
const (
	StepUpTOTP     = "totp"
	StepUpProvider = "provider"
)

// Bounds and default of [OIDC.StepUpMaxAge].
const (
	DefaultStepUpMaxAge = 5 * time.Minute
	MinStepUpMaxAge     = time.Minute
	MaxStepUpMaxAge     = 15 * time.Minute
)

// StepUpAtProvider reports whether accounts linked to the identity
// provider step up by signing in there again.
func (o OIDC) StepUpAtProvider() bool { return o.Enabled() && o.StepUp == StepUpProvider }

// StepUpAge is [OIDC.StepUpMaxAge], or its default when not set.
func (o OIDC) StepUpAge() time.Duration {
	if o.StepUpMaxAge <= 0 {
		return DefaultStepUpMaxAge
	}
	return o.StepUpMaxAge
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
	o.StepUpACR = slices.Clone(o.StepUpACR)
	o.StepUpAMR = slices.Clone(o.StepUpAMR)
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
	o := OIDC{StepUp: StepUpTOTP, StepUpMaxAge: DefaultStepUpMaxAge}
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
		"step_up": func(v *yaml.Node) error {
			s, err := d.str(v, "oidc.step_up")
			if err != nil {
				return err
			}
			if s != StepUpTOTP && s != StepUpProvider {
				return d.errorf(v, "oidc.step_up %q must be totp or provider", clip(s))
			}
			o.StepUp = s
			return nil
		},
		"step_up_max_age": func(v *yaml.Node) (err error) {
			if o.StepUpMaxAge, err = d.duration(v, "oidc.step_up_max_age"); err != nil {
				return err
			}
			if o.StepUpMaxAge < MinStepUpMaxAge || o.StepUpMaxAge > MaxStepUpMaxAge || o.StepUpMaxAge%time.Second != 0 {
				return d.errorf(v, "oidc.step_up_max_age %q must be whole seconds between 1m and 15m", clip(v.Value))
			}
			return nil
		},
		"step_up_acr": func(v *yaml.Node) (err error) {
			o.StepUpACR, err = d.oidcValues(v, "oidc.step_up_acr")
			return err
		},
		"step_up_amr": func(v *yaml.Node) (err error) {
			o.StepUpAMR, err = d.oidcValues(v, "oidc.step_up_amr")
			return err
		},
	}, "claim", "roles")
	if err == nil && o.StepUp != StepUpProvider && (len(o.StepUpACR) > 0 || len(o.StepUpAMR) > 0) {
		return o, d.errorf(n, "oidc.step_up_acr and oidc.step_up_amr need step_up: provider")
	}
	return o, err
}

// oidcValues decodes a non-empty list of distinct acr or amr values:
// printable, without spaces (acr_values is a space-separated list).
func (d *decoder) oidcValues(n *yaml.Node, what string) ([]string, error) {
	var out []string
	err := d.sequence(n, what, func(i int, item *yaml.Node) error {
		s, err := d.str(item, what)
		if err != nil {
			return err
		}
		if !validClaim(s) {
			return d.errorf(item, "%s: %q must be a value without spaces", what, clip(s))
		}
		if slices.Contains(out, s) {
			return d.errorf(item, "%s: duplicate value %q", what, clip(s))
		}
		out = append(out, s)
		return nil
	})
	if err == nil && len(out) == 0 {
		return nil, d.errorf(n, "%s must list at least one value, or be left out", what)
	}
	return out, err
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
