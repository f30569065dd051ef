package policies

import (
	"fmt"
	"slices"
	"time"
)

// SecuringMode says what Tresor copies into the vault when it secures a
// flagged message.
type SecuringMode string

const (
	// SecureContent copies the message and its media into the vault.
	SecureContent SecuringMode = "content"
	// SecureMetadataOnly records only the message id, the sender, the time
	// and WhatsApp's own file hash; the content is never copied.
	SecureMetadataOnly SecuringMode = "metadata"
)

// Step is one instruction shown to the worker, either in a platform's
// deletion walkthrough or as an extra step of a category.
type Step struct {
	// ID is unique within its list, e.g. "chat", "gallery", "local_backup",
	// "cloud_backup", "device_backup", "backup_e2e" or "ask_recipient".
	ID    string
	Title Text
	// Body says what exactly to do: which menus, where to tap.
	Body Text
	// Together is the same instruction worded for going through it
	// together with the young person on their phone; empty when the step
	// concerns only the worker's device.
	Together Text
	// WithYoungPerson marks the step that asks the young person to delete
	// their copy: it offers every platform's Together texts as practical
	// help.
	WithYoungPerson bool
	// FollowUp, when set, is the reminder that replaces this step when the
	// worker marks it as not possible, so it does not close silently.
	FollowUp *FollowUp
}

// FollowUp is a reminder step added when a step cannot be done now.
type FollowUp struct {
	After time.Duration // due this long after the step was marked not possible
	Title Text
	Body  Text
}

// Category is a kind of flagged message and how it is handled.
type Category struct {
	// ID is e.g. "csam", "violence", "threat", "extortion", "self_harm" or
	// "other".
	ID          string
	Name        Text
	Description Text
	Securing    SecuringMode
	// LegalBasis names the legal basis for securing content. The loader
	// requires it when Restricted is set and Securing is SecureContent.
	LegalBasis string
	// Restricted marks suspected CSAM: content may be copied only if
	// LegalBasis is named. The category "csam" is always restricted.
	Restricted bool
	// RequireApproval says securing needs four-eyes approval first.
	RequireApproval bool
	// Approvals is the number of approvals needed besides the requester;
	// 0 means FourEyes.Approvals. See [Policy.ApprovalsFor].
	Approvals int
	// Retention is how long secured evidence is kept before destruction.
	Retention time.Duration
	// ExtraSteps are shown to the worker in addition to the walkthrough,
	// e.g. the police-report steps for suspected CSAM.
	ExtraSteps []Step
	// ManualDeletion leaves deleting the message on WhatsApp to the
	// worker's walkthrough instead of Tresor, so that the police can see
	// the phone first (the default for suspected CSAM).
	ManualDeletion bool
}

// FourEyes configures the approval of securing and handover requests.
type FourEyes struct {
	// Approvals is the number of approvals needed besides the requester;
	// at least 1, default 1.
	Approvals int
	// RequestTTL is how long a pending request stays open before it
	// expires; default 24h.
	RequestTTL time.Duration
	// DownloadLinks is how many download links may be issued for one
	// approved release, 1 to 10; default 1. None is issued once the
	// handover is recorded.
	DownloadLinks int
}

// EmergencyContact is shown in the safety-first prompt.
type EmergencyContact struct {
	Name  Text
	Phone string // e.g. "110", "116 111"
	Note  Text   // optional
}

// Policy is a validated, merged policy. Use [Default], [Load] or [Parse] to
// obtain one; a Policy built by hand is not validated.
type Policy struct {
	FourEyes FourEyes
	// Categories are in file order; overrides replace by id or append.
	Categories        []Category
	EmergencyContacts []EmergencyContact
	// Walkthrough holds every platform's deletion steps, in display order;
	// see [Policy.Platforms].
	Walkthrough []PlatformGuide
	// StepDeadline is how long a deletion step may stay open before it
	// escalates to a supervisor (default 48h).
	StepDeadline time.Duration
	// EscalateTo names the supervisor accounts (user names) told by mail
	// when deletion steps are overdue. Empty, the default, tells every
	// supervisor; names that are no active supervisor's are skipped, and
	// if none is left every supervisor is told.
	EscalateTo []string
	// CaptureWindow is how long received WhatsApp messages are kept so
	// that they can be flagged (default 72h).
	CaptureWindow time.Duration
	// UploadMaxBytes is the size limit for uploads (default 100 MiB).
	UploadMaxBytes int64
	// UploadTypes are the allowed media types ("type/subtype", lowercase).
	// An empty list accepts no uploads.
	UploadTypes []string
	// FlagEmoji is the reaction emoji that flags a message from the
	// worker's own device; "" disables flagging by reaction.
	FlagEmoji string
	// FlagLabel is the WhatsApp Business label name that flags a message;
	// "" disables flagging by label.
	FlagLabel string
	// MediaHashMismatch decides what happens when WhatsApp media passes
	// its encrypted hash and HMAC (it is exactly what the sender
	// uploaded) but its plaintext does not match the file hash the
	// message states (default MediaMismatchSeal).
	MediaHashMismatch MediaMismatch
	// TimeZone is the zone pages show times in (default Europe/Berlin);
	// exports and the audit log keep UTC.
	TimeZone *time.Location
	// Processing is what the record of processing activities needs from
	// the provider; see [Policy.RecordOfProcessing].
	Processing Processing
	// OIDC maps people signing in through the identity provider to roles;
	// see [OIDC]. The zero value maps nobody.
	OIDC OIDC
}

// MediaMismatch is a MediaHashMismatch decision.
type MediaMismatch string

const (
	// MediaMismatchSeal seals the media with both hashes; the manifest
	// and the receipt mark the mismatch.
	MediaMismatchSeal MediaMismatch = "seal"
	// MediaMismatchRefuse does not secure the media: securing fails.
	MediaMismatchRefuse MediaMismatch = "refuse"
)

// Category returns the category with the given id. The error wraps
// [ErrUnknownCategory] and names the id.
func (p *Policy) Category(id string) (Category, error) {
	for _, c := range p.Categories {
		if c.ID == id {
			c.ExtraSteps = slices.Clone(c.ExtraSteps)
			return c, nil
		}
	}
	return Category{}, fmt.Errorf("%w %q", ErrUnknownCategory, id)
}

// Steps returns the deletion walkthrough for pl. The error for an unknown
// platform wraps [ErrInvalid].
func (p *Policy) Steps(pl Platform) ([]Step, error) {
	g, err := p.Guide(pl)
	if err != nil {
		return nil, err
	}
	return g.Steps, nil
}

// ApprovalsFor returns the number of approvals, besides the requester's own
// request, that securing in category c needs: c.Approvals if positive,
// otherwise FourEyes.Approvals. It never returns less than 1.
func (p *Policy) ApprovalsFor(c Category) int {
	n := c.Approvals
	if n <= 0 {
		n = p.FourEyes.Approvals
	}
	return max(n, 1)
}
