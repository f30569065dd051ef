package policies

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// categories decodes the categories list and merges it into p by id.
func (d *decoder) categories(p *Policy, n *yaml.Node) error {
	seen := map[string]int{}
	var cats []Category
	err := d.sequence(n, "categories", func(i int, item *yaml.Node) error {
		c, err := d.category(i, item)
		if err != nil {
			return err
		}
		if line, dup := seen[c.ID]; dup {
			return d.errorf(item, "duplicate category id %q (first at line %d)", c.ID, line)
		}
		seen[c.ID] = item.Line
		cats = append(cats, c)
		return nil
	})
	if err != nil {
		return err
	}
	if len(cats) == 0 {
		return d.errorf(n, "categories must not be empty")
	}
	for _, c := range cats {
		if i := slices.IndexFunc(p.Categories, func(o Category) bool { return o.ID == c.ID }); i >= 0 {
			p.Categories[i] = c
		} else {
			p.Categories = append(p.Categories, c)
		}
	}
	return nil
}

func (d *decoder) category(i int, n *yaml.Node) (Category, error) {
	what := fmt.Sprintf("categories[%d]", i)
	if id, ok := peekID(n); ok {
		what = fmt.Sprintf("category %q", id)
	}
	var (
		c                          Category
		securingNode, approvalNode *yaml.Node
		restrictedNode             *yaml.Node
	)
	err := d.mapping(n, what, map[string]func(*yaml.Node) error{
		"id": func(v *yaml.Node) (err error) {
			c.ID, err = d.id(v, what+" id")
			return err
		},
		"name": func(v *yaml.Node) (err error) {
			c.Name, err = d.text(v, what+" name")
			return err
		},
		"description": func(v *yaml.Node) (err error) {
			c.Description, err = d.text(v, what+" description")
			return err
		},
		"securing": func(v *yaml.Node) error {
			s, err := d.str(v, what+" securing")
			if err != nil {
				return err
			}
			switch m := SecuringMode(s); m {
			case SecureContent, SecureMetadataOnly:
				c.Securing = m
			default:
				return d.errorf(v, "%s: unknown securing mode %q (want %q or %q)", what, clip(s), SecureContent, SecureMetadataOnly)
			}
			securingNode = v
			return nil
		},
		"legal_basis": func(v *yaml.Node) error {
			s, err := d.str(v, what+" legal_basis")
			c.LegalBasis = strings.TrimSpace(s)
			return err
		},
		"restricted": func(v *yaml.Node) (err error) {
			restrictedNode = v
			c.Restricted, err = d.boolean(v, what+" restricted")
			return err
		},
		"require_approval": func(v *yaml.Node) (err error) {
			c.RequireApproval, err = d.boolean(v, what+" require_approval")
			return err
		},
		"approvals": func(v *yaml.Node) error {
			a, err := d.integer(v, what+" approvals")
			if err != nil {
				return err
			}
			if a < 0 || a > 100 {
				return d.errorf(v, "%s approvals must be between 0 and 100, not %d", what, a)
			}
			c.Approvals = int(a)
			approvalNode = v
			return nil
		},
		"retention": func(v *yaml.Node) (err error) {
			c.Retention, err = d.duration(v, what+" retention")
			return err
		},
		"manual_deletion": func(v *yaml.Node) (err error) {
			c.ManualDeletion, err = d.boolean(v, what+" manual_deletion")
			return err
		},
		"extra_steps": func(v *yaml.Node) (err error) {
			c.ExtraSteps, err = d.steps(v, what+" extra_steps")
			return err
		},
	}, "id", "name", "description", "securing", "require_approval", "retention")
	if err != nil {
		return Category{}, err
	}
	if c.Restricted && c.Securing == SecureContent && c.LegalBasis == "" {
		return Category{}, d.errorf(securingNode,
			"%s is restricted and secures content but names no legal_basis: copying suspected CSAM may itself be possession under §184b StGB; use securing: metadata or name the legal basis", what)
	}
	if c.ID == "csam" && !c.Restricted {
		at := n
		if restrictedNode != nil {
			at = restrictedNode
		}
		return Category{}, d.errorf(at, "%s must be restricted: its content falls under §184b StGB", what)
	}
	if c.Approvals > 0 && !c.RequireApproval {
		return Category{}, d.errorf(approvalNode, "%s sets approvals but require_approval is false", what)
	}
	return c, nil
}
