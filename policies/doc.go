// Package policies loads and validates Tresor's handling policy: which
// categories of flagged WhatsApp messages exist and how each is secured,
// the four-eyes rules, the emergency contacts shown before anything else,
// and the per-platform walkthrough that guides a worker through deleting a
// message from the phone, the computer and every backup.
//
// Every text comes in German and English ([Text]); German is the default.
//
// # Loading
//
// [Default] returns the policy embedded in the binary (default.yaml, see
// [DefaultYAML]). [Load] applies every *.yaml and *.yml file of a directory
// on top of it, in lexical order of the file names; [Parse] applies a single
// document. A file may be empty; it must not hold more than one YAML
// document.
//
// # Overrides
//
// An override file changes only what it names:
//
//   - A top-level setting (step_deadline, escalate_to, capture_window, upload_max_bytes,
//     flag_emoji, flag_label, time_zone) or section (four_eyes, processing, oidc)
//     replaces that setting. A replaced section starts from the built-in
//     defaults (four_eyes: approvals 1, request_ttl 24h; processing: every
//     entry [ToBeFilledIn]), not from the earlier file's values.
//   - categories merge by id: a category with an existing id replaces that
//     category wholly, in place; a new id is appended.
//   - walkthrough merges by platform key: a platform given replaces that
//     platform's name and whole list of steps, in place; a new key adds a
//     platform after the others. The platforms are the walkthrough's keys
//     ([Policy.Platforms]): a provider adds one in YAML alone, with its name
//     in German and English, and forms, API validation and the walkthrough
//     offer it.
//   - emergency_contacts and upload_types replace the whole list. An empty
//     upload_types list accepts no uploads.
//
// Nothing can be removed by an override, so the merged policy always has a
// walkthrough with at least one platform, at least one emergency contact and the
// category "csam".
//
// # Strictness
//
// Loading is strict and never panics, whatever the input. Every problem is
// reported as an [*Error] that names the file and line and wraps
// [ErrInvalid]; loading stops at the first one. It is an error if a file
//
//   - is malformed YAML (reported at the parser's line), uses YAML aliases,
//     or holds more than one document;
//   - has an unknown or duplicate key at any depth, a missing required key,
//     or a value of the wrong type;
//   - has a duration that is not a positive Go duration ("24h", "90m") or
//     a whole number of days ("30d");
//   - sets four_eyes.approvals outside 1 to 100, a category's approvals
//     outside 0 to 100, or approvals on a category that does not require
//     approval;
//   - sets upload_max_bytes to 0 or less, or a flag_emoji that is not a
//     single emoji;
//   - names an unknown securing mode, has a platform key that is not an
//     id (a-z, 0-9, _), a platform without name or steps, a follow_up
//     without after, title and body, repeats a category id in
//     one file or a step id in one list, or has an empty list of
//     categories, emergency contacts or steps, or an empty walkthrough;
//   - has a text without both a non-blank "de" and "en";
//   - has an emergency contact without a phone number;
//   - has an upload type not of the form type/subtype;
//   - names a time_zone that is not an IANA zone name ("Europe/Berlin");
//   - has an oidc section without claim or roles, a claim name with
//     spaces, an empty or duplicate claim value, a role that is not
//     worker, supervisor, auditor or admin, or an
//     offboarding_check_interval outside 1m to 24h; a step_up other than
//     totp or provider, a step_up_max_age outside 1m–15m or not whole
//     seconds, an empty step_up_acr or step_up_amr list, a value there
//     with spaces or twice, or either list without step_up: provider.
//
// # Record of processing activities
//
// [Policy.RecordOfProcessing] builds the record the GDPR (Art. 30) asks
// of the provider: every kind of data Tresor stores ([DataKinds]) with its
// purpose, legal basis, retention, who may see it and its recipients,
// and the transfer to WhatsApp; sign-in through an identity provider
// ([DataIdentityProvider]) only when the policy has an oidc section. The
// activities' texts are one table, record.yaml, a row per kind of data in
// German and English; where a text depends on the policy (retention, the
// offboarding check's interval, recipients) the row holds a placeholder.
// Retention comes from the policy's own settings; controller,
// data-protection officer, legal bases and recipients come from its
// processing section and read "to be filled in" until the provider sets
// them ([Processing.Missing]).
//
// # Suspected CSAM
//
// A [Category] marked Restricted stands for suspected child sexual abuse
// material. Under §184b StGB copying such material may itself be
// possession, so a Restricted category whose Securing is [SecureContent] is
// rejected unless it names a LegalBasis; the default secures metadata only
// ([SecureMetadataOnly]). The category "csam" must always be Restricted, so
// an override cannot quietly turn it into an ordinary category.
package policies
