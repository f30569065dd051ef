package incident

import (
	"time"

	"github.com/tresor-evidence/tresor/policies"
)

// StepState is the progress of one deletion step.
type StepState string

const (
	StepOpen       StepState = "open"
	StepDone       StepState = "done"       // the worker confirmed it
	StepImpossible StepState = "impossible" // the worker says it cannot be done, and why
)

// Step is one thing the worker must do outside Tresor to delete the
// message everywhere (chat, gallery, backups, the young person's copy).
// Title keeps the policy text as it was when the step was generated, so
// the trail stays readable when the policy changes later.
type Step struct {
	IncidentID string
	Key        string // the policy step id, e.g. "cloud_backup"
	Position   int
	Platform   policies.Platform
	Title      policies.Text
	State      StepState
	Reason     string // why it is impossible
	DueAt      time.Time
	DoneAt     *time.Time
	DoneBy     string
	Escalated  bool
}

// open reports whether the step still waits for the worker.
func (s Step) open() bool { return s.State == StepOpen }

// stepsFor builds an incident's walkthrough from the policy: the platform's
// steps, then the category's extra steps (e.g. the police report), each
// due after the policy's deadline.
func stepsFor(pol *policies.Policy, inc *Incident, cat policies.Category, now time.Time) ([]Step, error) {
	platform, err := pol.Steps(inc.Platform)
	if err != nil {
		return nil, err
	}
	var out []Step
	add := func(key string, ps policies.Step) {
		out = append(out, Step{
			IncidentID: inc.ID,
			Key:        key,
			Position:   len(out) + 1,
			Platform:   inc.Platform,
			Title:      ps.Title,
			State:      StepOpen,
			DueAt:      now.Add(pol.StepDeadline),
		})
	}
	// Category steps are prefixed with the category so that their keys
	// never collide with the platform's.
	for _, ps := range cat.ExtraSteps {
		add(cat.ID+"."+ps.ID, ps)
	}
	for _, ps := range platform {
		add(ps.ID, ps)
	}
	return out, nil
}
