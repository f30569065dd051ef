package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// listView is the incident list: a worker's own ("Meine Meldungen"),
// everyone's for supervisors and auditors.
type listView struct {
	Rows    []listRow
	Own     bool
	CanFlag bool
	// Page is the current page (1 = newest); Prev and Next are the
	// neighbouring pages, 0 when there is none.
	Page, Prev, Next int
}

// listPageSize is how many incidents one page shows.
const listPageSize = 50

// incidentList lists the incidents the user may see, newest first, a
// page at a time (?page=N).
func (s *Server) incidentList(c *gin.Context) {
	a := actor(c)
	page, err := strconv.Atoi(c.DefaultQuery("page", "1"))
	if err != nil || page < 1 || page > 100000 {
		s.failStatus(c, http.StatusBadRequest)
		return
	}
	// One more than a page tells whether an older page exists.
	incs, err := s.svc.Incidents(c.Request.Context(), a, incident.IncidentFilter{Limit: listPageSize + 1, Offset: (page - 1) * listPageSize, Brief: true})
	if err != nil {
		s.fail(c, err)
		return
	}
	v := listView{Own: a.Role == incident.RoleWorker, CanFlag: a.Role == incident.RoleWorker || a.Role == incident.RoleSupervisor, Page: page}
	if len(incs) > listPageSize {
		incs, v.Next = incs[:listPageSize], page+1
	}
	if page > 1 {
		v.Prev = page - 1
	}
	v.Rows = s.listRows(s.localizer(st(c).lang), incs)
	s.render(c, http.StatusOK, "incident_list", v)
}

// listRow is one line of the list, already in the reader's language:
// formatting here instead of in the template keeps long lists cheap.
type listRow struct {
	ID, Label, State, StateLabel string
}

func (s *Server) listRows(l *localizer, incs []incident.Incident) []listRow {
	names := s.categoryLabels(l)
	rows := make([]listRow, len(incs))
	for i, inc := range incs {
		rows[i] = listRow{ID: inc.ID, Label: s.incidentLabel(l, names, inc), State: string(inc.State),
			StateLabel: l.T("state." + string(inc.State))}
	}
	return rows
}

// categoryNames maps category ids to their names.
func (s *Server) categoryNames() map[string]policies.Text {
	out := map[string]policies.Text{}
	for _, c := range s.policy.Categories {
		out[c.ID] = c.Name
	}
	return out
}
