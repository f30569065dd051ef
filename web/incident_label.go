package web

import "github.com/tresor-evidence/tresor/incident"

// incidentLabel names an incident for people — its category and when it
// was reported ("Bedrohung · 27.11.2026 08:00") — where a link to it
// would otherwise show its 32-character id.
func (s *Server) incidentLabel(l *localizer, names map[string]string, inc incident.Incident) string {
	cat, ok := names[inc.Category]
	if !ok {
		cat = l.T("incident.uncategorised")
	}
	return l.T("forms.incident_label", cat, l.Time(inc.CreatedAt))
}

// categoryLabels maps category ids to their names in l's language.
func (s *Server) categoryLabels(l *localizer) map[string]string {
	out := map[string]string{}
	for id, name := range s.categoryNames() {
		out[id] = l.Text(name)
	}
	return out
}
