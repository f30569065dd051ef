package web

import (
	"fmt"
	"time"

	"github.com/tresor-evidence/tresor/incident"
)

// JSON shapes of the API. Domain types carry no tags; these do, and
// web/openapi.yaml describes them.

type apiIncident struct {
	ID               string         `json:"id"`
	Category         string         `json:"category"`
	Channel          string         `json:"channel"`
	ReporterID       string         `json:"reporter_id"`
	Platform         string         `json:"platform"`
	Message          apiMessage     `json:"message"`
	Description      string         `json:"description"`
	State            string         `json:"state"`
	Securing         string         `json:"securing"`
	Evidence         string         `json:"evidence"`
	Receipt          *apiReceipt    `json:"receipt,omitempty"`
	NotSecuredReason string         `json:"not_secured_reason,omitempty"`
	NotCaptured      string         `json:"not_captured,omitempty"`
	Choice           string         `json:"choice,omitempty"`
	Revocation       *apiRevocation `json:"revocation,omitempty"`
	RetentionUntil   *time.Time     `json:"retention_until,omitempty"`
	LegalHold        bool           `json:"legal_hold"`
	DestroyedAt      *time.Time     `json:"destroyed_at,omitempty"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

type apiMessage struct {
	ID         string     `json:"id"`
	Chat       string     `json:"chat,omitempty"`
	Sender     string     `json:"sender,omitempty"`
	SentAt     *time.Time `json:"sent_at,omitempty"`
	MediaType  string     `json:"media_type,omitempty"`
	FileName   string     `json:"file_name,omitempty"`
	FileSHA256 string     `json:"file_sha256,omitempty"`
	Size       int64      `json:"size,omitempty"`
}

type apiReceipt struct {
	BundleID         string   `json:"bundle_id"`
	CiphertextSHA256 string   `json:"ciphertext_sha256"`
	CiphertextSize   int64    `json:"ciphertext_size"`
	ManifestSHA256   string   `json:"manifest_sha256"`
	Recipients       []string `json:"recipients"`
	MetadataOnly     bool     `json:"metadata_only"`
	// WhatsAppHashMismatch: sealed media differ from WhatsApp's file hash.
	WhatsAppHashMismatch bool      `json:"whatsapp_hash_mismatch"`
	SealedAt             time.Time `json:"sealed_at"`
}

type apiRevocation struct {
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail"`
	At      time.Time `json:"at"`
}

type apiStep struct {
	Key       string     `json:"key"`
	Title     string     `json:"title"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	DueAt     time.Time  `json:"due_at"`
	DoneAt    *time.Time `json:"done_at,omitempty"`
	Escalated bool       `json:"escalated"`
}

type apiDecision struct {
	ActorID string    `json:"actor_id"`
	Approve bool      `json:"approve"`
	Reason  string    `json:"reason"`
	At      time.Time `json:"at"`
}

type apiRequest struct {
	ID                string        `json:"id"`
	IncidentID        string        `json:"incident_id"`
	Kind              string        `json:"kind"`
	RequesterID       string        `json:"requester_id"`
	Reason            string        `json:"reason"`
	Purpose           string        `json:"purpose,omitempty"`
	Recipient         string        `json:"recipient,omitempty"`
	LegalBasis        string        `json:"legal_basis,omitempty"`
	State             string        `json:"state"`
	RequiredApprovals int           `json:"required_approvals"`
	Decisions         []apiDecision `json:"decisions"`
	CreatedAt         time.Time     `json:"created_at"`
	ExpiresAt         time.Time     `json:"expires_at"`
	DecidedAt         *time.Time    `json:"decided_at,omitempty"`
	HandedOverAt      *time.Time    `json:"handed_over_at,omitempty"`
	HandedOverBy      string        `json:"handed_over_by,omitempty"`
	HandoverNote      string        `json:"handover_note,omitempty"`
}

type apiUser struct {
	ID          string    `json:"id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Role        string    `json:"role"`
	Email       string    `json:"email"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// NeedsApproval: created by an admin with a role that approves; no
	// sign-in until a second person approves.
	NeedsApproval bool `json:"needs_approval"`
	// MustChangePassword: an admin reset the password.
	MustChangePassword bool `json:"must_change_password"`
}

// apiAccountRequest is an account change waiting for a second person.
type apiAccountRequest struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	UserID      string     `json:"user_id"`
	RequesterID string     `json:"requester_id"`
	Role        string     `json:"role,omitempty"`
	State       string     `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	DecidedAt   *time.Time `json:"decided_at,omitempty"`
}

func toAPIAccountRequest(r incident.AccountRequest) apiAccountRequest {
	out := apiAccountRequest{ID: r.ID, Kind: string(r.Kind), UserID: r.SubjectID, RequesterID: r.RequesterID, Role: string(r.Role),
		State: string(r.State), CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	if !r.DecidedAt.IsZero() {
		out.DecidedAt = &r.DecidedAt
	}
	return out
}

// apiPasswordReset is the answer to an admin's password reset: the
// one-time password, shown this once.
type apiPasswordReset struct {
	User            apiUser            `json:"user"`
	OneTimePassword string             `json:"one_time_password"`
	AccountRequest  *apiAccountRequest `json:"account_request,omitempty"`
}

type apiPasswordBody struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// apiIncidentDetail is one incident with its steps and requests.
type apiIncidentDetail struct {
	Incident apiIncident  `json:"incident"`
	Steps    []apiStep    `json:"steps"`
	Requests []apiRequest `json:"requests"`
}

// Request bodies.

type apiFlagBody struct {
	Category    string `json:"category"`
	Description string `json:"description"`
	Platform    string `json:"platform"`
	MessageID   string `json:"message_id"`
	FileSHA256  string `json:"file_sha256"`
	MediaType   string `json:"media_type"`
}

type apiSubmitBody struct {
	Category    string `json:"category"`
	Description string `json:"description"`
	Platform    string `json:"platform"`
	Choice      string `json:"choice"`
	Reason      string `json:"reason"`
}

type apiReasonBody struct {
	Reason string `json:"reason"`
}

type apiReleaseBody struct {
	Purpose    string `json:"purpose"`
	Recipient  string `json:"recipient"`
	LegalBasis string `json:"legal_basis"`
	Reason     string `json:"reason"`
}

type apiDecideBody struct {
	Decision string `json:"decision"` // "approve" or "reject"
	Reason   string `json:"reason"`
	Code     string `json:"code"` // the current TOTP code (step-up)
}

// approve parses the decision. The code is required: the API has no
// browser to confirm at the identity provider with, so it always steps
// up by TOTP, and never uses a confirmation made in the browser.
func (b apiDecideBody) approve() (bool, error) {
	if b.Code == "" {
		return false, fmt.Errorf("%w: code: the current TOTP code is required", incident.ErrInvalidInput)
	}
	return parseDecision(b.Decision)
}

type apiHandoverBody struct {
	Note string `json:"note"`
}

type apiUserBody struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	Role        string `json:"role"`
	Password    string `json:"password"`
	Email       string `json:"email"`
}

type apiEmailBody struct {
	Email *string `json:"email"`
}

type apiDisabledBody struct {
	Disabled *bool `json:"disabled"`
}

type apiRoleBody struct {
	Role string `json:"role"`
}

type apiVerifyResult struct {
	OK       bool   `json:"ok"`
	Entries  int64  `json:"entries"`
	Head     string `json:"head,omitempty"`
	TreeHash string `json:"tree_hash,omitempty"`
	Problem  string `json:"problem,omitempty"`
}

func toAPIIncident(inc incident.Incident) apiIncident {
	out := apiIncident{ID: inc.ID, Category: inc.Category, Channel: string(inc.Channel), ReporterID: inc.ReporterID,
		Platform: string(inc.Platform), Description: inc.Description, State: string(inc.State), Securing: string(inc.Securing),
		Evidence: string(inc.Evidence), NotSecuredReason: inc.NotSecuredReason, RetentionUntil: inc.RetentionUntil,
		NotCaptured: string(inc.NotCaptured), Choice: string(inc.Choice),
		LegalHold: inc.LegalHold, DestroyedAt: inc.DestroyedAt, CreatedAt: inc.CreatedAt, UpdatedAt: inc.UpdatedAt,
		Message: apiMessage{ID: inc.Message.ID, Chat: inc.Message.Chat, Sender: inc.Message.Sender, MediaType: inc.Message.MediaType,
			FileName: inc.Message.FileName, FileSHA256: inc.Message.FileSHA256, Size: inc.Message.Size}}
	if !inc.Message.SentAt.IsZero() {
		t := inc.Message.SentAt
		out.Message.SentAt = &t
	}
	if r := inc.Receipt; r != nil {
		out.Receipt = &apiReceipt{BundleID: r.BundleID, CiphertextSHA256: r.CiphertextSHA256, CiphertextSize: r.CiphertextSize,
			ManifestSHA256: r.ManifestSHA256, Recipients: r.Recipients, MetadataOnly: r.MetadataOnly,
			WhatsAppHashMismatch: r.WhatsAppHashMismatch, SealedAt: r.SealedAt}
	}
	if r := inc.Revocation; r != nil {
		out.Revocation = &apiRevocation{Outcome: string(r.Outcome), Detail: r.Detail, At: r.At}
	}
	return out
}

func toAPIStep(s incident.Step, lang string) apiStep {
	return apiStep{Key: s.Key, Title: s.Title.In(lang), State: string(s.State), Reason: s.Reason, DueAt: s.DueAt,
		DoneAt: s.DoneAt, Escalated: s.Escalated}
}

func toAPIRequest(r incident.Request) apiRequest {
	out := apiRequest{ID: r.ID, IncidentID: r.IncidentID, Kind: string(r.Kind), RequesterID: r.RequesterID, Reason: r.Reason,
		Purpose: r.Purpose, Recipient: r.Recipient, LegalBasis: r.LegalBasis, State: string(r.State),
		RequiredApprovals: r.RequiredApprovals, Decisions: []apiDecision{}, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt,
		DecidedAt: r.DecidedAt, HandedOverAt: r.HandedOverAt, HandedOverBy: r.HandedOverBy, HandoverNote: r.HandoverNote}
	for _, d := range r.Decisions {
		out.Decisions = append(out.Decisions, apiDecision{ActorID: d.ActorID, Approve: d.Approve, Reason: d.Reason, At: d.At})
	}
	return out
}

func toAPIUser(u incident.User) apiUser {
	return apiUser{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role), Email: u.Email, Disabled: u.Disabled,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, NeedsApproval: u.NeedsApproval, MustChangePassword: u.MustChangePassword}
}
