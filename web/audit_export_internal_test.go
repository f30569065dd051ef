package web

import (
	"errors"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// TestExportFilterDays: the export's days are the provider's days (the
// ones every page shows), including the 23- and 25-hour days of daylight
// saving; expectations are written out by hand in UTC.
func TestExportFilterDays(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name     string
		loc      *time.Location
		from, to string
		want     incident.AuditFilter
		file     string
	}{
		{"winter day", berlin, "2026-11-27", "2026-11-27",
			incident.AuditFilter{From: utc("2026-11-26T23:00:00Z"), To: utc("2026-11-27T22:59:59.999999Z")}, "tresor-audit-2026-11-27-2026-11-27"},
		{"spring forward (23 h)", berlin, "2026-03-29", "2026-03-29",
			incident.AuditFilter{From: utc("2026-03-28T23:00:00Z"), To: utc("2026-03-29T21:59:59.999999Z")}, "tresor-audit-2026-03-29-2026-03-29"},
		{"fall back (25 h)", berlin, "", "2026-10-25",
			incident.AuditFilter{To: utc("2026-10-25T22:59:59.999999Z")}, "tresor-audit-2026-10-25"},
		{"no zone is UTC", nil, "2026-11-27", "",
			incident.AuditFilter{From: utc("2026-11-27T00:00:00Z")}, "tresor-audit-2026-11-27"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, file, err := exportFilter(exportForm{From: tt.from, To: tt.to}, tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) || file != tt.file {
				t.Errorf("got %v – %v (%s), want %v – %v (%s)", got.From, got.To, file, tt.want.From, tt.want.To, tt.file)
			}
		})
	}
	if _, _, err := exportFilter(exportForm{From: "27.11.2026"}, berlin); !errors.Is(err, incident.ErrInvalidInput) {
		t.Errorf("a German date: %v, want ErrInvalidInput", err)
	}
}
