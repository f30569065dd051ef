package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
)

const (
	// apiTokenPrefix marks Tresor tokens, so that secret scanners find them.
	apiTokenPrefix = "tresor_pat_"
	// maxActiveTokens bounds a user's active tokens.
	maxActiveTokens = 10
	maxTokenName    = 100
)

// tokenCreate creates an API token for the signed-in user and shows it
// once; only its SHA-256 is stored.
func (s *Server) tokenCreate(c *gin.Context) {
	var f tokenForm
	if err := bind(c, &f); err != nil {
		s.fail(c, err)
		return
	}
	name := strings.TrimSpace(f.Name)
	if name == "" || utf8.RuneCountInString(name) > maxTokenName {
		s.fail(c, fmt.Errorf("%w: name the token (at most %d characters)", incident.ErrInvalidInput, maxTokenName))
		return
	}
	days, err := strconv.Atoi(f.Days)
	if err != nil || !slices.Contains(tokenDays, days) {
		s.fail(c, fmt.Errorf("%w: choose a lifetime", incident.ErrInvalidInput))
		return
	}
	ctx := c.Request.Context()
	u := st(c).user
	v, err := s.tokensView(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	active := 0
	for _, t := range v.Tokens {
		if t.Active {
			active++
		}
	}
	if active >= maxActiveTokens {
		s.fail(c, fmt.Errorf("%w: at most %d active tokens; revoke one first", incident.ErrConflict, maxActiveTokens))
		return
	}
	secret, err := s.token(32)
	if err != nil {
		s.fail(c, err)
		return
	}
	id, err := s.token(12)
	if err != nil {
		s.fail(c, err)
		return
	}
	tok := apiTokenPrefix + secret
	now := s.now()
	t := account.APIToken{ID: id, UserID: u.ID, Name: name, TokenHash: account.HashToken(tok), CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(days) * 24 * time.Hour)}
	err = s.svc.RecordAuthChange(ctx, u.Actor(), incident.AuthTokenCreated, u.ID, func(ctx context.Context, acc account.Store) error {
		return acc.CreateAPIToken(ctx, t)
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	if v, err = s.tokensView(c); err != nil {
		s.fail(c, err)
		return
	}
	v.New, v.NewName = tok, name
	s.render(c, http.StatusOK, "tokens", v)
}
