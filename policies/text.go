package policies

import "strings"

// Text is a user-facing text in German and English. German is the primary
// language; the policy loader requires both.
type Text struct{ DE, EN string }

// In returns the text in lang. "en" (or a tag such as "en-GB", in any case)
// selects English; anything else selects German. If the selected text is
// empty, In falls back to the other language.
func (t Text) In(lang string) string {
	l := strings.ToLower(lang)
	if l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_") {
		if t.EN != "" {
			return t.EN
		}
		return t.DE
	}
	if t.DE != "" {
		return t.DE
	}
	return t.EN
}
