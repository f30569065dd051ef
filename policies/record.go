package policies

import (
	"fmt"
	"strings"
	"time"
)

// Record is the record of processing activities (Art. 30 GDPR) for
// Tresor, generated from a policy: what Tresor itself knows (which data
// it stores, why, for how long, who sees it) and what the provider filled
// in (controller, data-protection officer, legal bases, recipients).
type Record struct {
	Controller            Text
	DataProtectionOfficer Text
	// Activities has one entry per [DataKind], in the order of DataKinds.
	Activities []Activity
	// WhatsAppTransfer describes what goes to WhatsApp (Meta) and on what
	// basis.
	WhatsAppTransfer Transfer
	// Measures describes, in general, the technical and organisational
	// security measures Tresor itself takes (Art. 30(1)(g), Art. 32 GDPR).
	Measures Text
	// TimeZone is the zone pages show times in.
	TimeZone string
	// Missing lists the policy keys under processing still to be filled
	// in; empty when the record is complete.
	Missing []string
}

// Unfilled reports whether t is still to be filled in.
func (Record) Unfilled(t Text) bool { return t == ToBeFilledIn }

// Activity is one kind of data and how Tresor processes it.
type Activity struct {
	Kind       DataKind
	Name       Text
	Data       Text // which data
	Subjects   Text // whose data
	Purpose    Text
	LegalBasis Text
	Retention  Text
	Access     Text // who can see it
	Recipients Text
}

// Transfer is the transfer to WhatsApp that a linked device entails.
type Transfer struct {
	Description Text
	LegalBasis  Text
}

// RecordOfProcessing builds the record from p.
func (p *Policy) RecordOfProcessing() Record {
	pr := p.Processing
	none := Text{DE: "keine", EN: "none"}
	r := Record{
		Controller:            pr.Controller,
		DataProtectionOfficer: pr.DataProtectionOfficer,
		TimeZone:              p.TimeZone.String(),
		Missing:               pr.Missing(),
		Measures: Text{
			DE: "Beweise sind mit age verschlüsselt; der Schlüssel zum Öffnen liegt nicht auf dem Server. Herausgeben nur nach Freigabe durch eine zweite Person (Vier-Augen-Prinzip), Sichern ebenso, wo die Richtlinie es für die Kategorie verlangt. Rollen mit getrennten Rechten; Leitung, Datenschutz und IT melden sich mit zweitem Faktor (TOTP) an. Jeder Schritt steht im manipulationssicheren Audit-Protokoll (Hash-Kette, Merkle-Baum, signierte Prüfpunkte), ohne Freitexte und Inhalte. Vorgehaltene Nachrichten und Geheimnisse des zweiten Faktors sind verschlüsselt gespeichert. Transportverschlüsselung (TLS), Datenträgerverschlüsselung und Sicherungen richtet der Betrieb ein (SECURITY.md).",
			EN: "Evidence is encrypted with age; the key that opens it is not kept on the server. Handing over only after a second person approved (four eyes), and securing too where the policy asks it for the category. Roles with separate rights; supervisors, the data-protection officer and IT sign in with a second factor (TOTP). Every step is in the tamper-evident audit log (hash chain, Merkle tree, signed checkpoints), without free text or content. Captured messages and second-factor secrets are stored encrypted. Transport encryption (TLS), disk encryption and backups are set up by operations (SECURITY.md).",
		},
		WhatsAppTransfer: Transfer{LegalBasis: pr.WhatsAppTransfer, Description: Text{
			DE: "Ein verknüpftes Gerät ist ein WhatsApp-Client (whatsmeow, kein offizieller Client): Tresor verbindet sich dazu mit den Servern von WhatsApp (WhatsApp Ireland Ltd., Meta-Konzern). WhatsApp erfährt dabei, dass das Konto ein weiteres Gerät nutzt, wann es verbunden ist und welche Nachrichten Tresor löscht oder erneut anfordert; Nachrichteninhalte sind Ende-zu-Ende-verschlüsselt. Meta kann Daten auch in Drittländern wie den USA verarbeiten. Ohne verknüpftes Gerät findet keine Übermittlung statt.",
			EN: "A linked device is a WhatsApp client (whatsmeow, not an official client): Tresor connects to WhatsApp's servers (WhatsApp Ireland Ltd., Meta group). WhatsApp learns that the account uses another device, when it is connected, and which messages Tresor deletes or asks for again; message content is end-to-end encrypted. Meta may process data in third countries such as the USA. Without a linked device nothing is transferred.",
		}},
	}
	add := func(k DataKind, a Activity) {
		a.Kind, a.LegalBasis = k, pr.LegalBasis[k]
		if a.Recipients == (Text{}) {
			a.Recipients = none
		}
		r.Activities = append(r.Activities, a)
	}
	add(DataIncidents, Activity{
		Name:     Text{DE: "Meldungen", EN: "Incidents"},
		Data:     Text{DE: "Kategorie, Beschreibung der Fachkraft, Plattform des Telefons, Bezug auf die Nachricht (Nachrichten-ID, Chat, Absender, Empfangszeit), Löschschritte mit Zeiten und Begründungen, Anfragen und Entscheidungen mit Zweck, Empfänger, Rechtsgrundlage und Begründung.", EN: "Category, the worker's description, the phone's platform, the message reference (message id, chat, sender, time received), deletion steps with times and reasons, requests and decisions with purpose, recipient, legal basis and reason."},
		Subjects: Text{DE: "Jugendliche und andere Absender gemeldeter Nachrichten; Beschäftigte des Trägers.", EN: "Young people and other senders of reported messages; the provider's staff."},
		Purpose:  Text{DE: "Eine belastende Nachricht nachvollziehbar behandeln: sichern, freigeben, löschen und die Löschung belegen.", EN: "Handle a harmful message traceably: secure it, approve, delete it and prove the deletion."},
		Retention: Text{DE: "Keine automatische Löschung: Meldungen bleiben gespeichert, bis der Träger sie in der Datenbank löscht (Tresor bietet dafür noch keine Funktion).",
			EN: "No automatic deletion: incidents stay stored until the provider deletes them in the database (Tresor offers no function for it yet)."},
		Access: Text{DE: "Die meldende Fachkraft (nur eigene Meldungen), Leitung und Datenschutz (alle); die IT-Administration nicht.", EN: "The reporting worker (own incidents only), supervisors and the data-protection officer (all); not the IT administration."},
	})
	add(DataCaptures, Activity{
		Name:     Text{DE: "Vorgehaltene WhatsApp-Nachrichten", EN: "Captured WhatsApp messages"},
		Data:     Text{DE: "Empfangene Nachrichten verknüpfter Konten (Text, Medienverweise, Absender, Zeit), verschlüsselt gespeichert.", EN: "Messages received by linked accounts (text, media references, sender, time), stored encrypted."},
		Subjects: Text{DE: "Alle, die einer verknüpften Fachkraft über WhatsApp schreiben.", EN: "Everyone who writes to a linked worker on WhatsApp."},
		Purpose:  Text{DE: "Eine Nachricht, die die Fachkraft auf dem Telefon markiert, noch sichern zu können.", EN: "To be able to secure a message the worker flags on the phone."},
		Retention: Text{DE: fmt.Sprintf("%s ab Empfang, dann gelöscht; beim Trennen des Geräts sofort.", days(p.CaptureWindow, "de")),
			EN: fmt.Sprintf("%s from receipt, then deleted; at once when the device is unlinked.", days(p.CaptureWindow, "en"))},
		Access: Text{DE: "Niemand liest sie; Tresor übernimmt nur eine markierte Nachricht in eine Meldung.", EN: "No one reads them; Tresor takes only a flagged message into an incident."},
	})
	add(DataEvidence, Activity{
		Name:       Text{DE: "Gesicherte Beweise (Tresor)", EN: "Secured evidence (vault)"},
		Data:       Text{DE: "Je nach Kategorie die Nachricht mit Medien oder nur ihre Metadaten (bei Verdacht auf Missbrauchsdarstellung), mit Prüfsummen; mit age verschlüsselt.", EN: "Depending on the category, the message with its media or its metadata only (for suspected CSAM), with checksums; encrypted with age."},
		Subjects:   Text{DE: "Absender der Nachricht und Personen, die sie zeigt oder nennt.", EN: "The message's sender and the people it shows or names."},
		Purpose:    Text{DE: "Beweise für Strafverfolgung, Jugendamt oder Beratung erhalten, ohne sie auf Telefonen zu behalten.", EN: "Keep evidence for prosecution, youth welfare or counselling without keeping it on phones."},
		Retention:  evidenceRetention(p),
		Access:     Text{DE: "Niemand auf dem Server: Öffnen braucht einen Schlüssel, der nicht auf dem Server liegt. Herausgabe nur, wenn eine Leitungsperson sie freigibt, die sie nicht selbst beantragt hat (Vier-Augen-Prinzip).", EN: "No one on the server: opening needs a key that is not kept on the server. Handover only after a supervisor other than the requester approved it (four eyes)."},
		Recipients: pr.Recipients,
	})
	add(DataAuditLog, Activity{
		Name:      Text{DE: "Audit-Protokoll", EN: "Audit log"},
		Data:      Text{DE: "Zeit, Konto-Kennung, Aktion, Kennung der Meldung, Prüfsummen; keine Freitexte, Namen oder Inhalte.", EN: "Time, account id, action, incident id, checksums; no free text, names or content."},
		Subjects:  Text{DE: "Beschäftigte des Trägers (über ihre Konto-Kennung).", EN: "The provider's staff (by account id)."},
		Purpose:   Text{DE: "Jeden Schritt manipulationssicher belegen (Rechenschaftspflicht, Art. 5 Abs. 2 DSGVO).", EN: "Prove every step in a tamper-evident way (accountability, Art. 5(2) GDPR)."},
		Retention: Text{DE: "Unbefristet: Einträge können nicht geändert oder gelöscht werden, ohne dass die Prüfung es bemerkt.", EN: "Indefinitely: entries cannot be changed or deleted without the verification noticing."},
		Access:    Text{DE: "Datenschutz (alles, prüfen und exportieren); Leitung die Spur einzelner Meldungen.", EN: "The data-protection officer (all, verify and export); supervisors the trail of single incidents."},
	})
	add(DataAccounts, Activity{
		Name:      Text{DE: "Benutzerkonten", EN: "Accounts"},
		Data:      Text{DE: "Benutzername, Anzeigename, Rolle; Passwort und Wiederherstellungscodes nur als Hash, das Geheimnis des zweiten Faktors verschlüsselt; Sitzungen und API-Tokens.", EN: "User name, display name, role; password and recovery codes as hashes only, the second factor's secret encrypted; sessions and API tokens."},
		Subjects:  Text{DE: "Beschäftigte des Trägers.", EN: "The provider's staff."},
		Purpose:   Text{DE: "Anmeldung und Rechte nach Rolle; Nachweis, wer was getan hat.", EN: "Sign-in and rights by role; proof of who did what."},
		Retention: Text{DE: "Solange das Konto besteht; deaktivierte Konten bleiben, weil das Protokoll auf sie verweist.", EN: "As long as the account exists; disabled accounts stay, because the log refers to them."},
		Access:    Text{DE: "Die IT-Administration; jede Person ihr eigenes Konto. Namen und Rollen zeigt Tresor auch Leitung und Datenschutz in der Audit-Spur.", EN: "The IT administration; every person their own account. Tresor shows names and roles to supervisors and the data-protection officer in the audit trail, too."},
	})
	add(DataWhatsAppDevices, Activity{
		Name:       Text{DE: "WhatsApp-Gerätedaten", EN: "WhatsApp device data"},
		Data:       Text{DE: "Schlüssel und Sitzungsdaten des verknüpften Geräts, Telefonnummer des Kontos sowie Kontaktdaten und Einstellungen, die WhatsApp an verknüpfte Geräte übermittelt.", EN: "The linked device's keys and session data, the account's phone number, and the contact data and settings WhatsApp sends to linked devices."},
		Subjects:   Text{DE: "Die Fachkraft und ihre WhatsApp-Kontakte.", EN: "The worker and their WhatsApp contacts."},
		Purpose:    Text{DE: "Markierungen auf dem Telefon erkennen, markierte Nachrichten sichern und auf WhatsApp löschen.", EN: "Notice flags on the phone, secure flagged messages and delete them on WhatsApp."},
		Retention:  Text{DE: "Bis das Gerät getrennt wird (von der Fachkraft, der IT oder WhatsApp); dann löscht Tresor Schlüssel und vorgehaltene Nachrichten.", EN: "Until the device is unlinked (by the worker, IT or WhatsApp); Tresor then deletes the keys and captured messages."},
		Access:     Text{DE: "Nur Tresor selbst; die IT-Administration sieht den Status (verbunden, zuletzt gesehen), nie Chats.", EN: "Tresor alone; the IT administration sees the status (connected, last seen), never chats."},
		Recipients: Text{DE: "WhatsApp (Meta), siehe Übermittlung.", EN: "WhatsApp (Meta), see transfer."},
	})
	return r
}

// evidenceRetention lists each category's retention.
func evidenceRetention(p *Policy) Text {
	var de, en []string
	for _, c := range p.Categories {
		de = append(de, fmt.Sprintf("%s: %s", c.Name.DE, days(c.Retention, "de")))
		en = append(en, fmt.Sprintf("%s: %s", c.Name.EN, days(c.Retention, "en")))
	}
	return Text{
		DE: "Ab der Sicherung – " + strings.Join(de, "; ") + ". Danach vernichtet Tresor den Beweis und protokolliert es; nicht, solange eine Löschsperre (Aufbewahrungspflicht) gilt.",
		EN: "From securing – " + strings.Join(en, "; ") + ". Tresor then destroys the evidence and logs it; not while a legal hold applies.",
	}
}

// days says a duration in whole days, or hours when it is not.
func days(d time.Duration, lang string) string {
	n, unit := int64(d/time.Hour), map[string][2]string{"de": {"Stunde", "Stunden"}, "en": {"hour", "hours"}}
	if d%(24*time.Hour) == 0 {
		n, unit = int64(d/(24*time.Hour)), map[string][2]string{"de": {"Tag", "Tage"}, "en": {"day", "days"}}
	}
	if n == 1 {
		return "1 " + unit[lang][0]
	}
	return fmt.Sprintf("%d %s", n, unit[lang][1])
}

// Field is one labelled line of an activity.
type Field struct {
	Label Text
	Value Text
	// Missing marks a value still to be filled in.
	Missing bool
}

// Fields returns the activity's entries with their labels, in the order
// the record shows them. Every rendering (page, text, Markdown) uses
// these labels, so that the record reads the same everywhere.
func (a Activity) Fields() []Field {
	f := func(de, en string, v Text) Field {
		return Field{Label: Text{DE: de, EN: en}, Value: v, Missing: v == ToBeFilledIn}
	}
	return []Field{
		f("Daten", "Data", a.Data),
		f("Betroffene", "Data subjects", a.Subjects),
		f("Zweck", "Purpose", a.Purpose),
		f("Rechtsgrundlage", "Legal basis", a.LegalBasis),
		f("Speicherdauer", "Retention", a.Retention),
		f("Wer sie sehen kann", "Who can see it", a.Access),
		f("Empfänger", "Recipients", a.Recipients),
	}
}

// RecordHeadings are the record's headings.
type RecordHeadings struct {
	Title, Intro, Controller, DataProtectionOfficer, Activities, Transfer, TransferBasis, Measures, TimeZone, Missing, MissingHelp Text
}

// RecordLabels are the record's headings, in both languages.
var RecordLabels = RecordHeadings{
	Title: Text{DE: "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 DSGVO)", EN: "Record of processing activities (Art. 30 GDPR)"},
	Intro: Text{DE: "Erzeugt aus der Richtlinie dieses Tresor-Servers. Was Tresor speichert, wofür und wie lange, ergibt sich aus dem Programm und der Richtlinie; Verantwortlicher, Datenschutzbeauftragte, Rechtsgrundlagen und Empfänger trägt der Träger in der Richtlinie ein (Abschnitt processing).",
		EN: "Generated from this Tresor server's policy. What Tresor stores, why and for how long follows from the program and the policy; the provider enters the controller, data-protection officer, legal bases and recipients in the policy (section processing)."},
	Controller:            Text{DE: "Verantwortlicher", EN: "Controller"},
	DataProtectionOfficer: Text{DE: "Datenschutzbeauftragte Person", EN: "Data-protection officer"},
	Activities:            Text{DE: "Gespeicherte Daten", EN: "Data stored"},
	Transfer:              Text{DE: "Übermittlung an WhatsApp (Meta)", EN: "Transfer to WhatsApp (Meta)"},
	TransferBasis:         Text{DE: "Rechtsgrundlage der Übermittlung", EN: "Legal basis of the transfer"},
	Measures:              Text{DE: "Technische und organisatorische Maßnahmen (allgemein)", EN: "Technical and organisational measures (general)"},
	TimeZone:              Text{DE: "Zeitzone der Anzeige", EN: "Time zone of pages"},
	Missing:               Text{DE: "Noch einzutragen", EN: "Still to be filled in"},
	MissingHelp:           Text{DE: "Diese Angaben fehlen noch in der Richtlinie (Abschnitt processing):", EN: "The policy still lacks these entries (section processing):"},
}
