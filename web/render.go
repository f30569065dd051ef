package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/incident"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds one parsed template set per page: the layout plus the page.
type pages struct{ byName map[string]*template.Template }

func loadPages() (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.byName[name] = t
	}
	return p, nil
}

// view is what every page template receives.
type view struct {
	L     *localizer
	CSRF  string
	User  *incident.User // nil when not signed in
	Stage incident.SessionStage
	Path  string
	Flash string // a translated confirmation, or ""
	Data  any
}

// Is reports whether the signed-in user has role r (for navigation).
func (v view) Is(r string) bool {
	return v.User != nil && v.Stage == incident.StageActive && string(v.User.Role) == r
}

// Active reports whether the user is fully signed in.
func (v view) Active() bool { return v.User != nil && v.Stage == incident.StageActive }

// partial is the data of a shared fragment (partials.html).
type partial struct {
	L    *localizer
	CSRF string
	Req  *requestView
	Inc  incident.Incident
}

// Req wraps a request for a fragment.
func (v view) Req(r requestView) partial { return partial{L: v.L, CSRF: v.CSRF, Req: &r} }

// Inc wraps an incident for a fragment.
func (v view) Inc(inc incident.Incident) partial { return partial{L: v.L, CSRF: v.CSRF, Inc: inc} }

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(c *gin.Context, status int, name string, data any) {
	rs := st(c)
	l := s.localizer(rs.lang)
	tok, err := s.csrfToken(c)
	if err != nil {
		s.log.Error("csrf token", "request_id", rs.requestID, "err", err.Error())
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	v := view{L: l, CSRF: tok, Path: c.Request.URL.Path, Data: data}
	if rs.session != nil {
		u := rs.user
		v.User, v.Stage = &u, rs.session.Stage
	}
	if done := c.Query("done"); done != "" && l.Has("flash."+done) {
		v.Flash = l.T("flash." + done)
	}
	t, ok := s.pages.byName[name]
	if !ok {
		s.log.Error("no such template", "request_id", rs.requestID, "template", name)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("template failed", "request_id", rs.requestID, "template", name, "err", err.Error())
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
