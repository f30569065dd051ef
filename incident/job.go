package incident

import (
	"fmt"
	"time"
)

// JobKind names an asynchronous step.
type JobKind string

const (
	JobSecure   JobKind = "secure"   // seal the evidence into the vault
	JobRevoke   JobKind = "revoke"   // delete the message on WhatsApp
	JobEscalate JobKind = "escalate" // flag overdue deletion steps to supervisors
	JobExpire   JobKind = "expire"   // expire a request nobody decided in time
	JobDestroy  JobKind = "destroy"  // destroy a bundle at the end of retention
	JobNotify   JobKind = "notify"   // mail one person that something waits (Notice, RecipientID)
	JobRemind   JobKind = "remind"   // tell the supervisors again that a request is about to expire
)

// JobState is a job's life: pending until done or dead.
type JobState string

const (
	JobPending JobState = "pending"
	JobDone    JobState = "done"
	JobDead    JobState = "dead" // gave up after MaxAttempts; visible to admins and in the audit log
)

// Job is a durable unit of asynchronous work, stored in the same database
// as the state it changes.
type Job struct {
	ID         int64
	Kind       JobKind
	IncidentID string
	RequestID  string
	// RecipientID and Notice are set for JobNotify: whom to tell what.
	RecipientID string
	Notice      Notice
	// Key is unique per job: enqueueing an existing key does nothing.
	Key         string
	State       JobState
	RunAt       time.Time
	Attempts    int
	LastError   string
	Token       string // the current lease holder's token
	LockedUntil time.Time
	CreatedAt   time.Time
}

// MaxAttempts bounds retries; backoff grows from a few seconds to an hour.
const MaxAttempts = 25

// backoff is the delay after the n-th failed attempt (n >= 1).
func backoff(n int) time.Duration {
	d := 5 * time.Second
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return d
}

func jobKey(kind JobKind, parts ...string) string {
	k := string(kind)
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

func (j Job) String() string { return fmt.Sprintf("job %d (%s)", j.ID, j.Key) }
