package incident

import (
	"context"
	"io"
	"time"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident/audit"
)

// Store persists the domain. Implementations must satisfy the conformance
// suite in incident/storetest.
type Store interface {
	// Tx runs fn in one transaction. Every write made through tx commits
	// when fn returns nil and none does when it returns an error, which Tx
	// then returns. fn must not keep tx after returning.
	Tx(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction that sees one consistent
	// state; writes through tx fail. Reads may run side by side with
	// each other and with a writer.
	View(ctx context.Context, fn func(tx Tx) error) error
	// ClaimJob leases the oldest due job (RunAt <= now, not leased or lease
	// expired) until now+lease, increments its Attempts and returns it.
	// Two concurrent callers never get the same job while the lease holds.
	// It returns ErrNoJob when nothing is due.
	ClaimJob(ctx context.Context, now time.Time, lease time.Duration) (Job, error)
	// ExtendJob moves a leased job's lease to until while its holder is
	// still at work. The job must still hold its lease (same Token), else
	// ErrConflict.
	ExtendJob(ctx context.Context, j Job, until time.Time) error
	// ReleaseJob hands a leased job back unfinished, as if it had not
	// been claimed: the lease ends, the attempt ClaimJob counted is
	// taken back, LastError stays, and the job is due again at runAt.
	// The job must still hold its lease (same Token), else ErrConflict.
	ReleaseJob(ctx context.Context, j Job, runAt time.Time) error
	// AuditSource streams the audit log in order for verification, up to
	// entry upTo (the head read before), and fails with audit.ErrTampered
	// if entries lie beyond the head at the end of the scan.
	AuditSource(upTo int64) audit.Source
	// AuditHead returns the last appended entry's position and hash.
	AuditHead(ctx context.Context) (audit.Head, error)
}

// Tx is the set of reads and writes inside one transaction. Lookups
// return an error wrapping ErrNotFound when nothing matches.
type Tx interface {
	// Accounts returns the sessions, API tokens and second factors as
	// seen from this transaction: what is written through it commits or
	// rolls back with the transaction, so that an account change commits
	// together with its audit entry, or not at all. It must not be kept
	// after fn returns.
	Accounts() account.Store

	Incident(ctx context.Context, id string) (Incident, error)
	Incidents(ctx context.Context, f IncidentFilter) ([]Incident, error)
	// CreateIncident stores a new incident. A second incident for the same
	// reporter and WhatsApp message id gives ErrDuplicate.
	CreateIncident(ctx context.Context, inc *Incident) error
	// UpdateIncident stores inc if its Version is the stored one, and
	// increments inc.Version; otherwise ErrConflict.
	UpdateIncident(ctx context.Context, inc *Incident) error

	Request(ctx context.Context, id string) (Request, error)
	Requests(ctx context.Context, f RequestFilter) ([]Request, error)
	CreateRequest(ctx context.Context, r *Request) error
	// UpdateRequest stores the request's state, handover fields and any
	// decisions not stored yet; Version as for UpdateIncident.
	UpdateRequest(ctx context.Context, r *Request) error

	Steps(ctx context.Context, incidentID string) ([]Step, error)
	CreateSteps(ctx context.Context, steps []Step) error
	UpdateStep(ctx context.Context, s Step) error
	// OverdueSteps lists open, not yet escalated steps due before now.
	OverdueSteps(ctx context.Context, now time.Time) ([]Step, error)

	User(ctx context.Context, id string) (User, error)
	UserByName(ctx context.Context, username string) (User, error)
	Users(ctx context.Context) ([]User, error)
	// CreateUser stores a new user; a taken username gives ErrDuplicate.
	CreateUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error

	// Append seals ev onto the end of the audit log and returns the entry.
	Append(ctx context.Context, ev audit.Entry) (audit.Entry, error)
	// AuditEntries lists the entries of one incident, or all in a time
	// range when incidentID is empty (zero times are open bounds), of
	// one action when f.Action is set.
	AuditEntries(ctx context.Context, f AuditFilter) ([]audit.Entry, error)

	// SaveCheckpoint keeps a signed checkpoint; a second one of the same
	// Size gives ErrDuplicate. Saved checkpoints never change.
	SaveCheckpoint(ctx context.Context, c Checkpoint) error
	// Checkpoints lists the saved checkpoints by ascending Size.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// Checkpoint returns the saved checkpoint of the given size, and
	// LatestCheckpoint the largest; ErrNotFound when there is none.
	Checkpoint(ctx context.Context, size int64) (Checkpoint, error)
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
	// SaveCosignature stores c; a second one for the same Size and
	// Witness gives ErrDuplicate. Stored cosignatures never change.
	SaveCosignature(ctx context.Context, c Cosignature) error
	// Cosignatures lists every stored cosignature by ascending Size.
	Cosignatures(ctx context.Context) ([]Cosignature, error)

	// Enqueue adds a job. A job whose Key exists already is not added
	// again (and no error is returned), which makes enqueueing idempotent.
	Enqueue(ctx context.Context, j Job) error
	// RetryJob records a failed attempt: the job runs again at retryAt, or
	// is marked failed for good when dead is true. The job must still hold
	// its lease (same Token), else ErrConflict.
	RetryJob(ctx context.Context, j Job, lastErr string, retryAt time.Time, dead bool) error
	// CompleteJob marks a leased job done; with the job's effect in the
	// same transaction this runs a job exactly once in effect. A lost lease
	// gives ErrConflict.
	CompleteJob(ctx context.Context, j Job) error
	// Jobs lists jobs of one incident (for tests and the admin view).
	Jobs(ctx context.Context, incidentID string) ([]Job, error)

	// Throttle returns the throttle of key, a zero Throttle with that
	// key when none is stored. The key stays locked against other
	// transactions' Throttle until this one ends, so that reading,
	// counting and SetThrottle are atomic.
	Throttle(ctx context.Context, key string) (Throttle, error)
	// SetThrottle stores t under t.Key, replacing what was there.
	SetThrottle(ctx context.Context, t Throttle) error
	// DeleteStaleThrottles deletes the throttles whose window started
	// before `before` and whose lock, if any, ended before it too, and
	// says how many it deleted.
	DeleteStaleThrottles(ctx context.Context, before time.Time) (int64, error)

	// CreateBundleIntent records that a bundle is about to be published;
	// a second intent with the same BundleID gives ErrDuplicate.
	CreateBundleIntent(ctx context.Context, in BundleIntent) error
	// BundleIntent returns the intent of a bundle id, or ErrNotFound.
	BundleIntent(ctx context.Context, bundleID string) (BundleIntent, error)
	// BundleIntents lists intents by ascending CreatedAt, then BundleID.
	BundleIntents(ctx context.Context, f BundleIntentFilter) ([]BundleIntent, error)
	// UpdateBundleIntent stores in's State, CreatedAt and RetryAt if its
	// Version is the stored one, and increments in.Version; otherwise
	// ErrConflict. This makes the incident's commit and the orphan
	// sweeper's claim exclusive: exactly one of them moves a pending intent.
	UpdateBundleIntent(ctx context.Context, in *BundleIntent) error

	// CreateRewrapIntent records a rewrap about to replace a bundle; a
	// second one with the same BundleID and NewCiphertextSHA256 gives
	// ErrDuplicate.
	CreateRewrapIntent(ctx context.Context, in RewrapIntent) error
	// PendingRewrapIntent returns the pending intent of bundleID whose
	// new ciphertext hash is newSHA256, or ErrNotFound.
	PendingRewrapIntent(ctx context.Context, bundleID, newSHA256 string) (RewrapIntent, error)
	// FinishRewrapIntents marks every pending rewrap intent of bundleID
	// finished at `at`: none of them can complete a receipt any more.
	FinishRewrapIntents(ctx context.Context, bundleID string, at time.Time) error

	AccountRequest(ctx context.Context, id string) (AccountRequest, error)
	// AccountRequests lists account requests, newest first.
	AccountRequests(ctx context.Context, f AccountRequestFilter) ([]AccountRequest, error)
	CreateAccountRequest(ctx context.Context, r *AccountRequest) error
	// UpdateAccountRequest stores State, DeciderID, Reason and DecidedAt
	// if r.Version is the stored one, and increments it; else ErrConflict.
	UpdateAccountRequest(ctx context.Context, r *AccountRequest) error

	// NoteCaptureLost adds one to the worker's LostCaptures and sets
	// LostAt to at; ErrNotFound when the worker has no device row.
	NoteCaptureLost(ctx context.Context, workerID string, at time.Time) error
	ExternalIdentities
	LogoutTokens
}

// IncidentFilter narrows Incidents. Zero fields match everything.
type IncidentFilter struct {
	ReporterID string
	States     []State
	Limit      int
	Offset     int // skip this many, newest first, for paging
	// Brief fills only what a list shows (ID, Category, Channel,
	// ReporterID, Platform, State, Securing, Evidence, LegalHold,
	// CreatedAt, UpdatedAt, Version, Message.ID); the rest stays zero.
	Brief bool
}

// RequestFilter narrows Requests. Zero fields match everything.
type RequestFilter struct {
	IncidentID string
	State      RequestState
	// ExpiredBefore selects pending requests whose ExpiresAt is before it.
	ExpiredBefore time.Time
	Limit         int
}

// AuditFilter narrows AuditEntries.
type AuditFilter struct {
	IncidentID string
	From, To   time.Time
	// Action, when set, keeps only entries of that action.
	Action Action
}

// Vault secures evidence. It is implemented by an adapter over package vault.
type Vault interface {
	// Seal streams the parts into one encrypted bundle under bundleID and
	// returns its receipt once it is durably stored. Sealing the same
	// bundleID again replaces a bundle of that id that no receipt refers
	// to yet, which keeps a retried job from leaving a second bundle.
	Seal(ctx context.Context, bundleID string, m Manifest, parts []Part) (Receipt, error)
	// Destroy removes a bundle and returns the facts for the certificate.
	// It fails with an error wrapping ErrNotFound when there is no such
	// bundle, and with one wrapping ErrRetention, destroying nothing,
	// while the storage's retention (S3 Object Lock) protects it.
	Destroy(ctx context.Context, bundleID string) (Destruction, error)
}

// Manifest is the metadata sealed with the evidence.
type Manifest struct {
	IncidentID   string
	Category     string
	MetadataOnly bool
	Message      MessageRef
	CapturedAt   time.Time
}

// Part is one piece of content streamed into the vault. Size is -1 when
// unknown. SHA256 is the content's hash in hex when the source already
// knows it (WhatsApp media, checked on download), else "": the vault then
// seals in one pass and still checks it.
type Part struct {
	Name           string
	MediaType      string
	Size           int64
	SHA256         string
	WhatsAppSHA256 string
	Content        io.Reader
}

// Destruction is the vault's account of a destroyed bundle.
type Destruction struct {
	BundleID         string
	CiphertextSHA256 string
	CiphertextSize   int64
	Detail           string
	At               time.Time
}

// Messenger reaches WhatsApp for an incident's message.
type Messenger interface {
	// FetchContent returns the message's content as parts to seal: its
	// text and its media, streamed. It never writes plaintext to disk. The
	// caller closes every part's Content that is an io.Closer.
	FetchContent(ctx context.Context, inc Incident) ([]Part, error)
	// Revoke deletes the message for everyone where WhatsApp allows it,
	// otherwise for the linked account, and reports what happened. An
	// error means it should be retried.
	Revoke(ctx context.Context, inc Incident) (Revocation, error)
}
