package policies

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// recordYAML holds the record's activities: one table, a row per
// [DataKind], German and English side by side, with placeholders where
// the text depends on the policy (recordPlaceholders).
//
//go:embed record.yaml
var recordYAML []byte

// recordActivities are the rows of record.yaml, in the order of DataKinds,
// without legal basis (the policy's) and with placeholders unfilled.
var recordActivities = mustActivities(parseActivities("record.yaml", recordYAML))

func mustActivities(a []Activity, err error) []Activity {
	if err != nil {
		panic(fmt.Sprintf("policies: embedded record: %v", err))
	}
	return a
}

// parseActivities decodes a record table strictly: every key known, every
// text in both languages, the kinds exactly DataKinds in order.
func parseActivities(name string, data []byte) ([]Activity, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("%s: want one YAML document", name)
	}
	d := &decoder{file: name}
	var out []Activity
	err := d.sequence(doc.Content[0], "activities", func(i int, n *yaml.Node) error {
		var a Activity
		what := fmt.Sprintf("activities[%d]", i)
		text := func(dst *Text, key string) func(*yaml.Node) error {
			return func(v *yaml.Node) (err error) {
				*dst, err = d.text(v, what+"."+key)
				return err
			}
		}
		err := d.mapping(n, what, map[string]func(*yaml.Node) error{
			"kind": func(v *yaml.Node) error {
				s, err := d.str(v, what+".kind")
				if want := DataKinds(); err == nil && (i >= len(want) || DataKind(s) != want[i]) {
					return d.errorf(v, "%s.kind %q: want the kinds of DataKinds in their order", what, clip(s))
				}
				a.Kind = DataKind(s)
				return err
			},
			"name":       text(&a.Name, "name"),
			"data":       text(&a.Data, "data"),
			"subjects":   text(&a.Subjects, "subjects"),
			"purpose":    text(&a.Purpose, "purpose"),
			"retention":  text(&a.Retention, "retention"),
			"access":     text(&a.Access, "access"),
			"recipients": text(&a.Recipients, "recipients"),
		}, "kind", "name", "data", "subjects", "purpose", "retention", "access")
		out = append(out, a)
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(out) != len(DataKinds()) {
		return nil, fmt.Errorf("%s: %d activities, want one per kind of data (%d)", name, len(out), len(DataKinds()))
	}
	return out, nil
}

// recordPlaceholders returns what fills a record text's placeholders
// from p, in each language. A text without placeholders is returned as
// it is.
func recordPlaceholders(p *Policy) func(Text) Text {
	evidence := evidenceRetention(p)
	replacer := func(lang string, pick func(Text) string) *strings.Replacer {
		return strings.NewReplacer(
			"{capture_window}", days(p.CaptureWindow, lang),
			"{evidence_retention}", pick(evidence),
			"{recipients}", pick(p.Processing.Recipients),
			"{check_interval}", days(p.OIDC.Interval(), lang),
		)
	}
	de := replacer("de", func(t Text) string { return t.DE })
	en := replacer("en", func(t Text) string { return t.EN })
	return func(t Text) Text {
		return Text{DE: de.Replace(t.DE), EN: en.Replace(t.EN)}
	}
}

// missingProcessing is Processing.Missing without the legal bases of
// kinds the record does not show.
func (p *Policy) missingProcessing() []string {
	m := p.Processing.Missing()
	if !p.OIDC.Enabled() {
		m = slices.DeleteFunc(m, func(k string) bool { return k == "legal_basis."+string(DataIdentityProvider) })
	}
	return m
}

// DefaultCheckInterval is oidc.offboarding_check_interval when the policy
// sets none.
const DefaultCheckInterval = 15 * time.Minute

// Interval is how often the periodic offboarding check runs: the
// policy's offboarding_check_interval, else DefaultCheckInterval.
func (o OIDC) Interval() time.Duration {
	if o.CheckInterval > 0 {
		return o.CheckInterval
	}
	return DefaultCheckInterval
}
