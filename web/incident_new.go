package web

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/policies"
)

// newView is the flag form: category, description, the message, platform.
type newView struct {
	Categories []policies.Category
	Platforms  []policies.Platform
	MediaTypes []string
	MaxMiB     int64 // the upload limit in MiB, rounded up
	Form       flagForm
}

// incidentNew shows the flag form.
func (s *Server) incidentNew(c *gin.Context) {
	s.render(c, http.StatusOK, "incident_new", s.newView(flagForm{}))
}

func (s *Server) newView(f flagForm) newView {
	return newView{Categories: s.policy.Categories, Platforms: policies.Platforms(), MediaTypes: s.policy.UploadTypes,
		MaxMiB: (s.policy.UploadMaxBytes + 1<<20 - 1) >> 20, Form: f}
}
