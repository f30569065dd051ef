package incident

import (
	"fmt"
	"time"
)

// Role is what a user may do. Each user has exactly one.
type Role string

const (
	RoleWorker     Role = "worker"     // Fachkraft: flags and follows up own incidents
	RoleSupervisor Role = "supervisor" // Leitung: decides others' requests, records handovers
	RoleAuditor    Role = "auditor"    // Datenschutz: reads everything, changes nothing
	RoleAdmin      Role = "admin"      // IT: accounts, devices, policies; never evidence
)

// Roles lists every role in display order.
var Roles = []Role{RoleWorker, RoleSupervisor, RoleAuditor, RoleAdmin}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: unknown role %q (want worker, supervisor, auditor or admin)", ErrInvalidInput, s)
}

// Actor is who performs an action: a signed-in user or the system itself.
type Actor struct {
	ID   string
	Role Role
}

// System is the actor for jobs and start-up tasks.
var System = Actor{ID: "system"}

// User is an account. PasswordHash is an encoded argon2id hash; the
// password itself is never stored.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Role         Role
	PasswordHash string
	// Email is where notifications go; "" receives none.
	Email     string
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
	// CreatedBy is who created the account (a user id, or "system" at
	// the server's console); ResetBy and ResetAt who last reset its
	// password or second factor, and when. Approval pages warn about
	// approvers whose account the requester made or reset.
	CreatedBy string
	ResetBy   string
	ResetAt   time.Time
	// MustChangePassword: the password was set by an admin (a reset);
	// the next sign-in must choose a new one before anything else.
	MustChangePassword bool
	// NeedsApproval: an admin created the account with a role that needs
	// a second person's approval (supervisor, auditor), which has not
	// been given; it cannot sign in until then.
	NeedsApproval bool
}

// Actor returns the user acting under their role.
func (u User) Actor() Actor { return Actor{ID: u.ID, Role: u.Role} }
