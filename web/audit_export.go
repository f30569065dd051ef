package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// auditExport downloads the audit entries of one incident, or of a period,
// as CSV or JSON Lines (the deletion trail report).
func (s *Server) auditExport(c *gin.Context) {
	var f exportForm
	if err := c.ShouldBindQuery(&f); err != nil {
		s.fail(c, fmt.Errorf("%w: malformed query", incident.ErrInvalidInput))
		return
	}
	body, ctype, name, err := s.exportTrail(c, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, ctype, body)
}

// exportTrail renders the selected entries and records the export in the
// audit log before anything is handed out.
func (s *Server) exportTrail(c *gin.Context, f exportForm) (body []byte, ctype, name string, err error) {
	filter, name, err := exportFilter(f, s.policy.TimeZone)
	if err != nil {
		return nil, "", "", err
	}
	ctx := c.Request.Context()
	a := actor(c)
	entries, err := s.svc.Trail(ctx, a, filter)
	if err != nil {
		return nil, "", "", err
	}
	var buf bytes.Buffer
	format := "csv"
	ctype = "text/csv; charset=utf-8"
	switch f.Format {
	case "jsonl":
		format, ctype, name = "jsonl", "application/x-ndjson", name+".jsonl"
		err = audit.WriteJSONL(&buf, entries)
	default:
		name += ".csv"
		err = audit.WriteCSV(&buf, entries)
	}
	if err != nil {
		return nil, "", "", err
	}
	if err := s.svc.RecordExport(ctx, a, filter, format, len(entries)); err != nil {
		return nil, "", "", err
	}
	return buf.Bytes(), ctype, name, nil
}

// exportFilter turns the form into a filter and a file name. Dates are
// whole days in the policy's time zone, the days people see on every page
// ("to" includes its day, however long daylight saving makes it); nil
// means UTC.
func exportFilter(f exportForm, loc *time.Location) (incident.AuditFilter, string, error) {
	if loc == nil {
		loc = time.UTC
	}
	if f.Format != "" && f.Format != "csv" && f.Format != "jsonl" {
		return incident.AuditFilter{}, "", fmt.Errorf("%w: format is csv or jsonl", incident.ErrInvalidInput)
	}
	id := strings.TrimSpace(f.Incident)
	if id != "" {
		if !idPattern.MatchString(id) {
			return incident.AuditFilter{}, "", fmt.Errorf("incident %q: %w", id, incident.ErrNotFound)
		}
		return incident.AuditFilter{IncidentID: id}, "tresor-audit-" + id, nil
	}
	var out incident.AuditFilter
	name := "tresor-audit"
	for _, d := range []struct {
		raw     string
		into    *time.Time
		nextDay bool
	}{{f.From, &out.From, false}, {f.To, &out.To, true}} {
		if d.raw == "" {
			continue
		}
		t, err := time.ParseInLocation(time.DateOnly, d.raw, loc)
		if err != nil {
			return incident.AuditFilter{}, "", fmt.Errorf("%w: dates are YYYY-MM-DD", incident.ErrInvalidInput)
		}
		if d.nextDay {
			t = t.AddDate(0, 0, 1).Add(-time.Microsecond)
		}
		*d.into = t.UTC()
		name += "-" + d.raw
	}
	return out, name, nil
}
