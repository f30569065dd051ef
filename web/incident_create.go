package web

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// incidentCreate flags a message by its reference: one of the worker's
// recent captured messages (its metadata comes from the capture), or the
// message as the worker describes it (chat, time received, kind), or, as
// the API does, the WhatsApp message id with, optionally, media type and
// file hash. Files received elsewhere go through incidentUpload.
func (s *Server) incidentCreate(c *gin.Context) {
	var f flagForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	var pick pickForm
	if err := bind(c, &pick); err != nil {
		s.fail(c, err)
		return
	}
	in, err := s.flagInput(f)
	if pick.Recent != "" {
		in, err = s.pickedInput(c, f, pick.Recent)
	}
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
	pl, err := s.policy.ParsePlatform(f.Platform)
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
	seen, err := s.seenInput(f)
	if err != nil {
		return incident.FlagInput{}, err
	}
	return incident.FlagInput{
		Channel:     incident.ChannelWhatsApp,
		Message:     incident.MessageRef{ID: strings.TrimSpace(f.MessageID), MediaType: mt, FileSHA256: hash, Seen: seen},
		Category:    f.Category,
		Description: f.Description,
		Platform:    pl,
	}, nil
}

// pickedInput flags the worker's recent captured message id: the reference
// is the capture's metadata, not what the form says. A manual reference
// naming another message is refused rather than guessed between.
func (s *Server) pickedInput(c *gin.Context, f flagForm, id string) (incident.FlagInput, error) {
	if manual := strings.TrimSpace(f.MessageID); manual != "" && manual != id {
		return incident.FlagInput{}, fmt.Errorf("%w: pick a recent message or enter a reference, not both", incident.ErrInvalidInput)
	}
	ref, err := s.recentMessage(c, id)
	if err != nil {
		return incident.FlagInput{}, err
	}
	f.MessageID, f.MediaType, f.FileSHA256 = ref.ID, "", ""
	f.SeenChat, f.ReceivedAt, f.Kind = "", "", "" // the capture knows the message
	in, err := s.flagInput(f)
	if err != nil {
		return incident.FlagInput{}, err
	}
	in.Message = ref
	return in, nil
}

// seenInput reads the message as the worker described it; all empty
// means not described. The time is read in the provider's zone, as the
// phone shows it; the domain checks the rest.
func (s *Server) seenInput(f flagForm) (incident.SeenMessage, error) {
	chat, at, kind := strings.TrimSpace(f.SeenChat), strings.TrimSpace(f.ReceivedAt), strings.TrimSpace(f.Kind)
	if chat == "" && at == "" && kind == "" {
		return incident.SeenMessage{}, nil
	}
	if chat == "" {
		return incident.SeenMessage{}, fmt.Errorf("%w: name the chat as WhatsApp shows it", incident.ErrInvalidInput)
	}
	seen := incident.SeenMessage{Chat: chat, Kind: incident.MessageKind(kind)}
	if at == "" {
		return seen, nil // the domain asks for it
	}
	t, err := time.ParseInLocation("2006-01-02T15:04", at, s.policy.TimeZone)
	if err != nil {
		if t, err = time.ParseInLocation("2006-01-02T15:04:05", at, s.policy.TimeZone); err != nil {
			return incident.SeenMessage{}, fmt.Errorf("%w: enter the time received as date and time", incident.ErrInvalidInput)
		}
	}
	seen.ReceivedAt = t
	return seen, nil
}
