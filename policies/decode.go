package policies

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree and reports every problem as an *Error
// located at the offending node. It never follows aliases, so the work is
// linear in the size of the input.
type decoder struct {
	file string
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) error {
	return &Error{File: d.file, Line: n.Line, Msg: fmt.Sprintf(format, args...)}
}

// describe names the kind of n for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str":
			return "a string"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "empty"
		default:
			return fmt.Sprintf("a %s value", n.ShortTag())
		}
	}
	return "unexpected YAML"
}

func (d *decoder) expect(n *yaml.Node, kind yaml.Kind, what, want string) error {
	if n.Kind == yaml.AliasNode {
		return d.errorf(n, "%s: YAML aliases are not supported", what)
	}
	if n.Kind != kind {
		return d.errorf(n, "%s must be %s, not %s", what, want, describe(n))
	}
	return nil
}

// mapping calls the handler registered for each key of the mapping n.
// Unknown, duplicate and missing required keys are errors.
func (d *decoder) mapping(n *yaml.Node, what string, handlers map[string]func(*yaml.Node) error, required ...string) error {
	if err := d.expect(n, yaml.MappingNode, what, "a mapping"); err != nil {
		return err
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errorf(k, "%s: keys must be plain strings", what)
		}
		if line, dup := seen[k.Value]; dup {
			return d.errorf(k, "duplicate key %q in %s (first at line %d)", clip(k.Value), what, line)
		}
		seen[k.Value] = k.Line
		h, ok := handlers[k.Value]
		if !ok {
			return d.errorf(k, "unknown key %q in %s", clip(k.Value), what)
		}
		if err := h(v); err != nil {
			return err
		}
	}
	for _, r := range required {
		if _, ok := seen[r]; !ok {
			return d.errorf(n, "%s: missing key %q", what, r)
		}
	}
	return nil
}

// sequence calls f for each item of the list n.
func (d *decoder) sequence(n *yaml.Node, what string, f func(i int, item *yaml.Node) error) error {
	if err := d.expect(n, yaml.SequenceNode, what, "a list"); err != nil {
		return err
	}
	for i, item := range n.Content {
		if err := f(i, item); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) scalar(n *yaml.Node, what, want string, tags ...string) error {
	if err := d.expect(n, yaml.ScalarNode, what, want); err != nil {
		return err
	}
	for _, t := range tags {
		if n.ShortTag() == t {
			return nil
		}
	}
	return d.errorf(n, "%s must be %s, not %s", what, want, describe(n))
}

func (d *decoder) str(n *yaml.Node, what string) (string, error) {
	if err := d.scalar(n, what, "a string", "!!str"); err != nil {
		return "", err
	}
	return n.Value, nil
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, error) {
	if err := d.scalar(n, what, "true or false", "!!bool"); err != nil {
		return false, err
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, d.errorf(n, "%s must be true or false", what)
	}
	return b, nil
}

func (d *decoder) integer(n *yaml.Node, what string) (int64, error) {
	if err := d.scalar(n, what, "an integer", "!!int"); err != nil {
		return 0, err
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		return 0, d.errorf(n, "%s: integer %q out of range", what, clip(n.Value))
	}
	return v, nil
}

// duration decodes a positive Go duration ("24h", "90m") or a whole number
// of days ("30d").
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, error) {
	const want = `a duration such as "24h" or "30d"`
	if err := d.scalar(n, what, want, "!!str"); err != nil {
		return 0, err
	}
	v, err := parseDuration(n.Value)
	if err != nil {
		return 0, d.errorf(n, "%s: invalid duration %q: %v", what, clip(n.Value), err)
	}
	if v <= 0 {
		return 0, d.errorf(n, "%s must be positive, not %q", what, clip(n.Value))
	}
	return v, nil
}

var (
	daysRE = regexp.MustCompile(`^[0-9]+d$`)
	idRE   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

func parseDuration(s string) (time.Duration, error) {
	if daysRE.MatchString(s) {
		days, err := strconv.ParseInt(strings.TrimSuffix(s, "d"), 10, 64)
		if err != nil || days > int64(time.Duration(1<<63-1)/(24*time.Hour)) {
			return 0, fmt.Errorf("too many days")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`want a Go duration such as "24h" or whole days such as "30d"`)
	}
	return v, nil
}

// peekID returns the value of the "id" key of mapping n, for naming the
// item in error messages before it is decoded.
func peekID(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode {
		return "", false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "id" && v.Kind == yaml.ScalarNode && idRE.MatchString(v.Value) {
			return v.Value, true
		}
	}
	return "", false
}

func (d *decoder) id(n *yaml.Node, what string) (string, error) {
	s, err := d.str(n, what)
	if err != nil {
		return "", err
	}
	if !idRE.MatchString(s) {
		return "", d.errorf(n, "%s %q must start with a-z and contain only a-z, 0-9 and _ (at most 64)", what, clip(s))
	}
	return s, nil
}

// text decodes a {de: ..., en: ...} mapping; both languages are required
// and must not be blank.
func (d *decoder) text(n *yaml.Node, what string) (Text, error) {
	var t Text
	lang := func(dst *string, code string) func(*yaml.Node) error {
		return func(v *yaml.Node) error {
			s, err := d.str(v, what+"."+code)
			if err != nil {
				return err
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return d.errorf(v, "%s.%s must not be empty", what, code)
			}
			*dst = s
			return nil
		}
	}
	err := d.mapping(n, what, map[string]func(*yaml.Node) error{
		"de": lang(&t.DE, "de"),
		"en": lang(&t.EN, "en"),
	}, "de", "en")
	return t, err
}

// clip shortens s for quoting in an error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	i := limit
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
