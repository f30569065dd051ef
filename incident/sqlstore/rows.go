package sqlstore

import (
	"strings"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// Row structs mirror the tables; domain types carry no persistence tags.
// Times are UTC microseconds (see the package doc).

func us(t time.Time) int64 { return t.UTC().UnixMicro() }

func usPtr(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := us(*t)
	return &v
}

func fromUS(v int64) time.Time { return time.UnixMicro(v).UTC() }

// fromUSPtrValue is fromUSPtr for a time that is zero when absent.
func fromUSPtrValue(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromUS(*v)
}

func fromUSPtr(v *int64) *time.Time {
	if v == nil {
		return nil
	}
	t := fromUS(*v)
	return &t
}

type userRow struct {
	ID                 string `gorm:"primaryKey"`
	Username           string
	DisplayName        string
	Role               string
	PasswordHash       string
	Email              string
	Disabled           bool
	CreatedAt          int64 `gorm:"autoCreateTime:false"`
	UpdatedAt          int64 `gorm:"autoUpdateTime:false"`
	CreatedBy          string
	ResetBy            string
	ResetAt            *int64
	MustChangePassword bool
	NeedsApproval      bool
}

func (userRow) TableName() string { return "users" }

func toUserRow(u *incident.User) userRow {
	return userRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: string(u.Role),
		PasswordHash: u.PasswordHash, Email: u.Email, Disabled: u.Disabled, CreatedAt: us(u.CreatedAt), UpdatedAt: us(u.UpdatedAt),
		CreatedBy: u.CreatedBy, ResetBy: u.ResetBy, ResetAt: optUS(u.ResetAt), MustChangePassword: u.MustChangePassword, NeedsApproval: u.NeedsApproval}
}

func (r userRow) user() incident.User {
	return incident.User{ID: r.ID, Username: r.Username, DisplayName: r.DisplayName, Role: incident.Role(r.Role),
		PasswordHash: r.PasswordHash, Email: r.Email, Disabled: r.Disabled, CreatedAt: fromUS(r.CreatedAt), UpdatedAt: fromUS(r.UpdatedAt),
		CreatedBy: r.CreatedBy, ResetBy: r.ResetBy, ResetAt: fromOptUS(r.ResetAt), MustChangePassword: r.MustChangePassword, NeedsApproval: r.NeedsApproval}
}

type incidentRow struct {
	ID                      string `gorm:"primaryKey"`
	Category                string
	Channel                 string
	ReporterID              string
	Platform                string
	MsgID                   string
	MsgChat                 string
	MsgSender               string
	MsgSenderAlt            string
	MsgFromMe               bool
	MsgSentAt               *int64
	MsgMediaType            string
	MsgFileName             string
	MsgFileSHA256           string `gorm:"column:msg_file_sha256"`
	MsgSize                 int64
	MsgSeenChat             string
	MsgReceivedAt           *int64
	MsgKind                 string
	Description             string
	State                   string
	Securing                string
	Evidence                string
	ReceiptBundleID         *string
	ReceiptCiphertextSHA256 *string `gorm:"column:receipt_ciphertext_sha256"`
	ReceiptCiphertextSize   *int64
	ReceiptManifestSHA256   *string `gorm:"column:receipt_manifest_sha256"`
	ReceiptRecipients       *string
	ReceiptMetadataOnly     *bool
	ReceiptWhatsAppMismatch *bool `gorm:"column:receipt_whatsapp_hash_mismatch"`
	ReceiptSealedAt         *int64
	NotSecuredReason        string
	NotCaptured             string
	UncapturedChoice        string
	RevocationOutcome       *string
	RevocationDetail        *string
	RevocationAt            *int64
	RetentionUntil          *int64
	LegalHold               bool
	DestroyedAt             *int64
	CreatedAt               int64 `gorm:"autoCreateTime:false"`
	UpdatedAt               int64 `gorm:"autoUpdateTime:false"`
	Version                 int64
}

func (incidentRow) TableName() string { return "incidents" }

func toIncidentRow(inc *incident.Incident) incidentRow {
	m := inc.Message
	r := incidentRow{
		ID: inc.ID, Category: inc.Category, Channel: string(inc.Channel), ReporterID: inc.ReporterID,
		Platform: string(inc.Platform), MsgID: m.ID, MsgChat: m.Chat, MsgSender: m.Sender, MsgSenderAlt: m.SenderAlt,
		MsgFromMe: m.FromMe, MsgMediaType: m.MediaType, MsgFileName: m.FileName, MsgFileSHA256: m.FileSHA256,
		MsgSize: m.Size, MsgSeenChat: m.Seen.Chat, MsgKind: string(m.Seen.Kind), Description: inc.Description, State: string(inc.State), Securing: string(inc.Securing),
		Evidence: string(inc.Evidence), NotSecuredReason: inc.NotSecuredReason,
		NotCaptured: string(inc.NotCaptured), UncapturedChoice: string(inc.Choice), RetentionUntil: usPtr(inc.RetentionUntil),
		LegalHold: inc.LegalHold, DestroyedAt: usPtr(inc.DestroyedAt), CreatedAt: us(inc.CreatedAt),
		UpdatedAt: us(inc.UpdatedAt), Version: inc.Version,
	}
	if !m.SentAt.IsZero() {
		r.MsgSentAt = usPtr(&m.SentAt)
	}
	if !m.Seen.ReceivedAt.IsZero() {
		r.MsgReceivedAt = usPtr(&m.Seen.ReceivedAt)
	}
	if rc := inc.Receipt; rc != nil {
		recipients := strings.Join(rc.Recipients, "\n")
		r.ReceiptBundleID, r.ReceiptCiphertextSHA256, r.ReceiptCiphertextSize = &rc.BundleID, &rc.CiphertextSHA256, &rc.CiphertextSize
		r.ReceiptManifestSHA256, r.ReceiptRecipients, r.ReceiptMetadataOnly = &rc.ManifestSHA256, &recipients, &rc.MetadataOnly
		r.ReceiptSealedAt = usPtr(&rc.SealedAt)
		r.ReceiptWhatsAppMismatch = &rc.WhatsAppHashMismatch
	}
	if rv := inc.Revocation; rv != nil {
		outcome := string(rv.Outcome)
		r.RevocationOutcome, r.RevocationDetail, r.RevocationAt = &outcome, &rv.Detail, usPtr(&rv.At)
	}
	return r
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (r incidentRow) incident() incident.Incident {
	inc := incident.Incident{
		ID: r.ID, Category: r.Category, Channel: incident.Channel(r.Channel), ReporterID: r.ReporterID,
		Platform: policies.Platform(r.Platform),
		Message: incident.MessageRef{ID: r.MsgID, Chat: r.MsgChat, Sender: r.MsgSender, SenderAlt: r.MsgSenderAlt,
			FromMe: r.MsgFromMe, MediaType: r.MsgMediaType, FileName: r.MsgFileName, FileSHA256: r.MsgFileSHA256, Size: r.MsgSize,
			Seen: incident.SeenMessage{Chat: r.MsgSeenChat, ReceivedAt: fromUSPtrValue(r.MsgReceivedAt), Kind: incident.MessageKind(r.MsgKind)}},
		Description: r.Description, State: incident.State(r.State), Securing: policies.SecuringMode(r.Securing),
		Evidence: incident.EvidenceDecision(r.Evidence), NotSecuredReason: r.NotSecuredReason,
		NotCaptured: incident.CaptureGap(r.NotCaptured), Choice: incident.UncapturedChoice(r.UncapturedChoice),
		RetentionUntil: fromUSPtr(r.RetentionUntil), LegalHold: r.LegalHold, DestroyedAt: fromUSPtr(r.DestroyedAt),
		CreatedAt: fromUS(r.CreatedAt), UpdatedAt: fromUS(r.UpdatedAt), Version: r.Version,
	}
	if r.MsgSentAt != nil {
		inc.Message.SentAt = fromUS(*r.MsgSentAt)
	}
	if r.ReceiptBundleID != nil {
		var recipients []string
		if s := deref(r.ReceiptRecipients); s != "" {
			recipients = strings.Split(s, "\n")
		}
		inc.Receipt = &incident.Receipt{BundleID: *r.ReceiptBundleID, CiphertextSHA256: deref(r.ReceiptCiphertextSHA256),
			CiphertextSize: deref(r.ReceiptCiphertextSize), ManifestSHA256: deref(r.ReceiptManifestSHA256),
			Recipients: recipients, MetadataOnly: deref(r.ReceiptMetadataOnly), SealedAt: fromUS(deref(r.ReceiptSealedAt)),
			WhatsAppHashMismatch: deref(r.ReceiptWhatsAppMismatch)}
	}
	if r.RevocationOutcome != nil {
		inc.Revocation = &incident.Revocation{Outcome: incident.RevokeOutcome(*r.RevocationOutcome),
			Detail: deref(r.RevocationDetail), At: fromUS(deref(r.RevocationAt))}
	}
	return inc
}

type requestRow struct {
	ID                string `gorm:"primaryKey"`
	IncidentID        string
	Kind              string
	RequesterID       string
	Reason            string
	Purpose           string
	Recipient         string
	LegalBasis        string
	State             string
	RequiredApprovals int
	CreatedAt         int64 `gorm:"autoCreateTime:false"`
	ExpiresAt         int64
	DecidedAt         *int64
	HandedOverAt      *int64
	HandedOverBy      string
	HandoverNote      string
	DownloadTokenHash string
	DownloadExpiresAt *int64
	DownloadUsedAt    *int64
	DownloadLinks     int
	Version           int64
}

func (requestRow) TableName() string { return "requests" }

func toRequestRow(r *incident.Request) requestRow {
	return requestRow{ID: r.ID, IncidentID: r.IncidentID, Kind: string(r.Kind), RequesterID: r.RequesterID,
		Reason: r.Reason, Purpose: r.Purpose, Recipient: r.Recipient, LegalBasis: r.LegalBasis, State: string(r.State),
		RequiredApprovals: r.RequiredApprovals, CreatedAt: us(r.CreatedAt), ExpiresAt: us(r.ExpiresAt),
		DecidedAt: usPtr(r.DecidedAt), HandedOverAt: usPtr(r.HandedOverAt), HandedOverBy: r.HandedOverBy,
		HandoverNote: r.HandoverNote, DownloadTokenHash: r.DownloadTokenHash, DownloadExpiresAt: usPtr(r.DownloadExpiresAt),
		DownloadUsedAt: usPtr(r.DownloadUsedAt), DownloadLinks: r.DownloadLinks, Version: r.Version}
}

func (r requestRow) request(ds []decisionRow) incident.Request {
	out := incident.Request{ID: r.ID, IncidentID: r.IncidentID, Kind: incident.RequestKind(r.Kind), RequesterID: r.RequesterID,
		Reason: r.Reason, Purpose: r.Purpose, Recipient: r.Recipient, LegalBasis: r.LegalBasis,
		State: incident.RequestState(r.State), RequiredApprovals: r.RequiredApprovals, CreatedAt: fromUS(r.CreatedAt),
		ExpiresAt: fromUS(r.ExpiresAt), DecidedAt: fromUSPtr(r.DecidedAt), HandedOverAt: fromUSPtr(r.HandedOverAt),
		HandedOverBy: r.HandedOverBy, HandoverNote: r.HandoverNote, DownloadTokenHash: r.DownloadTokenHash,
		DownloadExpiresAt: fromUSPtr(r.DownloadExpiresAt), DownloadUsedAt: fromUSPtr(r.DownloadUsedAt), DownloadLinks: r.DownloadLinks, Version: r.Version}
	for _, d := range ds {
		out.Decisions = append(out.Decisions, incident.Decision{ActorID: d.ActorID, Approve: d.Approve, Reason: d.Reason, At: fromUS(d.DecidedAt)})
	}
	return out
}

type decisionRow struct {
	RequestID string `gorm:"primaryKey"`
	ActorID   string `gorm:"primaryKey"`
	Approve   bool
	Reason    string
	DecidedAt int64
}

func (decisionRow) TableName() string { return "decisions" }

type stepRow struct {
	IncidentID string `gorm:"primaryKey"`
	StepKey    string `gorm:"primaryKey"`
	Position   int
	Platform   string
	TitleDE    string `gorm:"column:title_de"`
	TitleEN    string `gorm:"column:title_en"`
	State      string
	Reason     string
	DueAt      int64
	DoneAt     *int64
	DoneBy     string
	Escalated  bool
}

func (stepRow) TableName() string { return "steps" }

func toStepRow(s incident.Step) stepRow {
	return stepRow{IncidentID: s.IncidentID, StepKey: s.Key, Position: s.Position, Platform: string(s.Platform),
		TitleDE: s.Title.DE, TitleEN: s.Title.EN, State: string(s.State), Reason: s.Reason, DueAt: us(s.DueAt),
		DoneAt: usPtr(s.DoneAt), DoneBy: s.DoneBy, Escalated: s.Escalated}
}

func (r stepRow) step() incident.Step {
	return incident.Step{IncidentID: r.IncidentID, Key: r.StepKey, Position: r.Position, Platform: policies.Platform(r.Platform),
		Title: policies.Text{DE: r.TitleDE, EN: r.TitleEN}, State: incident.StepState(r.State), Reason: r.Reason,
		DueAt: fromUS(r.DueAt), DoneAt: fromUSPtr(r.DoneAt), DoneBy: r.DoneBy, Escalated: r.Escalated}
}

type jobRow struct {
	ID          int64 `gorm:"primaryKey;autoIncrement"`
	Kind        string
	IncidentID  string
	RequestID   string
	RecipientID string
	Notice      string
	JobKey      string
	State       string
	RunAt       int64
	Attempts    int
	LastError   string
	Token       string
	LockedUntil int64
	CreatedAt   int64 `gorm:"autoCreateTime:false"`
}

func (jobRow) TableName() string { return "jobs" }

func (r jobRow) job() incident.Job {
	return incident.Job{ID: r.ID, Kind: incident.JobKind(r.Kind), IncidentID: r.IncidentID, RequestID: r.RequestID,
		RecipientID: r.RecipientID, Notice: incident.Notice(r.Notice),
		Key: r.JobKey, State: incident.JobState(r.State), RunAt: fromUS(r.RunAt), Attempts: r.Attempts,
		LastError: r.LastError, Token: r.Token, LockedUntil: fromUS(r.LockedUntil), CreatedAt: fromUS(r.CreatedAt)}
}

type auditRow struct {
	Seq        int64 `gorm:"primaryKey;autoIncrement:false"`
	TimeUS     int64 `gorm:"column:time_us"`
	Actor      string
	Action     string
	IncidentID string
	Details    string
	PrevHash   string
	Hash       string
}

func (auditRow) TableName() string { return "audit_entries" }
