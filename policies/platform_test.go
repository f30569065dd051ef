package policies

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParsePlatform(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		in   string
		want Platform
	}{
		{"android", "android"},
		{"iphone", "iphone"},
		{"web", "web"},
		{" Web ", "web"},
	} {
		got, err := p.ParsePlatform(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParsePlatform(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "ios", "windows", "android2"} {
		_, err := p.ParsePlatform(in)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "android, iphone, web") {
			t.Errorf("ParsePlatform(%q) error = %v, want ErrInvalid listing the platforms", in, err)
		}
	}
}

// A provider adds a platform in YAML alone; it comes after the default
// platforms and replacing one keeps its place.
func TestPlatformOverride(t *testing.T) {
	p, err := Parse("tablet.yaml", []byte(`walkthrough:
  tablet:
    name: {de: Tablet der Einrichtung, en: The centre's tablet}
    steps:
      - id: chat
        title: {de: Im Chat löschen, en: Delete in the chat}
        body: {de: Lange drücken und löschen., en: "Press and hold, then delete."}
  android:
    name: {de: Diensthandy, en: Work phone}
    steps:
      - id: chat
        title: {de: Im Chat löschen, en: Delete in the chat}
        body: {de: Lange drücken und löschen., en: "Press and hold, then delete."}
`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []Platform
	for _, g := range p.Platforms() {
		ids = append(ids, g.ID)
	}
	if want := []Platform{"android", "iphone", "web", "tablet"}; !slices.Equal(ids, want) {
		t.Errorf("platforms = %v, want %v", ids, want)
	}
	g, err := p.Guide("tablet")
	if err != nil || g.Name.EN != "The centre's tablet" || len(g.Steps) != 1 {
		t.Errorf("Guide(tablet) = %+v, %v", g, err)
	}
	if pl, err := p.ParsePlatform("Tablet"); err != nil || pl != "tablet" {
		t.Errorf("ParsePlatform(Tablet) = %q, %v", pl, err)
	}
	if a, _ := p.Guide("android"); a.Name.DE != "Diensthandy" || len(a.Steps) != 1 {
		t.Errorf("android = %+v, want the override", a)
	}
	def, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := def.ParsePlatform("tablet"); !errors.Is(err, ErrInvalid) {
		t.Errorf("the default policy knows the override's platform: %v", err)
	}
}

// The step that asks the young person to delete offers help for every
// phone platform and leaves a reminder when it is not possible.
func TestDefaultYoungPersonStep(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range p.Platforms() {
		var ask *Step
		together := 0
		for i, s := range g.Steps {
			if s.WithYoungPerson {
				ask = &g.Steps[i]
			}
			if s.Together.DE != "" {
				together++
			}
		}
		if ask == nil || ask.FollowUp == nil || ask.FollowUp.After <= 0 || ask.FollowUp.Title.DE == "" {
			t.Errorf("%s: no step with the young person and a follow-up: %+v", g.ID, ask)
		}
		if together == 0 {
			t.Errorf("%s: no step worded for going through together", g.ID)
		}
	}
}
