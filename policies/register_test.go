package policies

import (
	"regexp"
	"testing"
)

// informal matches the German "du" register.
var informal = regexp.MustCompile(`(?i)\b(du|dich|dir|dein|deine|deiner|deinen|deinem|deines|euch|euer|eure|euren|eurem)\b`)

// Every German text of the default policy addresses the worker as "Sie",
// as every page does.
func TestDefaultPolicySaysSie(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, tx Text) {
		if m := informal.FindString(tx.DE); m != "" {
			t.Errorf("%s: German text uses %q: %s", where, m, tx.DE)
		}
	}
	steps := func(where string, ss []Step) {
		for _, s := range ss {
			check(where+"."+s.ID+" title", s.Title)
			check(where+"."+s.ID+" body", s.Body)
			check(where+"."+s.ID+" together", s.Together)
			if s.FollowUp != nil {
				check(where+"."+s.ID+" follow_up title", s.FollowUp.Title)
				check(where+"."+s.ID+" follow_up body", s.FollowUp.Body)
			}
		}
	}
	for _, c := range p.Categories {
		check(c.ID+" name", c.Name)
		check(c.ID+" description", c.Description)
		steps(c.ID, c.ExtraSteps)
	}
	for _, g := range p.Platforms() {
		check(string(g.ID)+" name", g.Name)
		steps(string(g.ID), g.Steps)
	}
	for _, c := range p.EmergencyContacts {
		check("contact "+c.Phone, c.Name)
		check("contact "+c.Phone+" note", c.Note)
	}
	if informal.FindString("Leite die Nachricht an niemanden weiter, bevor du fragst.") == "" {
		t.Fatal("the check does not see the informal register")
	}
}
