package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/internal/oidcrp"
)

// oidcFlowCookie holds the started flow (state, nonce, PKCE verifier,
// when it started, and for a step-up the account and the page to return
// to). It is SameSite=Lax, unlike the session cookie, because it must
// come along on the provider's cross-site redirect back; it lives only as
// long as a flow may take and is deleted when the flow ends.
//
// Its value carries an HMAC under a key derived from the secret key: the
// step-up's freshness rule compares the provider's auth_time with the
// flow's start, and the account it confirms is named in the flow, so a
// person must not be able to set either by editing the cookie.
const oidcFlowCookie = "tresor_oidc_flow"

// oidcFlowKeyLabel derives the flow cookie's HMAC key from the secret key.
const oidcFlowKeyLabel = "tresor/oidc-flow/v1"

// flowMAC is the flow cookie's HMAC of value, base64url.
func (s *Server) flowMAC(value string) string {
	m := hmac.New(sha256.New, s.flowKey)
	m.Write([]byte(value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// keepFlow sets the flow cookie for a flow just started.
func (s *Server) keepFlow(c *gin.Context, f oidcrp.Flow) {
	v := f.Encode()
	s.setFlowCookie(c, v+"~"+s.flowMAC(v), int(oidcrp.FlowTTL.Seconds()))
}

// takeFlow reads the flow cookie and deletes it: one answer per flow,
// whatever it is. A missing, altered or malformed cookie is oidcrp.ErrFlow.
func (s *Server) takeFlow(c *gin.Context) (oidcrp.Flow, error) {
	raw, err := c.Cookie(s.cookieName(oidcFlowCookie))
	s.setFlowCookie(c, "", -1)
	if err != nil {
		return oidcrp.Flow{}, oidcrp.ErrFlow
	}
	v, mac, ok := strings.Cut(raw, "~")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.flowMAC(v))) {
		return oidcrp.Flow{}, oidcrp.ErrFlow
	}
	return oidcrp.DecodeFlow(v)
}

func (s *Server) setFlowCookie(c *gin.Context, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: s.cookieName(oidcFlowCookie), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.tls, SameSite: http.SameSiteLaxMode})
}
