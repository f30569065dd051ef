package incident

import (
	"errors"

	"github.com/tresor-evidence/tresor/account"
)

// Sentinel errors callers branch on. Errors returned by this package wrap
// them with context; test with errors.Is. ErrNotFound, ErrInvalidInput,
// ErrConflict and ErrDuplicate are package account's, so that one sentinel
// answers for accounts and the workflow alike.
var (
	// ErrNotFound: no such incident, request, step, user or job, or one the
	// actor may not see.
	ErrNotFound = account.ErrNotFound
	// ErrForbidden: the actor's role does not allow the action.
	ErrForbidden = errors.New("forbidden")
	// ErrSelfApproval: the actor made the request they try to decide.
	ErrSelfApproval = errors.New("requester cannot decide their own request")
	// ErrNotSupervisor: only supervisors decide requests.
	ErrNotSupervisor = errors.New("only a supervisor can decide requests")
	// ErrExpired: the request is past its expiry.
	ErrExpired = errors.New("request expired")
	// ErrAlreadyDecided: the request is no longer pending, or the actor
	// already decided it.
	ErrAlreadyDecided = errors.New("request already decided")
	// ErrReasonRequired: decisions and some requests need a reason.
	ErrReasonRequired = errors.New("a reason is required")
	// ErrInvalidTransition: the incident is not in a state that allows the action.
	ErrInvalidTransition = errors.New("invalid state transition")
	// ErrNotSecured: revoking was attempted before the evidence was secured
	// or a decision not to secure it was recorded.
	ErrNotSecured = errors.New("incident is not secured")
	// ErrInvalidInput: a field is missing or malformed.
	ErrInvalidInput = account.ErrInvalidInput
	// ErrConflict: a concurrent change won; reload and retry.
	ErrConflict = account.ErrConflict
	// ErrDuplicate: a unique value (user name, message flag) exists already.
	ErrDuplicate = account.ErrDuplicate
	// ErrUnavailable: the store or another dependency cannot be reached.
	ErrUnavailable = errors.New("service unavailable")
	// ErrStorageFull: the vault's or the database's disk (or quota) is
	// full. Nothing was kept half-written; the caller's input is intact
	// and the same request succeeds once an administrator made room.
	ErrStorageFull = errors.New("storage full")
	// ErrNoJob: no job is due.
	ErrNoJob = errors.New("no job due")
	// ErrLegalHold: evidence on legal hold cannot be destroyed.
	ErrLegalHold = errors.New("evidence is on legal hold")
	// ErrRetention: the vault's storage keeps the bundle under a
	// retention period (S3 Object Lock) and refuses to delete it yet.
	ErrRetention = errors.New("the storage's retention forbids deleting the bundle yet")
)
