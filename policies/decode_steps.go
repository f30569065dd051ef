package policies

import (
	"fmt"

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
	}, "id", "title", "body")
	return s, err
}

// walkthrough decodes the walkthrough mapping; each platform given
// replaces that platform's steps in p.
func (d *decoder) walkthrough(p *Policy, n *yaml.Node) error {
	if err := d.expect(n, yaml.MappingNode, "walkthrough", "a mapping"); err != nil {
		return err
	}
	if len(n.Content) == 0 {
		return d.errorf(n, "walkthrough must not be empty")
	}
	handlers := map[string]func(*yaml.Node) error{}
	for _, pl := range Platforms() {
		handlers[string(pl)] = func(v *yaml.Node) error {
			steps, err := d.steps(v, "walkthrough."+string(pl))
			if err != nil {
				return err
			}
			if p.Walkthrough == nil {
				p.Walkthrough = map[Platform][]Step{}
			}
			p.Walkthrough[pl] = steps
			return nil
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && handlers[k.Value] == nil {
			return d.errorf(k, "walkthrough: unknown platform %q (want android, iphone or web)", clip(k.Value))
		}
	}
	return d.mapping(n, "walkthrough", handlers)
}
