package web

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/tresor-evidence/tresor/account"
)

// tokensView is the user's API token page.
type tokensView struct {
	Tokens []tokenItem
	// New is the token just created, shown this once; never stored.
	New     string
	NewName string
	Days    []int
}

type tokenItem struct {
	account.APIToken
	Active bool
}

// tokenDays are the lifetimes a user can choose; the first is the default.
var tokenDays = []int{30, 7, 90, 180, 365}

// tokenList shows the user's API tokens (never the tokens themselves).
func (s *Server) tokenList(c *gin.Context) {
	v, err := s.tokensView(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.render(c, http.StatusOK, "tokens", v)
}

func (s *Server) tokensView(c *gin.Context) (tokensView, error) {
	ts, err := s.accounts.APITokens(c.Request.Context(), st(c).user.ID)
	if err != nil {
		return tokensView{}, err
	}
	v := tokensView{Days: tokenDays}
	now := s.now()
	for _, t := range ts {
		v.Tokens = append(v.Tokens, tokenItem{APIToken: t, Active: t.Active(now)})
	}
	return v, nil
}
