package policies

import (
	"fmt"
	"maps"
	"time"

	// The time zone is part of a valid policy, so it must load on hosts
	// without a zoneinfo database (containers, Windows).
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// DefaultTimeZone is the time zone pages show times in unless the policy
// names another. Exports and the audit log keep UTC.
const DefaultTimeZone = "Europe/Berlin"

// ToBeFilledIn is the value of every record-of-processing setting the
// provider has not filled in yet. [Processing.Missing] names those
// settings, and the record shows them as gaps.
var ToBeFilledIn = Text{DE: "noch einzutragen", EN: "to be filled in"}

// DataKind is a kind of personal data Tresor stores, one entry of the
// record of processing activities.
type DataKind string

const (
	DataIncidents       DataKind = "incidents"        // incidents, their description, steps and requests
	DataCaptures        DataKind = "captures"         // received WhatsApp messages kept for the capture window
	DataEvidence        DataKind = "evidence"         // sealed bundles in the vault
	DataAuditLog        DataKind = "audit_log"        // the tamper-evident log
	DataAccounts        DataKind = "accounts"         // users, second factors, sessions, API tokens
	DataWhatsAppDevices DataKind = "whatsapp_devices" // the linked devices' keys and state
	// DataIdentityProvider is the link to the identity provider and its
	// sealed tokens; the record shows it only with an oidc section.
	DataIdentityProvider DataKind = "identity_provider"
)

// DataKinds returns every kind of data, in the order of the record.
func DataKinds() []DataKind {
	return []DataKind{DataIncidents, DataCaptures, DataEvidence, DataAuditLog, DataAccounts, DataWhatsAppDevices, DataIdentityProvider}
}

// Processing is what the record of processing activities (Art. 30 GDPR)
// needs from the provider; Tresor knows the rest itself. Every field
// starts as [ToBeFilledIn].
type Processing struct {
	// Controller names the provider (Träger) and its address.
	Controller Text
	// DataProtectionOfficer is how to reach the data-protection officer.
	DataProtectionOfficer Text
	// LegalBasis is the legal basis of storing each kind of data.
	LegalBasis map[DataKind]Text
	// Recipients are those evidence may be handed over to (police,
	// Jugendamt, a hotline), and on what basis.
	Recipients Text
	// WhatsAppTransfer is the legal basis of the transfer to WhatsApp
	// (Meta) that linking a device entails.
	WhatsAppTransfer Text
}

// defaultProcessing is every field to be filled in.
func defaultProcessing() Processing {
	p := Processing{Controller: ToBeFilledIn, DataProtectionOfficer: ToBeFilledIn, Recipients: ToBeFilledIn,
		WhatsAppTransfer: ToBeFilledIn, LegalBasis: map[DataKind]Text{}}
	for _, k := range DataKinds() {
		p.LegalBasis[k] = ToBeFilledIn
	}
	return p
}

// Missing lists the policy keys (under processing) still to be filled
// in, in file order, for every kind of data; the record leaves out the
// identity provider's legal basis when the policy has no oidc section.
func (p Processing) Missing() []string {
	var out []string
	add := func(key string, t Text) {
		if t == ToBeFilledIn {
			out = append(out, key)
		}
	}
	add("controller", p.Controller)
	add("data_protection_officer", p.DataProtectionOfficer)
	for _, k := range DataKinds() {
		add("legal_basis."+string(k), p.LegalBasis[k])
	}
	add("recipients", p.Recipients)
	add("whatsapp_transfer", p.WhatsAppTransfer)
	return out
}

func (p Processing) clone() Processing {
	p.LegalBasis = maps.Clone(p.LegalBasis)
	return p
}

// processing decodes the processing section. Omitted keys take the
// built-in defaults (to be filled in): the section is replaced, as
// four_eyes is.
func (d *decoder) processing(n *yaml.Node) (Processing, error) {
	p := defaultProcessing()
	text := func(dst *Text, what string) func(*yaml.Node) error {
		return func(v *yaml.Node) (err error) {
			*dst, err = d.text(v, "processing."+what)
			return err
		}
	}
	err := d.mapping(n, "processing", map[string]func(*yaml.Node) error{
		"controller":              text(&p.Controller, "controller"),
		"data_protection_officer": text(&p.DataProtectionOfficer, "data_protection_officer"),
		"recipients":              text(&p.Recipients, "recipients"),
		"whatsapp_transfer":       text(&p.WhatsAppTransfer, "whatsapp_transfer"),
		"legal_basis": func(v *yaml.Node) error {
			handlers := map[string]func(*yaml.Node) error{}
			for _, k := range DataKinds() {
				handlers[string(k)] = func(v *yaml.Node) error {
					t, err := d.text(v, "processing.legal_basis."+string(k))
					p.LegalBasis[k] = t
					return err
				}
			}
			return d.mapping(v, "processing.legal_basis", handlers)
		},
	})
	return p, err
}

// timeZone decodes an IANA time zone name such as "Europe/Berlin".
func (d *decoder) timeZone(n *yaml.Node) (*time.Location, error) {
	s, err := d.str(n, "time_zone")
	if err != nil {
		return nil, err
	}
	if s == "" || s == "Local" {
		return nil, d.errorf(n, "time_zone must name a zone such as %q", DefaultTimeZone)
	}
	loc, err := time.LoadLocation(s)
	if err != nil {
		return nil, d.errorf(n, "time_zone %q is not a known time zone (IANA name such as %q)", clip(s), DefaultTimeZone)
	}
	return loc, nil
}

// mustLocation loads a zone embedded by time/tzdata.
func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("policies: embedded time zone %s: %v", name, err))
	}
	return loc
}
