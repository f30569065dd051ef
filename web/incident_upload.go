package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// uploadFileField is the form field of the file; it must be the last part.
const uploadFileField = "file"

// refusedView is the page shown when the category forbids copying
// content: the policy's guidance instead of an upload.
type refusedView struct {
	Category policies.Category
}

// incidentUpload opens an incident for a file received on another
// channel. The multipart body is read part by part and the file streamed
// straight into the vault (incident.Service.FlagUpload): no part is
// spooled to disk, so the plaintext never rests anywhere. The parts must
// come in form order: the CSRF token first — checked before anything else
// is read, which is why the router leaves this route's CSRF check to the
// handler (csrfInHandler) — then category, description and platform, and
// the file last.
func (s *Server) incidentUpload(c *gin.Context) {
	f, file, ok := s.readUploadForm(c, false)
	if !ok {
		return
	}
	pl, err := s.policy.ParsePlatform(f.Platform)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err))
		return
	}
	cat, err := s.policy.Category(f.Category)
	if err != nil {
		s.fail(c, fmt.Errorf("%w: %w", incident.ErrInvalidInput, err))
		return
	}
	if cat.Securing != policies.SecureContent {
		// Not one byte of the file is read: copying it may itself be an
		// offence (§184b StGB).
		s.render(c, http.StatusUnprocessableEntity, "upload_refused", refusedView{Category: cat})
		c.Abort()
		return
	}
	// The file part goes to the domain unread: it tells the type from the
	// first bytes and holds the file to the policy's types and size.
	inc, err := s.svc.FlagUpload(c.Request.Context(), actor(c),
		incident.FlagInput{Category: cat.ID, Description: f.Description, Platform: pl,
			Message: incident.MessageRef{FileName: safeFileName(file.FileName())}}, incident.Part{Size: -1, Content: file})
	if err != nil {
		s.fail(c, uploadReadError(err))
		return
	}
	s.redirect(c, "/incidents/"+inc.ID+"?done=uploaded")
}

// readUploadForm checks the request's origin and its CSRF token (the
// first part, before anything else is read), then reads the small fields
// up to the file part, which it returns unread. ok is false when the
// error response was written.
func (s *Server) readUploadForm(c *gin.Context, choice bool) (f submitForm, file *multipart.Part, ok bool) {
	if !s.sameOrigin(c.Request) {
		s.failStatus(c, http.StatusForbidden)
		return f, nil, false
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		s.fail(c, fmt.Errorf("%w: send the form as multipart/form-data", incident.ErrInvalidInput))
		return f, nil, false
	}
	if !s.uploadCSRF(c, mr) {
		s.formExpired(c)
		return f, nil, false
	}
	if file, err = uploadFields(mr, &f, choice); err != nil {
		s.fail(c, err)
		return f, nil, false
	}
	return f, file, true
}

// uploadCSRF reads the first part, which must be the CSRF token of the
// session, and compares it in constant time. No other part is read before.
func (s *Server) uploadCSRF(c *gin.Context, mr *multipart.Reader) bool {
	p, err := mr.NextPart()
	if err != nil || p.FormName() != csrfField || p.FileName() != "" {
		return false
	}
	tok, err := readField(p, 256)
	return err == nil && csrfEqual(tok, s.expectedCSRF(c))
}

// uploadFields reads the small fields into f up to the file part, which
// it returns unread. With choice, the fields of an uncaptured message's
// choice are read too and the file may be missing (nil).
func uploadFields(mr *multipart.Reader, f *submitForm, choice bool) (*multipart.Part, error) {
	seen := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if choice {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: the file is missing", incident.ErrInvalidInput)
		}
		if err != nil {
			return nil, uploadReadError(err)
		}
		name := p.FormName()
		if seen[name] {
			return nil, fmt.Errorf("%w: field %q sent twice", incident.ErrInvalidInput, name)
		}
		seen[name] = true
		if name == uploadFileField {
			return p, nil
		}
		if p.FileName() != "" {
			return nil, fmt.Errorf("%w: only one file per upload", incident.ErrInvalidInput)
		}
		var into *string
		limit := 100
		switch name {
		case "category":
			into = &f.Category
		case "platform":
			into = &f.Platform
		case "description":
			into, limit = &f.Description, incident.MaxDescription
		case "choice":
			if choice {
				into = &f.Choice
			}
		case "reason":
			if choice {
				into, limit = &f.Reason, incident.MaxDescription
			}
		}
		if into == nil {
			return nil, fmt.Errorf("%w: unexpected field %q", incident.ErrInvalidInput, name)
		}
		if *into, err = readField(p, limit); err != nil {
			return nil, err
		}
	}
}

// readField reads a small form value of at most limit bytes.
func readField(p *multipart.Part, limit int) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, int64(limit)+1))
	if err != nil {
		return "", uploadReadError(err)
	}
	if len(b) > limit {
		return "", fmt.Errorf("%w: field %q is longer than %d bytes", incident.ErrInvalidInput, p.FormName(), limit)
	}
	return string(b), textField(p.FormName(), string(b))
}

// uploadReadError keeps a body over the limit (413) and domain errors as
// they are and turns a malformed or truncated multipart body into invalid
// input. Other errors (the vault, the store) stay server errors.
func uploadReadError(err error) error {
	if tooBig, ok := errors.AsType[*incident.UploadTooLargeError](err); ok {
		return &http.MaxBytesError{Limit: tooBig.Limit}
	}
	if statusOf(err) != http.StatusInternalServerError {
		return err
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, multipart.ErrMessageTooLarge) || strings.HasPrefix(err.Error(), "multipart: ") {
		return fmt.Errorf("%w: malformed or interrupted upload: %w", incident.ErrInvalidInput, err)
	}
	return err
}
