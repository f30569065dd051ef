package policies

import (
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// steps decodes a non-empty list of steps with unique ids.
func (d *decoder) steps(n *yaml.Node, what string) ([]Step, error) {
	seen := map[string]int{}
	var steps []Step
	err := d.sequence(n, what, func(i int, item *yaml.Node) error {
		s, err := d.step(item, fmt.Sprintf("%s[%d]", what, i))
		if err != nil {
			return err
		}
		if line, dup := seen[s.ID]; dup {
			return d.errorf(item, "%s: duplicate step id %q (first at line %d)", what, s.ID, line)
		}
		seen[s.ID] = item.Line
		steps = append(steps, s)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		return nil, d.errorf(n, "%s must list at least one step", what)
	}
	return steps, nil
}

func (d *decoder) step(n *yaml.Node, what string) (Step, error) {
	if id, ok := peekID(n); ok {
		what = fmt.Sprintf("%s (step %q)", what, id)
	}
	var s Step
	err := d.mapping(n, what, map[string]func(*yaml.Node) error{
		"id": func(v *yaml.Node) (err error) {
			s.ID, err = d.id(v, what+" id")
			return err
		},
		"title": func(v *yaml.Node) (err error) {
			s.Title, err = d.text(v, what+" title")
			return err
		},
		"body": func(v *yaml.Node) (err error) {
			s.Body, err = d.text(v, what+" body")
			return err
		},
		"together": func(v *yaml.Node) (err error) {
			s.Together, err = d.text(v, what+" together")
			return err
		},
		"with_young_person": func(v *yaml.Node) (err error) {
			s.WithYoungPerson, err = d.boolean(v, what+" with_young_person")
			return err
		},
		"follow_up": func(v *yaml.Node) (err error) {
			s.FollowUp, err = d.followUp(v, what+" follow_up")
			return err
		},
	}, "id", "title", "body")
	return s, err
}

func (d *decoder) followUp(n *yaml.Node, what string) (*FollowUp, error) {
	var f FollowUp
	err := d.mapping(n, what, map[string]func(*yaml.Node) error{
		"after": func(v *yaml.Node) (err error) {
			f.After, err = d.duration(v, what+".after")
			return err
		},
		"title": func(v *yaml.Node) (err error) {
			f.Title, err = d.text(v, what+" title")
			return err
		},
		"body": func(v *yaml.Node) (err error) {
			f.Body, err = d.text(v, what+" body")
			return err
		},
	}, "after", "title", "body")
	return &f, err
}

// walkthrough decodes the walkthrough mapping of platform keys; each
// platform given replaces that platform's name and steps in p, a new key
// adds a platform.
func (d *decoder) walkthrough(p *Policy, n *yaml.Node) error {
	if err := d.expect(n, yaml.MappingNode, "walkthrough", "a mapping"); err != nil {
		return err
	}
	if len(n.Content) == 0 {
		return d.errorf(n, "walkthrough must not be empty")
	}
	handlers := map[string]func(*yaml.Node) error{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		key, err := d.id(k, "walkthrough platform")
		if err != nil {
			return err
		}
		handlers[key] = func(v *yaml.Node) error {
			g, err := d.platform(Platform(key), v)
			if err != nil {
				return err
			}
			if j := slices.IndexFunc(p.Walkthrough, func(o PlatformGuide) bool { return o.ID == g.ID }); j >= 0 {
				p.Walkthrough[j] = g
			} else {
				p.Walkthrough = append(p.Walkthrough, g)
			}
			return nil
		}
	}
	return d.mapping(n, "walkthrough", handlers)
}

// platform decodes one platform: {name: {de, en}, steps: [...]}.
func (d *decoder) platform(pl Platform, n *yaml.Node) (PlatformGuide, error) {
	what := "walkthrough." + string(pl)
	g := PlatformGuide{ID: pl}
	err := d.mapping(n, what, map[string]func(*yaml.Node) error{
		"name": func(v *yaml.Node) (err error) {
			g.Name, err = d.text(v, what+" name")
			return err
		},
		"steps": func(v *yaml.Node) (err error) {
			g.Steps, err = d.steps(v, what+".steps")
			return err
		},
	}, "name", "steps")
	return g, err
}
