package policies

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

var (
	usernameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)
	phoneRE     = regexp.MustCompile(`^\+?[0-9]+([ /-]?[0-9]+)*$`)
	mediaTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)
)

// policy applies the YAML document doc on top of p, following the
// override rules in the package documentation.
func (d *decoder) policy(p *Policy, doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	n := doc.Content[0]
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // an empty document changes nothing
	}
	return d.mapping(n, "policy", map[string]func(*yaml.Node) error{
		"four_eyes": func(v *yaml.Node) error {
			fe, err := d.fourEyes(v)
			p.FourEyes = fe
			return err
		},
		"categories": func(v *yaml.Node) error {
			return d.categories(p, v)
		},
		"emergency_contacts": func(v *yaml.Node) error {
			cs, err := d.contacts(v)
			p.EmergencyContacts = cs
			return err
		},
		"walkthrough": func(v *yaml.Node) error {
			return d.walkthrough(p, v)
		},
		"step_deadline": func(v *yaml.Node) (err error) {
			p.StepDeadline, err = d.duration(v, "step_deadline")
			return err
		},
		"escalate_to": func(v *yaml.Node) (err error) {
			p.EscalateTo, err = d.usernames(v)
			return err
		},
		"capture_window": func(v *yaml.Node) (err error) {
			p.CaptureWindow, err = d.duration(v, "capture_window")
			return err
		},
		"upload_max_bytes": func(v *yaml.Node) error {
			n, err := d.integer(v, "upload_max_bytes")
			if err != nil {
				return err
			}
			if n <= 0 {
				return d.errorf(v, "upload_max_bytes must be positive, not %d", n)
			}
			p.UploadMaxBytes = n
			return nil
		},
		"upload_types": func(v *yaml.Node) error {
			ts, err := d.uploadTypes(v)
			p.UploadTypes = ts
			return err
		},
		"flag_emoji": func(v *yaml.Node) error {
			s, err := d.str(v, "flag_emoji")
			if err != nil {
				return err
			}
			if s != "" && !isEmoji(s) {
				return d.errorf(v, "flag_emoji %q must be a single emoji or empty", clip(s))
			}
			p.FlagEmoji = s
			return nil
		},
		"time_zone": func(v *yaml.Node) (err error) {
			loc, err := d.timeZone(v)
			if err == nil {
				p.TimeZone = loc
			}
			return err
		},
		"processing": func(v *yaml.Node) error {
			pr, err := d.processing(v)
			p.Processing = pr
			return err
		},
		"flag_label": func(v *yaml.Node) error {
			s, err := d.str(v, "flag_label")
			if err != nil {
				return err
			}
			if s != strings.TrimSpace(s) || utf8.RuneCountInString(s) > 64 || strings.ContainsFunc(s, unicode.IsControl) {
				return d.errorf(v, "flag_label %q must be a label name of at most 64 characters without surrounding spaces", clip(s))
			}
			p.FlagLabel = s
			return nil
		},
		"oidc": func(v *yaml.Node) (err error) {
			p.OIDC, err = d.oidc(v)
			return err
		},
		"media_hash_mismatch": func(v *yaml.Node) error {
			s, err := d.str(v, "media_hash_mismatch")
			if err != nil {
				return err
			}
			switch m := MediaMismatch(s); m {
			case MediaMismatchSeal, MediaMismatchRefuse:
				p.MediaHashMismatch = m
				return nil
			}
			return d.errorf(v, "media_hash_mismatch %q must be seal or refuse", clip(s))
		},
	})
}

// isEmoji is a loose check that s looks like one emoji (possibly with
// modifiers or joiners): valid UTF-8, short, no ASCII, no spaces.
func isEmoji(s string) bool {
	if !utf8.ValidString(s) || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if r < utf8.RuneSelf || unicode.IsSpace(r) || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// fourEyes decodes the four_eyes section. Omitted keys take the built-in
// defaults, not the values of an earlier file: the section is replaced.
func (d *decoder) fourEyes(n *yaml.Node) (FourEyes, error) {
	fe := builtin().FourEyes
	err := d.mapping(n, "four_eyes", map[string]func(*yaml.Node) error{
		"approvals": func(v *yaml.Node) error {
			a, err := d.integer(v, "four_eyes.approvals")
			if err != nil {
				return err
			}
			if a < 1 || a > 100 {
				return d.errorf(v, "four_eyes.approvals must be between 1 and 100, not %d", a)
			}
			fe.Approvals = int(a)
			return nil
		},
		"request_ttl": func(v *yaml.Node) (err error) {
			fe.RequestTTL, err = d.duration(v, "four_eyes.request_ttl")
			return err
		},
		"download_links": func(v *yaml.Node) error {
			n, err := d.integer(v, "four_eyes.download_links")
			if err != nil {
				return err
			}
			if n < 1 || n > 10 {
				return d.errorf(v, "four_eyes.download_links must be between 1 and 10, not %d", n)
			}
			fe.DownloadLinks = int(n)
			return nil
		},
	})
	return fe, err
}

func (d *decoder) contacts(n *yaml.Node) ([]EmergencyContact, error) {
	var cs []EmergencyContact
	err := d.sequence(n, "emergency_contacts", func(i int, item *yaml.Node) error {
		what := fmt.Sprintf("emergency_contacts[%d]", i)
		var c EmergencyContact
		err := d.mapping(item, what, map[string]func(*yaml.Node) error{
			"name": func(v *yaml.Node) (err error) {
				c.Name, err = d.text(v, what+" name")
				return err
			},
			"phone": func(v *yaml.Node) error {
				// Accept unquoted numbers such as 110, which YAML reads
				// as integers, but check the literal text.
				if err := d.scalar(v, what+" phone", "a phone number", "!!str", "!!int", "!!float"); err != nil {
					return err
				}
				if !phoneRE.MatchString(v.Value) {
					return d.errorf(v, "%s phone %q must be a phone number of digits and spaces, such as \"116 111\"", what, clip(v.Value))
				}
				c.Phone = v.Value
				return nil
			},
			"note": func(v *yaml.Node) (err error) {
				c.Note, err = d.text(v, what+" note")
				return err
			},
		}, "name", "phone")
		cs = append(cs, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, d.errorf(n, "emergency_contacts must not be empty")
	}
	return cs, nil
}

func (d *decoder) uploadTypes(n *yaml.Node) ([]string, error) {
	ts := []string{}
	seen := map[string]int{}
	err := d.sequence(n, "upload_types", func(i int, item *yaml.Node) error {
		s, err := d.str(item, fmt.Sprintf("upload_types[%d]", i))
		if err != nil {
			return err
		}
		if !mediaTypeRE.MatchString(s) {
			return d.errorf(item, "upload type %q is not of the form type/subtype (lowercase, no wildcards or parameters)", clip(s))
		}
		if line, dup := seen[s]; dup {
			return d.errorf(item, "duplicate upload type %q (first at line %d)", clip(s), line)
		}
		seen[s] = item.Line
		ts = append(ts, s)
		return nil
	})
	return ts, err
}

// usernames decodes escalate_to: a list of distinct account names.
func (d *decoder) usernames(n *yaml.Node) ([]string, error) {
	names := []string{}
	seen := map[string]int{}
	err := d.sequence(n, "escalate_to", func(i int, item *yaml.Node) error {
		s, err := d.str(item, fmt.Sprintf("escalate_to[%d]", i))
		if err != nil {
			return err
		}
		if !usernameRE.MatchString(s) {
			return d.errorf(item, "escalate_to: %q is not a user name (2-63 lowercase letters, digits, '.', '_' or '-')", clip(s))
		}
		if line, dup := seen[s]; dup {
			return d.errorf(item, "escalate_to: duplicate user name %q (first at line %d)", clip(s), line)
		}
		seen[s] = item.Line
		names = append(names, s)
		return nil
	})
	return names, err
}
