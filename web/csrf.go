package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// csrfField is the form field carrying the synchronizer token.
const csrfField = "csrf"

// checkCSRF refuses a state-changing request from another origin, or one
// whose token does not match the session's (or, before sign-in, the
// visitor cookie's). Nothing is changed when it refuses.
func (s *Server) checkCSRF(c *gin.Context) {
	if !s.sameOrigin(c.Request) {
		s.failStatus(c, http.StatusForbidden)
		c.Abort()
		return
	}
	if !csrfEqual(c.PostForm(csrfField), s.expectedCSRF(c)) {
		s.formExpired(c)
		c.Abort()
		return
	}
	c.Next()
}

// csrfEqual compares a presented token with the expected one in constant
// time; an empty expectation never matches.
func csrfEqual(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

func (s *Server) expectedCSRF(c *gin.Context) string {
	if sess := st(c).session; sess != nil {
		return sess.CSRF
	}
	v, err := c.Cookie(s.cookieName("tresor-pre"))
	if err != nil {
		return ""
	}
	return v
}

// sameOrigin checks Sec-Fetch-Site and Origin when the browser sends them.
func (s *Server) sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if origin == "null" {
		// Under Referrer-Policy no-referrer browsers send "Origin: null"
		// with form POSTs. Sec-Fetch-Site, which pages cannot forge, then
		// decides; the session-bound token is required in any case.
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	scheme := "http"
	if s.tls {
		scheme = "https"
	}
	return u.Scheme == scheme && u.Host == r.Host
}

// csrfToken is the token to put into forms, creating the visitor cookie
// for someone not signed in.
func (s *Server) csrfToken(c *gin.Context) (string, error) {
	rs := st(c)
	if rs.session != nil {
		return rs.session.CSRF, nil
	}
	if rs.preToken != "" {
		return rs.preToken, nil
	}
	if v, err := c.Cookie(s.cookieName("tresor-pre")); err == nil && len(v) >= 32 {
		rs.preToken = v
		return v, nil
	}
	tok, err := s.token(32)
	if err != nil {
		return "", err
	}
	s.setCookie(c, "tresor-pre", tok, 0)
	rs.preToken = tok
	return tok, nil
}
