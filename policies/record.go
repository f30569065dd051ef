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
	// Activities has one entry per [DataKind], in the order of DataKinds;
	// [DataIdentityProvider] only when the policy has an oidc section.
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
		Missing:               p.missingProcessing(),
		Measures: Text{
			DE: "Beweise sind mit age verschlüsselt; der Schlüssel zum Öffnen liegt nicht auf dem Server. Herausgeben nur nach Freigabe durch eine zweite Person (Vier-Augen-Prinzip), Sichern ebenso, wo die Richtlinie es für die Kategorie verlangt. Rollen mit getrennten Rechten; Leitung, Datenschutz und IT melden sich mit zweitem Faktor (TOTP) an. Jeder Schritt steht im manipulationssicheren Audit-Protokoll (Hash-Kette, Merkle-Baum, signierte Prüfpunkte), ohne Freitexte und Inhalte. Vorgehaltene Nachrichten und Geheimnisse des zweiten Faktors sind verschlüsselt gespeichert. Transportverschlüsselung (TLS), Datenträgerverschlüsselung und Sicherungen richtet der Betrieb ein (SECURITY.md).",
			EN: "Evidence is encrypted with age; the key that opens it is not kept on the server. Handing over only after a second person approved (four eyes), and securing too where the policy asks it for the category. Roles with separate rights; supervisors, the data-protection officer and IT sign in with a second factor (TOTP). Every step is in the tamper-evident audit log (hash chain, Merkle tree, signed checkpoints), without free text or content. Captured messages and second-factor secrets are stored encrypted. Transport encryption (TLS), disk encryption and backups are set up by operations (SECURITY.md).",
		},
		WhatsAppTransfer: Transfer{LegalBasis: pr.WhatsAppTransfer, Description: Text{
			DE: "Ein verknüpftes Gerät ist ein WhatsApp-Client (whatsmeow, kein offizieller Client): Tresor verbindet sich dazu mit den Servern von WhatsApp (WhatsApp Ireland Ltd., Meta-Konzern). WhatsApp erfährt dabei, dass das Konto ein weiteres Gerät nutzt, wann es verbunden ist und welche Nachrichten Tresor löscht oder erneut anfordert; Nachrichteninhalte sind Ende-zu-Ende-verschlüsselt. Meta kann Daten auch in Drittländern wie den USA verarbeiten. Ohne verknüpftes Gerät findet keine Übermittlung statt.",
			EN: "A linked device is a WhatsApp client (whatsmeow, not an official client): Tresor connects to WhatsApp's servers (WhatsApp Ireland Ltd., Meta group). WhatsApp learns that the account uses another device, when it is connected, and which messages Tresor deletes or asks for again; message content is end-to-end encrypted. Meta may process data in third countries such as the USA. Without a linked device nothing is transferred.",
		}},
	}
	fill := recordPlaceholders(p)
	for _, a := range recordActivities {
		if a.Kind == DataIdentityProvider && !p.OIDC.Enabled() {
			continue
		}
		a.LegalBasis = pr.LegalBasis[a.Kind]
		if a.Recipients == (Text{}) {
			a.Recipients = none
		}
		for _, t := range []*Text{&a.Name, &a.Data, &a.Subjects, &a.Purpose, &a.Retention, &a.Access, &a.Recipients} {
			*t = fill(*t)
		}
		r.Activities = append(r.Activities, a)
	}
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

// days says a duration in whole days, or hours when it is not, or
// minutes when it is not whole hours either.
func days(d time.Duration, lang string) string {
	n, unit := int64(d/time.Hour), map[string][2]string{"de": {"Stunde", "Stunden"}, "en": {"hour", "hours"}}
	if d%time.Hour != 0 {
		n, unit = int64(d/time.Minute), map[string][2]string{"de": {"Minute", "Minuten"}, "en": {"minute", "minutes"}}
	}
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
