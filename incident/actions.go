package incident

// Action names what an audit entry records. Its value is the stable code
// that the audit log, its hash chain and every export keep ("step.done");
// pages show a label per code in each language instead. Codes are never
// renamed: entries already written keep theirs, and a renamed code would
// leave them without a label.
//
// Every action the service records is one of the constants below, and
// every constant is listed in [Actions]: a test in this package finds any
// Action or AuthEvent constant declared anywhere in the module that the
// list misses, and a test in package web requires a German and an English
// label for every listed action.
type Action string

// Incident and its walkthrough.
const (
	ActionIncidentFlagged      Action = "incident.flagged"
	ActionIncidentSubmitted    Action = "incident.submitted"
	ActionIncidentNotSecured   Action = "incident.not_secured"
	ActionIncidentClosed       Action = "incident.closed"
	ActionEvidenceStaged       Action = "evidence.staged"
	ActionEvidenceSecured      Action = "evidence.secured"
	ActionEvidenceDownloaded   Action = "evidence.downloaded"
	ActionEvidenceHandedOver   Action = "evidence.handed_over"
	ActionEvidenceDestroyed    Action = "evidence.destroyed"
	ActionMessageRevoked       Action = "message.revoked" // every attempt: the entry's "outcome" says what happened
	ActionWalkthroughStarted   Action = "walkthrough.started"
	ActionStepDone             Action = "step.done"
	ActionStepImpossible       Action = "step.impossible"
	ActionStepEscalated        Action = "step.escalated"
	ActionRequestOpened        Action = "request.opened"
	ActionRequestApprovalAdded Action = "request.approval_added"
	ActionRequestApproved      Action = "request.approved"
	ActionRequestRejected      Action = "request.rejected"
	ActionRequestExpired       Action = "request.expired"
	ActionReleaseLinkIssued    Action = "release.link_issued"
	ActionRetentionHoldSet     Action = "retention.hold_set"
	ActionRetentionHoldLifted  Action = "retention.hold_lifted"
	ActionRetentionHeld        Action = "retention.held"
	ActionAuditExported        Action = "audit.exported"
	ActionAuditCosigned        Action = "audit.cosigned" // a witness added its signature to a checkpoint
	ActionJobDead              Action = "job.dead"
	// A secure job that could not succeed handed the incident back to its
	// reporter; a view-once or lost message's content is unavailable.
	ActionIncidentReturned   Action = "incident.returned"
	ActionContentUnavailable Action = "incident.content_unavailable"
	// A deletion step that was not possible leaves a reminder.
	ActionStepFollowUp Action = "step.follow_up"
	// WhatsApp: a message or flag that could be kept neither in the
	// database nor in the spool.
	ActionCaptureLost Action = "whatsapp.capture_lost"
	// Notifications by e-mail: sent, or recorded as not sent with why.
	ActionNotificationSent    Action = "notification.sent"
	ActionNotificationNotSent Action = "notification.not_sent"
	// Operations: a backup was written ('tresor backup'), and a database
	// was restored from one ('tresor restore'; its first entry after the
	// backup's last).
	ActionBackupCreated  Action = "backup.created"
	ActionBackupRestored Action = "backup.restored"
)

// Orphaned bundles: published by an upload or a secure job that never
// committed its incident, then destroyed by the orphan sweeper (or by the
// failed upload itself), or found absent from the vault.
const (
	ActionEvidenceOrphanDestroyed Action = "evidence.orphan_destroyed"
	ActionEvidenceOrphanDiscarded Action = "evidence.orphan_discarded"
)

// A bundle re-encrypted to new recipients (key rotation); its receipt
// follows (Service.RecordRewrap).
const ActionEvidenceRewrapped Action = "evidence.rewrapped"

// Accounts and sign-in. The sign-in events the web layer records are the
// AuthEvent constants (session.go, apitoken.go).
const (
	ActionUserCreated     Action = "user.created"
	ActionUserEnabled     Action = "user.enabled"
	ActionUserDisabled    Action = "user.disabled"
	ActionUserRoleChanged Action = "user.role_changed"
	// ActionUserPasswordChanged: a user changed their own password.
	ActionUserPasswordChanged Action = "user.password_changed"
	ActionUserEmailChanged    Action = "user.email_changed"
	// ActionUserPasswordReset: an admin set a one-time password.
	ActionUserPasswordReset Action = "user.password_reset"
	// Account requests: a change that needs a second person's approval
	// (separation of duties), and its outcome.
	ActionAccountRequestOpened   Action = "account_request.opened"
	ActionAccountRequestApproved Action = "account_request.approved"
	ActionAccountRequestRejected Action = "account_request.rejected"
	ActionAccountRequestExpired  Action = "account_request.expired"
	ActionAuthFailed             Action = "auth.failed"
	ActionAuthSucceeded          Action = "auth.succeeded"
	// An account (or a name without one) locked after many failed
	// sign-ins, and an admin ending such a lock.
	ActionAccountLocked   Action = "auth.account_locked"
	ActionAccountUnlocked Action = "user.unlocked"
)

// Actions returns every action the service records, in the order a trail
// is usually read.
func Actions() []Action {
	return []Action{
		ActionIncidentFlagged, ActionEvidenceStaged, ActionIncidentSubmitted,
		ActionRequestOpened, ActionRequestApprovalAdded, ActionRequestApproved, ActionRequestRejected, ActionRequestExpired,
		ActionIncidentNotSecured, ActionEvidenceSecured, ActionMessageRevoked, ActionWalkthroughStarted,
		ActionStepDone, ActionStepImpossible, ActionStepEscalated, ActionIncidentClosed,
		ActionReleaseLinkIssued, ActionEvidenceDownloaded, ActionEvidenceHandedOver,
		ActionRetentionHoldSet, ActionRetentionHoldLifted, ActionRetentionHeld, ActionEvidenceDestroyed, ActionEvidenceRewrapped,
		ActionEvidenceOrphanDestroyed, ActionEvidenceOrphanDiscarded,
		ActionEvidenceOpened,
		ActionAuditExported, ActionAuditCosigned, ActionJobDead, ActionIncidentReturned, ActionContentUnavailable, ActionStepFollowUp,
		ActionCaptureLost, ActionNotificationSent, ActionNotificationNotSent, ActionBackupCreated, ActionBackupRestored,
		ActionUserCreated, ActionUserEnabled, ActionUserDisabled, ActionUserRoleChanged, ActionUserPasswordChanged, ActionUserPasswordReset, ActionUserEmailChanged,
		ActionAccountRequestOpened, ActionAccountRequestApproved, ActionAccountRequestRejected, ActionAccountRequestExpired,
		ActionAuthFailed, ActionAuthSucceeded, ActionAccountLocked, ActionAccountUnlocked,
		ActionExternalAccountCreated, ActionExternalRoleChanged, ActionExternalSignIn, ActionExternalRefused, ActionExternalLoggedOut,
		ActionProviderCheckEnded, ActionStepUpConfirmed,
		Action(AuthSecondFactorFailed), Action(AuthSecondFactorSucceeded), Action(AuthRecoveryCodeUsed),
		Action(AuthSecondFactorEnabled), Action(AuthSecondFactorReset), Action(AuthStepUpFailed),
		Action(AuthStepUpLocked), Action(AuthLockedOut), Action(AuthSignedOut), Action(AuthTokenCreated), Action(AuthTokenRevoked),
	}
}

// stepAction is the action recording a step's new state.
func stepAction(to StepState) Action {
	if to == StepImpossible {
		return ActionStepImpossible
	}
	return ActionStepDone
}
