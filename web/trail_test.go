package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/audit"
	"github.com/tresor-evidence/tresor/policies"
)

// TestTrailActionLabels requires a German and an English label for every
// action the service records (incident.Actions, which a test in package
// incident keeps complete), and checks a few by wording.
func TestTrailActionLabels(t *testing.T) {
	e := newEnv(t)
	de, en := e.srv.localizer("de"), e.srv.localizer("en")
	for _, a := range incident.Actions() {
		for _, l := range []*localizer{de, en} {
			key := "trail.action." + string(a)
			if !l.Has(key) || strings.TrimSpace(l.T(key)) == "" {
				t.Errorf("%s: no %s label (%s)", a, l.lang, key)
			} else if got := l.T(key); got == string(a) || strings.Contains(got, ".") {
				t.Errorf("%s: %s label %q is a code, not a label", a, l.lang, got)
			}
		}
	}
	for _, tc := range []struct {
		code   incident.Action
		de, en string
	}{
		{incident.ActionIncidentFlagged, "Meldung angelegt", "Incident reported"},
		{incident.ActionRequestApproved, "Anfrage freigegeben", "Request approved"},
		{incident.ActionMessageRevoked, "Löschen auf WhatsApp", "Deletion on WhatsApp"},
		{incident.ActionStepDone, "Löschschritt erledigt", "Deletion step done"},
		{incident.ActionStepImpossible, "Löschschritt nicht möglich", "Deletion step not possible"},
		{incident.ActionEvidenceDestroyed, "Beweis vernichtet", "Evidence destroyed"},
		{incident.ActionAuditExported, "Audit-Spur exportiert", "Audit trail exported"},
		{incident.Action(incident.AuthStepUpFailed), "Falscher Einmalcode bei einer Entscheidung", "Wrong one-time code on a decision"},
	} {
		if got := actionLabel(de, string(tc.code)); got != tc.de {
			t.Errorf("%s in German: %q, want %q", tc.code, got, tc.de)
		}
		if got := actionLabel(en, string(tc.code)); got != tc.en {
			t.Errorf("%s in English: %q, want %q", tc.code, got, tc.en)
		}
	}
	// Every outcome the trail can name has a label, too.
	var outcomes []string
	for _, o := range []incident.RevokeOutcome{incident.RevokedForEveryone, incident.DeletedForMe, incident.RevokeNotPossible, incident.RevokeLeftToWorker} {
		outcomes = append(outcomes, "trail.outcome."+string(o))
	}
	outcomes = append(outcomes, "trail.outcome.metadata_only_true", "trail.outcome.metadata_only_false", "trail.outcome.format_csv", "trail.outcome.format_jsonl",
		"trail.outcome.format_json", "trail.outcome.format_"+incident.ExportReport)
	for _, k := range outcomes {
		for _, l := range []*localizer{de, en} {
			if !l.Has(k) {
				t.Errorf("no %s label %s", l.lang, k)
			}
		}
	}
}

// TestTrailRows: what each kind of entry reads as, in German.
func TestTrailRows(t *testing.T) {
	e := newEnv(t)
	l := e.srv.localizer("de")
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	people := map[string]incident.Person{"u1": {ID: "u1", Name: "Wanda Weber", Role: incident.RoleWorker}, "u2": {ID: "u2", Name: "susi", Role: incident.RoleSupervisor}}
	steps := []incident.Step{{Key: "gallery", Title: policies.Text{DE: "Aus der Galerie löschen", EN: "Delete from the gallery"}}}
	for _, tc := range []struct {
		name  string
		entry audit.Entry
		want  trailRow
	}{
		{"flag", audit.Entry{Actor: "u1", Action: "incident.flagged"},
			trailRow{Action: "Meldung angelegt", Who: "Wanda Weber (Fachkraft)"}},
		{"revoke not possible", audit.Entry{Actor: "system", Action: "message.revoked", Details: map[string]string{"outcome": "not_possible"}},
			trailRow{Action: "Löschen auf WhatsApp", Who: "Tresor (automatisch)", Outcome: "nicht möglich"}},
		{"revoked for everyone", audit.Entry{Actor: "system", Action: "message.revoked", Details: map[string]string{"outcome": "revoked_for_everyone"}},
			trailRow{Action: "Löschen auf WhatsApp", Who: "Tresor (automatisch)", Outcome: "für alle gelöscht"}},
		{"step impossible", audit.Entry{Actor: "u1", Action: "step.impossible", Details: map[string]string{"step": "gallery", "state": "impossible"}},
			trailRow{Action: "Löschschritt nicht möglich", Who: "Wanda Weber (Fachkraft)", Subject: "Aus der Galerie löschen"}},
		{"step done", audit.Entry{Actor: "u1", Action: "step.done", Details: map[string]string{"step": "gallery"}},
			trailRow{Action: "Löschschritt erledigt", Who: "Wanda Weber (Fachkraft)", Subject: "Aus der Galerie löschen"}},
		{"step of another walkthrough", audit.Entry{Actor: "system", Action: "step.escalated", Details: map[string]string{"step": "icloud"}},
			trailRow{Action: "Löschschritt überfällig, an die Leitung gemeldet", Who: "Tresor (automatisch)", Subject: "unbekannter Schritt"}},
		{"rejected", audit.Entry{Actor: "u2", Action: "request.rejected", Details: map[string]string{"kind": "secure", "approve": "false"}},
			trailRow{Action: "Anfrage abgelehnt", Who: "susi (Leitung)", Subject: "Sicherung"}},
		{"metadata only", audit.Entry{Actor: "system", Action: "evidence.secured", Details: map[string]string{"metadata_only": "true"}},
			trailRow{Action: "Beweis gesichert", Who: "Tresor (automatisch)", Outcome: "nur Metadaten"}},
		{"report", audit.Entry{Actor: "u2", Action: "audit.exported", Details: map[string]string{"format": "report"}},
			trailRow{Action: "Audit-Spur exportiert", Who: "susi (Leitung)", Outcome: "Löschnachweis zum Drucken"}},
		{"opening imported", audit.Entry{Actor: "u2", Action: "evidence.opened", Details: map[string]string{"imported": "true", "bundle": "0123456789abcdef"}},
			trailRow{Action: "Beweis mit Tresor-Schlüsseln geöffnet", Who: "susi (Leitung)", Outcome: "offline geöffnet, nachträglich eingetragen"}},
		{"unknown action, account, outcome", audit.Entry{Actor: "deadbeef", Action: "future.thing"},
			trailRow{Action: "unbekannte Aktion", Who: "unbekanntes Konto"}},
		{"unknown outcome", audit.Entry{Actor: "system", Action: "message.revoked", Details: map[string]string{"outcome": "teleported"}},
			trailRow{Action: "Löschen auf WhatsApp", Who: "Tresor (automatisch)", Outcome: "unbekanntes Ergebnis"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.entry.Seq, tc.entry.Time = 7, at
			rows := trailRows(l, []audit.Entry{tc.entry}, people, steps)
			tc.want.Seq, tc.want.Time, tc.want.Code, tc.want.Hash = 7, at, tc.entry.Action, tc.entry.Hash.String()
			if len(rows) != 1 || rows[0] != tc.want {
				t.Fatalf("rows %+v\nwant %+v", rows, tc.want)
			}
		})
	}
	// Times show in the policy's zone, without "UTC".
	if got := l.Time(at); got != "27.11.2026 09:00" {
		t.Errorf("08:00 UTC in November shows as %q, want 27.11.2026 09:00 (Berlin)", got)
	}
	if got := e.srv.localizer("en").Time(time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)); got != "2026-07-01 10:00" {
		t.Errorf("08:00 UTC in July shows as %q in English, want 2026-07-01 10:00 (Berlin summer time)", got)
	}
}

func TestIncidentReportPage(t *testing.T) {
	e := newEnv(t)
	id := e.flag(e.as("wanda"), "wamidreport", "violence")
	anna := e.as("anna")
	w := anna.get("/incidents/" + id + "/report")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Löschnachweis", "Träger", "noch einzutragen", "Gemeldet von", "wanda (Fachkraft)", "Meldung angelegt",
		"Zeiten in der Zeitzone Europe/Berlin.", "27.11.2026 09:00", "Erstellt am 27.11.2026 09:00 von anna (Datenschutz).",
		"Prüfsummen der Einträge", `<span class="mono">incident.flagged</span>`)
	if body := w.Body.String(); strings.Contains(body, "UTC") || strings.Contains(body, "Bild einer") {
		t.Error("the report shows UTC or the description")
	}
	es, err := e.svc.Trail(e.ctx, e.users["anna"].Actor(), incident.AuditFilter{IncidentID: id})
	if err != nil {
		t.Fatal(err)
	}
	if last := es[len(es)-1]; last.Action != string(incident.ActionAuditExported) || last.Details["format"] != "report" {
		t.Fatalf("last entry %s %v, want the report recorded as an export", last.Action, last.Details)
	}
	anna.header.Set("Accept-Language", "en")
	w = anna.get("/incidents/" + id + "/report")
	wantBody(t, w, "Deletion-trail report", "Reported by", "wanda (Worker)", "Incident reported", "to be filled in", "2026-11-27 09:00")
	wantStatus(t, anna.get("/incidents/nosuch/report"), http.StatusNotFound)
	// The incident page links to it, for auditors only.
	anna.header.Del("Accept-Language")
	wantBody(t, anna.get("/incidents/"+id), `href="/incidents/`+id+`/report"`, "Löschnachweis drucken")
	if strings.Contains(e.as("susi").get("/incidents/"+id).Body.String(), "/report") {
		t.Error("a supervisor's incident page links to the auditor's report")
	}
}

func TestProcessingRecordPage(t *testing.T) {
	e := newEnv(t)
	anna := e.as("anna")
	w := anna.get("/audit/record")
	wantStatus(t, w, http.StatusOK)
	wantBody(t, w, "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)", "10 Angaben fehlen noch", "processing.controller",
		"Meldungen", "Vorgehaltene WhatsApp-Nachrichten", "Gesicherte Beweise (Tresor)", "Audit-Protokoll", "Benutzerkonten",
		"WhatsApp-Gerätedaten", "Übermittlung an WhatsApp (Meta)", "Technische und organisatorische Maßnahmen (allgemein)", `class="missing">noch einzutragen`, "3 Tage ab Empfang", "tresor policy record")
	wantBody(t, anna.get("/audit"), `href="/audit/record"`)

	pol, err := policies.Parse("record.yaml", []byte(`processing:
  controller: {de: Jugendhilfe Beispielstadt e. V., en: Jugendhilfe Beispielstadt e. V.}
  data_protection_officer: {de: datenschutz@example.org, en: datenschutz@example.org}
`))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.policy = pol
	anna.header.Set("Accept-Language", "en")
	w = anna.get("/audit/record")
	wantBody(t, w, "Record of processing activities (Art. 30 GDPR)", "8 entries are still missing", "Jugendhilfe Beispielstadt e. V.",
		"datenschutz@example.org", "Secured evidence (vault)", "Transfer to WhatsApp (Meta)")
	if strings.Contains(w.Body.String(), "processing.controller") || strings.Contains(w.Body.String(), "noch einzutragen") {
		t.Error("the filled-in controller is still listed as missing, or German shows on the English page")
	}
	if strings.Contains(w.Body.String(), "identity provider") {
		t.Error("the record shows the identity provider without an oidc section")
	}

	// With sign-in through an identity provider, the record lists it.
	pol, err = policies.Parse("record.yaml", []byte("oidc:\n  claim: roles\n  roles: {Tresor.IT: admin}\n"))
	if err != nil {
		t.Fatal(err)
	}
	e.srv.policy = pol
	w = anna.get("/audit/record")
	wantBody(t, w, "Sign-in through the identity provider", "refresh token", "(interval: 15 minutes)",
		"11 entries are still missing", "processing.legal_basis.identity_provider")
}
