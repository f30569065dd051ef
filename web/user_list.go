package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// usersView is the admin's account list.
type usersView struct {
	Users []userItem
	Roles []incident.Role
	// MailConfigured says whether notifications are sent at all.
	MailConfigured bool
}

type userItem struct {
	incident.User
	SecondFactor bool
	Self         bool
	// LockedUntil is set while the account is locked after many failed
	// sign-ins.
	LockedUntil *time.Time
}

// userList lists every account with its second-factor status.
func (s *Server) userList(c *gin.Context) {
	ctx := c.Request.Context()
	a := actor(c)
	us, err := s.svc.Users(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	locks, err := s.svc.AccountLocks(ctx, a)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := usersView{Roles: incident.Roles, MailConfigured: s.svc.MailConfigured()}
	for _, u := range us {
		_, err := s.accounts.SecondFactor(ctx, u.ID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			s.fail(c, err)
			return
		}
		item := userItem{User: u, SecondFactor: err == nil, Self: u.ID == a.ID}
		if until, ok := locks[u.ID]; ok {
			item.LockedUntil = &until
		}
		v.Users = append(v.Users, item)
	}
	s.render(c, http.StatusOK, "user_list", v)
}
