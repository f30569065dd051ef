package web

import (
	"context"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// userResetSecondFactor removes a user's second factor and recovery codes
// and ends their sessions and API tokens, in the transaction of its
// audit entry; they enrol again at their next sign-in.
func (s *Server) userResetSecondFactor(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	us, err := s.svc.Users(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	name := strings.ToLower(c.Param("name"))
	for _, u := range us {
		if u.Username != name {
			continue
		}
		err := s.svc.RecordAuthChange(ctx, a, incident.AuthSecondFactorReset, u.ID, func(ctx context.Context) error {
			if err := s.sessions.DeleteSecondFactor(ctx, u.ID); err != nil {
				return err
			}
			return s.revokeAccessIn(ctx, u.ID)
		})
		if err != nil {
			s.fail(c, err)
			return
		}
		s.redirect(c, "/admin/users?done=second_factor_reset")
		return
	}
	s.fail(c, fmt.Errorf("user: %w", incident.ErrNotFound))
}
