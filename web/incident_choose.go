package web

import (
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// incidentChoose completes an incident whose message Tresor did not
// capture with the worker's choice: secure the metadata, upload the
// content received on another channel, or mark it not securable with a
// reason. The form is multipart because of the upload and is read as in
// incidentUpload: the CSRF token first (checked before anything else),
// the small fields, the file last; the file is streamed into the vault
// only when the choice is the upload, and never read otherwise.
func (s *Server) incidentChoose(c *gin.Context) {
	f, file, ok := s.readUploadForm(c, true)
	if !ok {
		return
	}
	pl, err := s.policy.ParsePlatform(f.Platform)
	if err != nil {
		s.failChoice(c, f, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err))
		return
	}
	in := incident.SubmitInput{Category: f.Category, Description: f.Description, Platform: pl,
		Choice: incident.UncapturedChoice(f.Choice), Reason: f.Reason}
	var inc incident.Incident
	if in.Choice == incident.ChoiceUpload {
		inc, err = s.chooseUpload(c, file, in)
	} else {
		inc, err = s.svc.Submit(c.Request.Context(), actor(c), c.Param("id"), in)
	}
	if err != nil {
		s.failChoice(c, f, uploadReadError(err))
		return
	}
	s.redirect(c, "/incidents/"+inc.ID+"?done=submitted")
}

// errNoFile: the upload choice came without a file.
var errNoFile = fmt.Errorf("%w: choose the file you received on the other channel", incident.ErrInvalidInput)

// failChoice shows the incident page again with what the worker typed and
// what to do next when the choice was refused for its input; other errors
// get the error page.
func (s *Server) failChoice(c *gin.Context, f submitForm, err error) {
	status := statusOf(err)
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
	default:
		s.fail(c, err)
		return
	}
	key := detailKey(err)
	switch {
	case errors.Is(err, errNoFile):
		key = "uncaptured.error.no_file"
	case errors.Is(err, incident.ErrReasonRequired):
		key = "uncaptured.error.reason"
	case errors.Is(err, incident.ErrContentForbidden):
		key = "uncaptured.error.content_forbidden"
	case status == http.StatusRequestEntityTooLarge:
		key = "uncaptured.error.too_large"
	}
	s.renderIncident(c, status, f, key)
	c.Abort()
}

// chooseUpload streams the file of the upload choice into the vault. A
// category that forbids content is refused before the file is read.
func (s *Server) chooseUpload(c *gin.Context, file *multipart.Part, in incident.SubmitInput) (incident.Incident, error) {
	cat, err := s.policy.Category(in.Category)
	if err != nil {
		return incident.Incident{}, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err)
	}
	if cat.Securing != policies.SecureContent {
		return incident.Incident{}, fmt.Errorf("%w: category %q: secure the metadata instead", incident.ErrContentForbidden, cat.ID)
	}
	if file == nil || file.FileName() == "" {
		return incident.Incident{}, errNoFile
	}
	return s.svc.SubmitUpload(c.Request.Context(), actor(c), c.Param("id"), in, incident.Part{Size: -1, Content: file})
}
