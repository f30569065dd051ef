package web

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// whatsappView is the "WhatsApp verbinden" page: what linking means, the
// consent form, the device's status and the unlink form.
type whatsappView struct {
	Available      bool
	Device         *DeviceView // nil: never linked
	Linking        bool        // an attempt is running: continue on the linking page
	CanLink        bool        // the consent form is offered
	CanUnlink      bool
	ConsentMissing bool
	ConfirmMissing bool
	CaptureHours   int
	FlagHoldDays   int
}

// whatsappPage explains linking and shows the worker's own device.
func (s *Server) whatsappPage(c *gin.Context) {
	v, err := s.whatsappView(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "whatsapp", v)
}

func (s *Server) whatsappView(c *gin.Context) (whatsappView, error) {
	v := whatsappView{Available: s.wa != nil, CaptureHours: int(s.policy.CaptureWindow.Hours())}
	if s.wa == nil {
		return v, nil
	}
	v.FlagHoldDays = int(s.wa.FlagHold().Hours() / 24)
	a := actor(c)
	d, err := s.wa.Device(c.Request.Context(), a.ID)
	switch {
	case errors.Is(err, incident.ErrNotFound):
	case err != nil:
		return v, err
	default:
		v.Device = &d
	}
	_, snap, _ := s.links.run(a.ID)
	v.Linking = snap.State == linkStarting || snap.State == linkShowing
	v.CanLink = !v.Linking && (v.Device == nil || !v.Device.Linked())
	v.CanUnlink = v.Device != nil && v.Device.Status != incident.DeviceUnlinked
	return v, nil
}

// whatsappTicked is the common start of the WhatsApp page's forms: it
// needs WhatsApp to be available and the form's checkbox to be ticked;
// otherwise it answers (shows the page again with mark applied) and
// reports false.
func (s *Server) whatsappTicked(c *gin.Context, ticked bool, mark func(*whatsappView)) bool {
	if s.wa == nil {
		s.fail(c, incident.ErrUnavailable)
		return false
	}
	if ticked {
		return true
	}
	v, err := s.whatsappView(c)
	if err != nil {
		s.fail(c, err)
		return false
	}
	mark(&v)
	s.render(c, http.StatusBadRequest, "whatsapp", v)
	return false
}
