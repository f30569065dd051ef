package web

import (
	"errors"
	"net/http"

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
	v := usersView{Roles: incident.Roles, MailConfigured: s.svc.MailConfigured()}
	for _, u := range us {
		_, err := s.sessions.SecondFactor(ctx, u.ID)
		if err != nil && !errors.Is(err, incident.ErrNotFound) {
			s.fail(c, err)
			return
		}
		v.Users = append(v.Users, userItem{User: u, SecondFactor: err == nil, Self: u.ID == a.ID})
	}
	s.render(c, http.StatusOK, "user_list", v)
}
