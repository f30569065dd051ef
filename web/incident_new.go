package web

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"

	"github.com/tresor-evidence/tresor/policies"
)

// newView is the flag form: category, description, the message, platform.
type newView struct {
	Categories []policies.Category
	Platforms  []policies.PlatformGuide
	MediaTypes []string
	Kinds      []incident.MessageKind // what a described message can be
	MaxMiB     int64                  // the upload limit in MiB, rounded up
	Form       flagForm
	// WhatsApp: the worker may pick a recent captured message.
	WhatsApp bool
	Recent   []recentItem
	// RecentFailed: the recent messages could not be read.
	RecentFailed bool
}

// incidentNew shows the flag form.
func (s *Server) incidentNew(c *gin.Context) {
	v := s.newView(flagForm{})
	if s.wa != nil {
		v.WhatsApp = true
		refs, err := s.wa.RecentMessages(c.Request.Context(), actor(c).ID)
		if err != nil {
			// The manual reference and the upload still work.
			s.log.Error("recent whatsapp messages", "request_id", st(c).requestID, "err", incident.ErrorClass(err))
			v.RecentFailed = true
		}
		for _, m := range refs {
			v.Recent = append(v.Recent, toRecentItem(m))
		}
	}
	s.render(c, http.StatusOK, "incident_new", v)
}

// recentMessage returns the worker's own recent captured message by id.
func (s *Server) recentMessage(c *gin.Context, id string) (incident.MessageRef, error) {
	if s.wa == nil {
		return incident.MessageRef{}, incident.ErrUnavailable
	}
	refs, err := s.wa.RecentMessages(c.Request.Context(), actor(c).ID)
	if err != nil {
		return incident.MessageRef{}, err
	}
	for _, m := range refs {
		if m.ID == id {
			return m, nil
		}
	}
	return incident.MessageRef{}, fmt.Errorf("%w: the chosen message is no longer among your recent messages; enter its reference by hand", incident.ErrInvalidInput)
}

func (s *Server) newView(f flagForm) newView {
	return newView{Categories: s.policy.Categories, Platforms: s.policy.Platforms(), MediaTypes: s.policy.UploadTypes, Kinds: incident.MessageKinds,
		MaxMiB: (s.policy.UploadMaxBytes + 1<<20 - 1) >> 20, Form: f}
}
