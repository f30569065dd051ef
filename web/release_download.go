package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// Bundles reads sealed bundles (ciphertext only) from the vault for the
// release download. Implemented over package vault in cmd/tresor.
type Bundles interface {
	// OpenBundle streams the stored ciphertext of a bundle; errors wrap
	// incident.ErrNotFound when there is none.
	OpenBundle(ctx context.Context, id string) (io.ReadCloser, error)
}

type downloadLinkView struct {
	RequestID  string
	IncidentID string
	Token      string
	Expires    time.Time
}

// downloadLinkIssue creates a single-use, expiring link to download the
// bundle of an approved release, and shows it as a form: the token
// travels in the POST body, never in a URL.
func (s *Server) downloadLinkIssue(c *gin.Context) {
	if s.bundles == nil {
		s.failStatus(c, http.StatusServiceUnavailable)
		return
	}
	token, expires, err := s.svc.IssueDownload(c.Request.Context(), actor(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.svc.Requests(c.Request.Context(), actor(c), incident.RequestFilter{})
	if err != nil {
		s.fail(c, err)
		return
	}
	v := downloadLinkView{RequestID: c.Param("id"), Token: token, Expires: expires}
	for _, req := range r {
		if req.ID == v.RequestID {
			v.IncidentID = req.IncidentID
		}
	}
	s.render(c, http.StatusOK, "release_download", v)
}

// downloadBundle redeems a download link: the download is recorded in the
// audit log with the bundle's hash before the first byte is sent, and
// what is sent is the ciphertext exactly as sealed, never content.
func (s *Server) downloadBundle(c *gin.Context) {
	if s.bundles == nil {
		s.failStatus(c, http.StatusServiceUnavailable)
		return
	}
	var f downloadForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	receipt, err := s.svc.RedeemDownload(ctx, actor(c), c.Param("id"), f.Token)
	if err != nil {
		s.fail(c, err)
		return
	}
	rc, err := s.bundles.OpenBundle(ctx, receipt.BundleID)
	if err != nil {
		s.fail(c, fmt.Errorf("bundle %s recorded as downloaded but cannot be read: %w", receipt.BundleID, err))
		return
	}
	defer rc.Close() // read-only
	h := c.Writer.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+receipt.BundleID+`.age"`)
	h.Set("Content-Length", fmt.Sprint(receipt.CiphertextSize))
	h.Set("X-Tresor-Ciphertext-SHA256", receipt.CiphertextSHA256)
	c.Status(http.StatusOK)
	if _, err := io.Copy(c.Writer, rc); err != nil {
		s.log.Warn("release download interrupted", "bundle", receipt.BundleID, "err", incident.ErrorClass(err))
	}
}
