package web

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// incidentCreate flags a message by its reference. The web path does not
// take the file itself yet: the vault is not wired into the web server, so
// the worker gives the WhatsApp message id and, optionally, the file hash.
func (s *Server) incidentCreate(c *gin.Context) {
	var f flagForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	in, err := s.flagInput(f)
	if err != nil {
		s.fail(c, err)
		return
	}
	inc, err := s.svc.Flag(c.Request.Context(), actor(c), in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.redirect(c, "/incidents/"+inc.ID+"?done=flagged")
}

func (s *Server) flagInput(f flagForm) (incident.FlagInput, error) {
	pl, err := policies.ParsePlatform(f.Platform)
	if err != nil {
		return incident.FlagInput{}, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err)
	}
	hash := strings.ToLower(strings.TrimSpace(f.FileSHA256))
	if hash != "" && !sha256Hex.MatchString(hash) {
		return incident.FlagInput{}, fmt.Errorf("%w: the file hash must be 64 hexadecimal digits", incident.ErrInvalidInput)
	}
	mt := strings.ToLower(strings.TrimSpace(f.MediaType))
	if mt != "" && !slices.Contains(s.policy.UploadTypes, mt) {
		return incident.FlagInput{}, fmt.Errorf("%w: media type %q is not allowed by the policy", incident.ErrInvalidInput, mt)
	}
	if strings.TrimSpace(f.Category) == "" {
		return incident.FlagInput{}, fmt.Errorf("%w: choose a category", incident.ErrInvalidInput)
	}
	return incident.FlagInput{
		Channel:     incident.ChannelWhatsApp,
		Message:     incident.MessageRef{ID: strings.TrimSpace(f.MessageID), MediaType: mt, FileSHA256: hash},
		Category:    f.Category,
		Description: f.Description,
		Platform:    pl,
	}, nil
}
