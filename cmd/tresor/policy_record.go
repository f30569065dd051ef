package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/tresor-evidence/tresor/policies"
)

func (c *cli) cmdPolicyRecord(ctx context.Context, args []string) error {
	fs := c.flags("policy record", "policy record [--lang de|en] [--format text|markdown] [DIR]\n\n"+
		"Prints the record of processing activities (Art. 30 GDPR) generated from the policy: the embedded\n"+
		"defaults with the YAML files in DIR (default: TRESOR_POLICY_DIR) applied on top. Entries the\n"+
		"policy's processing section does not fill in read \"noch einzutragen\" and are listed at the end.")
	lang := fs.String("lang", "de", "language: de or en")
	format := fs.String("format", "text", "text or markdown")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *lang != "de" && *lang != "en" {
		return usageError("--lang %q: want de or en", *lang)
	}
	var md bool
	switch *format {
	case "text":
	case "markdown", "md":
		md = true
	default:
		return usageError("--format %q: want text or markdown", *format)
	}
	p, _, err := c.loadPolicy(fs)
	if err != nil {
		return err
	}
	return writeRecord(c.stdout, p.RecordOfProcessing(), *lang, md)
}

// writeRecord prints the record as plain text or Markdown.
func writeRecord(w io.Writer, r policies.Record, lang string, md bool) error {
	var b strings.Builder
	l := policies.RecordLabels
	t := func(x policies.Text) string { return x.In(lang) }
	heading := func(level int, s string) {
		if md {
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", level), s)
			return
		}
		under := "="
		if level > 1 {
			under = "-"
		}
		fmt.Fprintf(&b, "%s\n%s\n\n", s, strings.Repeat(under, len([]rune(s))))
	}
	field := func(label, value string) {
		if md {
			fmt.Fprintf(&b, "- **%s:** %s\n", label, value)
			return
		}
		fmt.Fprintf(&b, "%s: %s\n", label, value)
	}
	heading(1, t(l.Title))
	fmt.Fprintf(&b, "%s\n\n", t(l.Intro))
	field(t(l.Controller), t(r.Controller))
	field(t(l.DataProtectionOfficer), t(r.DataProtectionOfficer))
	field(t(l.TimeZone), r.TimeZone)
	b.WriteString("\n")
	for i, a := range r.Activities {
		heading(2, fmt.Sprintf("%d. %s", i+1, t(a.Name)))
		for _, f := range a.Fields() {
			field(t(f.Label), t(f.Value))
		}
		b.WriteString("\n")
	}
	heading(2, t(l.Transfer))
	fmt.Fprintf(&b, "%s\n\n", t(r.WhatsAppTransfer.Description))
	field(t(l.TransferBasis), t(r.WhatsAppTransfer.LegalBasis))
	b.WriteString("\n")
	heading(2, t(l.Measures))
	fmt.Fprintf(&b, "%s\n\n", t(r.Measures))
	if len(r.Missing) > 0 {
		heading(2, t(l.Missing))
		fmt.Fprintf(&b, "%s\n\n", t(l.MissingHelp))
		for _, k := range r.Missing {
			if md {
				fmt.Fprintf(&b, "- `processing.%s`\n", k)
			} else {
				fmt.Fprintf(&b, "- processing.%s\n", k)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
