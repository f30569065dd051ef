package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages holds, per language, one parsed template set per page: the
// layout plus the page, with the language's constant texts folded in.
type pages struct {
	byLang map[string]map[string]*template.Template
}

func loadPages(cat catalogs) (*pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	p := &pages{byLang: map[string]map[string]*template.Template{}}
	for _, lang := range languages {
		p.byLang[lang] = map[string]*template.Template{}
		for _, n := range names {
			name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
			if name == "layout" || name == "partials" {
				continue
			}
			t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
			if err != nil {
				return nil, fmt.Errorf("web: template %s: %w", name, err)
			}
			for _, tt := range t.Templates() {
				if tt.Tree != nil {
					foldTexts(tt.Tree.Root, cat[lang])
				}
			}
			p.byLang[lang][name] = t
		}
	}
	return p, nil
}

// foldTexts replaces every {{.L.T "key"}} and {{$.L.T "key"}} under n by
// the constant message, before html/template first escapes the tree: the
// message is then escaped for its context like any other value, but a
// page no longer looks up and calls a method for each of its hundreds of
// labels (that was a third of the incident page's rendering time). A
// missing key stays the key itself, as localizer.T shows it.
func foldTexts(n parse.Node, msgs map[string]string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				foldTexts(c, msgs)
			}
		}
	case *parse.ActionNode:
		foldTexts(n.Pipe, msgs)
	case *parse.IfNode:
		foldBranch(&n.BranchNode, msgs)
	case *parse.RangeNode:
		foldBranch(&n.BranchNode, msgs)
	case *parse.WithNode:
		foldBranch(&n.BranchNode, msgs)
	case *parse.TemplateNode:
		foldTexts(n.Pipe, msgs)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			if key, ok := constantT(cmd); ok {
				msg, found := msgs[key.Text]
				if !found {
					msg = key.Text
				}
				key.Text, key.Quoted = msg, strconv.Quote(msg)
				cmd.Args = []parse.Node{key}
				continue
			}
			for _, a := range cmd.Args {
				foldTexts(a, msgs)
			}
		}
	}
}

func foldBranch(b *parse.BranchNode, msgs map[string]string) {
	foldTexts(b.Pipe, msgs)
	foldTexts(b.List, msgs)
	foldTexts(b.ElseList, msgs)
}

// constantT reports whether cmd is .L.T or $.L.T with one string
// argument, and returns that argument.
func constantT(cmd *parse.CommandNode) (*parse.StringNode, bool) {
	if len(cmd.Args) != 2 {
		return nil, false
	}
	key, ok := cmd.Args[1].(*parse.StringNode)
	if !ok {
		return nil, false
	}
	switch f := cmd.Args[0].(type) {
	case *parse.FieldNode:
		return key, slices.Equal(f.Ident, []string{"L", "T"})
	case *parse.VariableNode:
		return key, slices.Equal(f.Ident, []string{"$", "L", "T"})
	}
	return nil, false
}

// view is what every page template receives.
type view struct {
	L     *localizer
	CSRF  string
	User  *incident.User // nil when not signed in
	Stage account.SessionStage
	Path  string
	Flash string // a translated confirmation, or ""
	// Waiting is the supervisor's count of requests waiting for their
	// decision, shown in the header.
	Waiting int
	// InitialPassword reminds admins to delete the first admin's
	// password file while it exists; nil otherwise.
	InitialPassword *initialPasswordView
	// IdentityProvider names the identity provider the login page offers
	// first ("Anmelden mit …"); "" when none is configured.
	IdentityProvider string
	Data             any
}

// Is reports whether the signed-in user has role r (for navigation).
func (v view) Is(r string) bool {
	return v.User != nil && v.Stage == account.StageActive && string(v.User.Role) == r
}

// Active reports whether the user is fully signed in.
func (v view) Active() bool { return v.User != nil && v.Stage == account.StageActive }

// partial is the data of a shared fragment (partials.html).
type partial struct {
	L    *localizer
	CSRF string
	Page string // the path of the page the fragment is on
	Req  *requestView
	Inc  incident.Incident
}

// Req wraps a request for a fragment.
func (v view) Req(r requestView) partial { return partial{L: v.L, CSRF: v.CSRF, Page: v.Path, Req: &r} }

// stepUpBox is the step-up part of a decision form at the identity
// provider: the confirmation button, or until when the confirmation
// serves the next decision.
type stepUpBox struct {
	L     *localizer
	CSRF  string
	Page  string // the approval page to come back to
	S     stepUpView
	Again bool // the decision came without a confirmation: confirm again
}

// StepUpBox is the step-up part of a request's decision form.
func (p partial) StepUpBox() stepUpBox {
	return stepUpBox{L: p.L, CSRF: p.CSRF, Page: p.Page, S: p.Req.StepUp, Again: p.Req.Retry != nil && p.Req.Retry.ConfirmAgain}
}

// StepUpBox is the step-up part of a page's decision forms.
func (v view) StepUpBox(s stepUpView, again bool) stepUpBox {
	return stepUpBox{L: v.L, CSRF: v.CSRF, Page: v.Path, S: s, Again: again}
}

// Inc wraps an incident for a fragment.
func (v view) Inc(inc incident.Incident) partial { return partial{L: v.L, CSRF: v.CSRF, Inc: inc} }

// render executes a page into a buffer first, so that a template error
// becomes a clean 500 instead of half a page.
func (s *Server) render(c *gin.Context, status int, name string, data any) {
	rs := st(c)
	l := s.localizer(rs.lang)
	tok, err := s.csrfToken(c)
	if err != nil {
		s.log.Error("csrf token", "request_id", rs.requestID, "err", incident.ErrorClass(err))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	v := view{L: l, CSRF: tok, Path: c.Request.URL.Path, Data: data, IdentityProvider: s.idpName}
	if s.idp == nil {
		v.IdentityProvider = ""
	}
	if rs.page != "" {
		v.Path = rs.page
	}
	if rs.session != nil {
		u := rs.user
		v.User, v.Stage = &u, rs.session.Stage
		if v.Is(string(incident.RoleSupervisor)) {
			n, err := s.svc.Waiting(c.Request.Context(), u.Actor())
			if err != nil {
				// The count is a hint; the page itself must still show.
				s.log.Error("waiting count", "request_id", rs.requestID, "err", incident.ErrorClass(err))
			}
			v.Waiting = n
		}
		if v.Is(string(incident.RoleAdmin)) {
			v.InitialPassword = s.initialPasswordNotice(rs.requestID)
		}
	}
	if done := c.Query("done"); done != "" && l.Has("flash."+done) {
		v.Flash = l.T("flash." + done)
	}
	t, ok := s.pages.byLang[l.lang][name]
	if !ok {
		s.log.Error("no such template", "request_id", rs.requestID, "template", name)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		s.log.Error("template failed", "request_id", rs.requestID, "template", name, "err", incident.ErrorClass(err))
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
