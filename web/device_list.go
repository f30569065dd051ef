package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// devicesView is the admin's list of linked WhatsApp devices.
type devicesView struct {
	Available bool
	Devices   []deviceItem
}

type deviceItem struct {
	Username    string // "" when the account is gone
	DisplayName string
	Device      *DeviceView // nil: never linked
}

// deviceList shows every worker's device: status, WhatsApp's reason,
// when the phone was last seen and the 12-day warning. Read-only.
func (s *Server) deviceList(c *gin.Context) {
	v := devicesView{Available: s.wa != nil}
	if s.wa == nil {
		s.render(c, http.StatusOK, "device_list", v)
		return
	}
	ctx := c.Request.Context()
	users, err := s.svc.Users(ctx, actor(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	devices, err := s.wa.Devices(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	byID := map[string]incident.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	has := map[string]bool{}
	for i := range devices {
		d := &devices[i]
		has[d.WorkerID] = true
		u := byID[d.WorkerID]
		v.Devices = append(v.Devices, deviceItem{Username: u.Username, DisplayName: u.DisplayName, Device: d})
	}
	for _, u := range users {
		if !has[u.ID] && (u.Role == incident.RoleWorker || u.Role == incident.RoleSupervisor) {
			v.Devices = append(v.Devices, deviceItem{Username: u.Username, DisplayName: u.DisplayName})
		}
	}
	slices.SortStableFunc(v.Devices, func(a, b deviceItem) int { return strings.Compare(a.Username, b.Username) })
	s.render(c, http.StatusOK, "device_list", v)
}
