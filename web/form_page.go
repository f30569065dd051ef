package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// formPage is the page a refused form most likely came from, to link back
// to: the nearest route above the form's own (or the route itself) that
// answers GET, with the request's path parameters filled in —
// /incidents/:id/steps/:key/confirm leads back to /incidents/:id,
// /admin/users/:name/disabled to /admin/users, /login to /login. The
// browser sends no Referer (Referrer-Policy no-referrer), and a path
// built from the route table can point nowhere else. The two forms of a
// new incident post to /incidents, whose GET is the list: they go back to
// the form.
func formPage(c *gin.Context) string {
	pattern := c.FullPath()
	switch pattern {
	case "":
		return "/"
	case "/incidents", "/incidents/upload":
		return "/incidents/new/details"
	}
	pages := map[string]bool{}
	for _, r := range routeTable() {
		if r.method == http.MethodGet && !r.api && !r.long {
			pages[r.path] = true
		}
	}
	for p := pattern; p != "" && p != "/"; p = p[:strings.LastIndex(p, "/")] {
		if pages[p] {
			return fillParams(p, c)
		}
	}
	return "/"
}

// fillParams replaces each :name segment of a route pattern by the
// request's value of that parameter, escaped as a path segment.
func fillParams(pattern string, c *gin.Context) string {
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		if name, ok := strings.CutPrefix(seg, ":"); ok {
			segs[i] = url.PathEscape(c.Param(name))
		}
	}
	return strings.Join(segs, "/")
}
