package incident

import (
	"strings"

	"github.com/tresor-evidence/tresor/policies"
)

// followUpSuffix ends the key of the reminder step that replaces a step
// marked not possible (see [policies.FollowUp]).
const followUpSuffix = ".follow_up"

// StepGuide returns the policy's instructions for the incident step st of
// an incident in category: the platform step, the category's extra step
// (key "category.id") or, for a follow-up reminder (key "id.follow_up"),
// the reminder's title and body with the original step's help for going
// through it together. ok is false when the policy no longer has the step,
// for example after a provider changed it; the stored title still names it.
func StepGuide(pol *policies.Policy, category string, st Step) (guide policies.Step, ok bool) {
	if id, isCat := strings.CutPrefix(st.Key, category+"."); isCat && category != "" {
		cat, err := pol.Category(category)
		if err != nil {
			return policies.Step{}, false
		}
		return findStep(cat.ExtraSteps, id)
	}
	steps, err := pol.Steps(st.Platform)
	if err != nil {
		return policies.Step{}, false
	}
	id, isFollowUp := strings.CutSuffix(st.Key, followUpSuffix)
	ps, ok := findStep(steps, id)
	if !ok || !isFollowUp {
		return ps, ok
	}
	if ps.FollowUp == nil {
		return policies.Step{}, false
	}
	return policies.Step{ID: st.Key, Title: ps.FollowUp.Title, Body: ps.FollowUp.Body,
		Together: ps.Together, WithYoungPerson: ps.WithYoungPerson}, true
}

func findStep(steps []policies.Step, id string) (policies.Step, bool) {
	for _, s := range steps {
		if s.ID == id {
			return s, true
		}
	}
	return policies.Step{}, false
}

// followUpFor returns the reminder step that replaces st when it is marked
// not possible, if the policy asks for one. A follow-up has none itself.
func (s *Service) followUpFor(inc Incident, st Step, position int) (Step, bool) {
	if strings.HasSuffix(st.Key, followUpSuffix) {
		return Step{}, false
	}
	g, ok := StepGuide(s.policy, inc.Category, st)
	if !ok || g.FollowUp == nil {
		return Step{}, false
	}
	return Step{IncidentID: inc.ID, Key: st.Key + followUpSuffix, Position: position, Platform: st.Platform,
		Title: g.FollowUp.Title, State: StepOpen, DueAt: s.now().Add(g.FollowUp.After)}, true
}
