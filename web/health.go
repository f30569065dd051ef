package web

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ReadinessCheck is one thing /readyz asks about. Check must not change
// anything a retention lock would keep (no test objects in the vault).
type ReadinessCheck struct {
	// Name says which check failed: "database", "schema", "vault",
	// "whatsapp_device_store". It is the only thing the answer tells
	// about a failure; the error itself goes to the server log.
	Name  string
	Check func(ctx context.Context) error
}

// readinessTimeout bounds all checks together: a probe that hangs is as
// bad as one that fails.
const readinessTimeout = 5 * time.Second

// healthStatus is the JSON body of /healthz and /readyz.
type healthStatus struct {
	Status string            `json:"status"`           // "ok" or "unavailable"
	Checks map[string]string `json:"checks,omitempty"` // check name: "ok" or "failed"
	Failed []string          `json:"failed,omitempty"` // names of the failed checks, in order
}

// healthz answers while the process serves requests; it reads nothing.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, healthStatus{Status: "ok"})
}

// readyz runs every readiness check and answers 200 when all pass, else
// 503 naming the failed checks — never their error text, which can carry
// driver details.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readinessTimeout)
	defer cancel()
	res := healthStatus{Status: "ok", Checks: map[string]string{}}
	for _, chk := range s.readiness {
		if err := chk.Check(ctx); err != nil {
			s.log.Warn("readiness check failed", "request_id", st(c).requestID, "check", chk.Name, "err", err)
			res.Checks[chk.Name] = "failed"
			res.Failed = append(res.Failed, chk.Name)
			continue
		}
		res.Checks[chk.Name] = "ok"
	}
	if len(res.Failed) > 0 {
		res.Status = "unavailable"
		retryAfter(c, http.StatusServiceUnavailable)
		c.JSON(http.StatusServiceUnavailable, res)
		return
	}
	c.JSON(http.StatusOK, res)
}

// isProbe reports whether the matched route is a health probe, which
// reads no session: a probe must answer the same with or without a
// cookie, and while the session store is away.
func isProbe(c *gin.Context) bool {
	p := c.FullPath()
	return p == "/healthz" || p == "/readyz"
}
