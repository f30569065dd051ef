package web

import (
	"encoding/hex"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

// maxFormBytes bounds every request body; forms here are small.
const maxFormBytes = 64 << 10

// recovery turns a panic into the generic error page; the panic is logged
// with the request id and its class (panicClass), never its text.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic", "request_id", st(c).requestID, "panic", panicClass(v))
			if !c.Writer.Written() {
				s.failStatus(c, http.StatusInternalServerError)
			}
			c.Abort()
		}
	}()
	c.Next()
}

// requestID gives every request a random id, returned in X-Request-Id.
// A client-supplied id is ignored.
func (s *Server) requestID(c *gin.Context) {
	var b [12]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		s.log.Error("request id", "err", incident.ErrorClass(err))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	st(c).requestID = hex.EncodeToString(b[:])
	c.Header("X-Request-Id", st(c).requestID)
	c.Next()
}

// accessLog logs one line per request: the route pattern (never the query
// string), method, status, size and duration. It logs no form values, no
// user names and no client addresses.
func (s *Server) accessLog(c *gin.Context) {
	start := s.now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "(unmatched)"
	}
	s.log.Info("request", "request_id", st(c).requestID, "method", logMethod(c.Request.Method), "route", route,
		"status", c.Writer.Status(), "bytes", c.Writer.Size(), "duration_ms", s.now().Sub(start).Milliseconds())
}

const (
	// csp allows nothing but this origin: no inline script or style.
	csp = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
	// cspDataImages adds data: images, for the pages that show QR codes
	// drawn by the server (qrDataURL): the WhatsApp linking page and the
	// second-factor set-up.
	cspDataImages = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)

// pageCSP is the CSP of the request's page: csp, or cspDataImages for a
// page that shows a QR code. The form-action of the pages of a session
// whose sign-out goes on to the identity provider (rs.formOrigin, set by
// loadSession) allows exactly the origin of the provider's end-session
// endpoint besides 'self': the sign-out form's answer redirects there, and
// form-action governs the redirects after a form too.
func (s *Server) pageCSP(c *gin.Context, dataImages bool) string {
	p := csp
	if dataImages {
		p = cspDataImages
	}
	if o := st(c).formOrigin; o != "" {
		p = strings.Replace(p, "form-action 'self'", "form-action 'self' "+o, 1)
	}
	return p
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", csp)
	// no-referrer: not even Tresor's own pages learn where a visitor
	// came from. Browsers then send "Origin: null" on form POSTs, which
	// sameOrigin resolves with Sec-Fetch-Site.
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if s.tls {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	c.Next()
}

// limitBody caps the request body at n bytes; the original body is kept
// for the one route that may take more (see uploadBody).
func (s *Server) limitBody(n int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.Body != nil {
			st(c).rawBody = c.Request.Body
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		}
		c.Next()
	}
}

// uploadOverhead is what a multipart upload may carry besides the file:
// boundaries, part headers and the small fields.
const uploadOverhead = 64 << 10

// uploadBody lifts the body limit to the policy's upload size plus the
// multipart overhead, for the upload route only.
func (s *Server) uploadBody(c *gin.Context) {
	if raw := st(c).rawBody; raw != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, raw, s.policy.UploadMaxBytes+uploadOverhead)
	}
	c.Next()
}
