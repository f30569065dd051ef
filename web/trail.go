package web

import (
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// trailRow is one audit entry as people read it: a label instead of the
// action's code, a name and role instead of an account id, the step or
// request it concerns and what came of it. Exports keep the codes.
type trailRow struct {
	Seq     int64
	Time    time.Time
	Code    string // the action's code, for exports and the report's reference
	Action  string // the action's label
	Who     string
	Subject string // the step's name or the request's kind; "" if none
	Outcome string // "" if the action has none
	Hash    string
}

// trailRows labels an incident's trail in l's language. steps name the
// steps the entries refer to by key.
func trailRows(l *localizer, entries []audit.Entry, people map[string]incident.Person, steps []incident.Step) []trailRow {
	titles := map[string]string{}
	for _, st := range steps {
		titles[st.Key] = l.Text(st.Title)
	}
	rows := make([]trailRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, trailRow{Seq: e.Seq, Time: e.Time, Code: e.Action, Action: actionLabel(l, e.Action),
			Who: personLabel(l, e.Actor, people), Subject: trailSubject(l, e, titles), Outcome: trailOutcome(l, e), Hash: e.Hash.String()})
	}
	return rows
}

// actionLabel is the label of an action code. A code without one (an
// entry written by a newer version, or by hand) shows as an unknown
// action rather than as the code.
func actionLabel(l *localizer, code string) string {
	if key := "trail.action." + code; l.Has(key) {
		return l.T(key)
	}
	return l.T("trail.action_unknown")
}

// personLabel names the account that acted, with its role.
func personLabel(l *localizer, id string, people map[string]incident.Person) string {
	if id == incident.System.ID {
		return l.T("trail.system")
	}
	p, ok := people[id]
	if !ok {
		return l.T("trail.unknown_account")
	}
	return p.Name + " (" + l.T("role."+string(p.Role)) + ")"
}

// trailSubject names the step or request an entry concerns.
func trailSubject(l *localizer, e audit.Entry, stepTitles map[string]string) string {
	if key, ok := e.Details["step"]; ok {
		if t, ok := stepTitles[key]; ok {
			return t
		}
		return l.T("trail.step_unknown")
	}
	if kind, ok := e.Details["kind"]; ok {
		if key := "request.kind." + kind; l.Has(key) {
			return l.T(key)
		}
	}
	if pl, ok := e.Details["platform"]; ok {
		if key := "platform." + pl; l.Has(key) {
			return l.T(key)
		}
	}
	return ""
}

// trailOutcome says what came of an action whose label does not say it:
// a deletion on WhatsApp, a securing, an export. (A step's or a
// decision's action is its outcome: "Löschschritt nicht möglich".)
func trailOutcome(l *localizer, e audit.Entry) string {
	var key string
	switch incident.Action(e.Action) {
	case incident.ActionMessageRevoked:
		key = "trail.outcome." + e.Details["outcome"]
	case incident.ActionEvidenceSecured:
		key = "trail.outcome.metadata_only_" + e.Details["metadata_only"]
	case incident.ActionAuditExported:
		key = "trail.outcome.format_" + e.Details["format"]
	case incident.ActionEvidenceOpened:
		// Threshold custody: an opening recorded offline and imported later.
		key = "custody.opening_imported_" + e.Details["imported"]
	default:
		return ""
	}
	if !l.Has(key) {
		return l.T("trail.outcome_unknown")
	}
	return l.T(key)
}
