package web

import (
	"io"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

// reqState is what the middleware learns about a request.
type reqState struct {
	requestID string
	lang      string
	session   *account.Session  // nil when nobody is signed in
	user      incident.User     // set with session
	preToken  string            // CSRF token of a visitor without session
	rawBody   io.ReadCloser     // the request body before limitBody wrapped it
	apiToken  *account.APIToken // the bearer token of an API call, if any
	// page is the path of the page being shown when it is not the
	// request's (a form shown again after a POST), for the links and
	// forms that point back to the page itself.
	page string
	// formOrigin is the origin of the identity provider's end-session
	// endpoint when the session's sign-out goes on there (see pageCSP),
	// else "".
	formOrigin string
}

const stateKey = "tresor.state"

// st returns the request's state, creating it on first use.
func st(c *gin.Context) *reqState {
	if v, ok := c.Get(stateKey); ok {
		if rs, ok := v.(*reqState); ok {
			return rs
		}
	}
	rs := &reqState{lang: "de"}
	c.Set(stateKey, rs)
	return rs
}

// actor is the signed-in user acting under their role.
func actor(c *gin.Context) incident.Actor { return st(c).user.Actor() }
