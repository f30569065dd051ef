package web

import (
	"context"

	"github.com/tresor-evidence/tresor/account"
)

// errWrongCode: the second-factor code is wrong, used already, or the user
// has no second factor.
var errWrongCode = account.ErrWrongCode

// checkSecondFactor verifies a TOTP code (or, when allowRecovery, a
// recovery code) of the user and consumes it, so it works once (the
// rule is account.Factors.Check's).
func (s *Server) checkSecondFactor(ctx context.Context, userID, code string, allowRecovery bool) (recovery bool, err error) {
	return s.factors.Check(ctx, s.accounts, userID, code, allowRecovery)
}
