package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// enrollView is the second-factor page: either the status of an enabled
// factor, or the setup of a new one.
type enrollView struct {
	Enabled       bool
	EnabledAt     time.Time
	RecoveryLeft  int
	Required      bool         // the role needs a second factor
	Key           string       // base32 secret, grouped for typing
	URI           string       // otpauth:// URI for apps that import it
	QR            template.URL // URI drawn as a QR code (data: PNG), for the app to scan
	Sealed        string       // the secret sealed for the round trip
	Error         string       // catalog key, or ""
	RecoveryCodes []string
}

// enrollForm shows the second factor's status or sets up a new one. The
// new secret travels to the confirm step sealed under the server key, so
// it is stored only once the user proved their app has it.
func (s *Server) enrollForm(c *gin.Context) {
	u := st(c).user
	ctx := c.Request.Context()
	f, err := s.accounts.SecondFactor(ctx, u.ID)
	switch {
	case err == nil:
		left, err := s.accounts.RecoveryCodesLeft(ctx, u.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.renderSetup(c, http.StatusOK, enrollView{Enabled: true, EnabledAt: f.EnabledAt, RecoveryLeft: left})
		return
	case !errors.Is(err, incident.ErrNotFound):
		s.fail(c, err)
		return
	}
	key := make([]byte, account.TOTPKeySize)
	if _, err := io.ReadFull(s.rand, key); err != nil {
		s.fail(c, fmt.Errorf("failed to generate a secret: %w", err))
		return
	}
	v, err := s.setupView(u, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.renderSetup(c, http.StatusOK, v)
}

func (s *Server) setupView(u incident.User, key []byte) (enrollView, error) {
	sealed, err := s.factors.Seal(key, account.PurposeEnroll, u.ID)
	if err != nil {
		return enrollView{}, err
	}
	uri := account.OTPAuthURI(key, u.Username)
	qr, err := qrDataURL(uri)
	if err != nil {
		return enrollView{}, err
	}
	return enrollView{Required: needsSecondFactor(u.Role), Key: account.GroupKey(key), URI: uri, QR: qr, Sealed: sealed}, nil
}

// renderSetup renders the second-factor page. While it shows a QR code,
// drawn into the page as a data: image like the WhatsApp linking page's,
// the page's CSP allows data: images (and nothing else more); the page is
// never stored (Cache-Control: no-store, as every page).
func (s *Server) renderSetup(c *gin.Context, status int, v enrollView) {
	if v.QR != "" {
		c.Header("Content-Security-Policy", s.pageCSP(c, true))
	}
	s.render(c, status, "second_factor_setup", v)
}
