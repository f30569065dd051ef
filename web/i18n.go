package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/policies"
)

//go:embed locales/*.json
var localeFS embed.FS

// languages are the supported languages; the first is the default.
var languages = []string{"de", "en"}

// catalogs holds every language's messages by key.
type catalogs map[string]map[string]string

func loadCatalogs() (catalogs, error) {
	out := catalogs{}
	for _, l := range languages {
		b, err := localeFS.ReadFile("locales/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("web: catalog %s: %w", l, err)
		}
		out[l] = m
	}
	return out, nil
}

// localizer translates for one request, and shows times in the policy's
// time zone.
type localizer struct {
	lang string
	msgs map[string]string
	loc  *time.Location // nil: UTC
}

func (s *Server) localizer(lang string) *localizer {
	return &localizer{lang: lang, msgs: s.catalogs[lang], loc: s.policy.TimeZone}
}

// T returns the message for key, formatted with args. A missing key
// shows as the key itself (the catalog test keeps that from happening).
func (l *localizer) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

// Has reports whether key exists.
func (l *localizer) Has(key string) bool { _, ok := l.msgs[key]; return ok }

// Text picks a policy text in the request's language.
func (l *localizer) Text(t policies.Text) string { return t.In(l.lang) }

// Time formats a time in the policy's time zone for the language. Pages
// name no zone: everyone reading them works in the provider's; the trail
// and the printed report say which it is (Zone).
func (l *localizer) Time(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = l.local(t)
	if l.lang == "en" {
		return t.Format("2006-01-02 15:04")
	}
	return t.Format("02.01.2006 15:04")
}

// Zone names the time zone times are shown in.
func (l *localizer) Zone() string {
	if l.loc == nil {
		return "UTC"
	}
	return l.loc.String()
}

// Zoned formats a time people typed as their phone showed it, in the
// provider's zone, with the zone's name.
func (l *localizer) Zoned(t time.Time) string {
	if t.IsZero() || l.loc == nil {
		return l.Time(t)
	}
	if l.lang == "en" {
		return t.In(l.loc).Format("2006-01-02 15:04 MST")
	}
	return t.In(l.loc).Format("02.01.2006 15:04 MST")
}

// Clock formats the time of day of t, in the policy's time zone, for
// times within the next minutes ("14:35").
func (l *localizer) Clock(t time.Time) string {
	if l.lang == "en" {
		return l.local(t).Format("15:04")
	}
	return l.local(t).Format("15:04") + " Uhr"
}

// local is t in the policy's time zone (UTC without one).
func (l *localizer) local(t time.Time) time.Time {
	if l.loc != nil {
		return t.In(l.loc)
	}
	return t.UTC()
}

// TimePtr formats an optional time.
func (l *localizer) TimePtr(t *time.Time) string {
	if t == nil {
		return "–"
	}
	return l.Time(*t)
}

// Lang is the language code, for <html lang>.
func (l *localizer) Lang() string { return l.lang }

// language picks the request's language: the cookie the user chose,
// else the best supported Accept-Language, else German.
func (s *Server) language(c *gin.Context) string {
	if v, err := c.Cookie(s.cookieName("tresor-lang")); err == nil && supported(v) {
		return v
	}
	return fromAcceptLanguage(c.GetHeader("Accept-Language"))
}

func supported(l string) bool {
	for _, x := range languages {
		if x == l {
			return true
		}
	}
	return false
}

// fromAcceptLanguage returns the supported language with the highest
// q-value in an Accept-Language header, else the default.
func fromAcceptLanguage(h string) string {
	type cand struct {
		lang string
		q    float64
		pos  int
	}
	var cs []cand
	for i, part := range strings.Split(h, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		base, _, _ := strings.Cut(tag, "-")
		q := 1.0
		for _, f := range fields[1:] {
			if v, ok := strings.CutPrefix(strings.TrimSpace(f), "q="); ok {
				if p, err := strconv.ParseFloat(v, 64); err == nil {
					q = p
				}
			}
		}
		if supported(base) && q > 0 {
			cs = append(cs, cand{base, q, i})
		}
	}
	if len(cs) == 0 {
		return languages[0]
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].lang
}
