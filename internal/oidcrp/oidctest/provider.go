// Package oidctest starts a real OpenID provider on loopback for tests:
// zitadel/oidc's op package (the same OpenID provider code its example
// server runs) over the example's in-memory storage, with users, their
// groups claim and their removal under the test's control. The login
// page is replaced by one that signs in whoever the test chose, so that
// tests need no form at the provider.
package oidctest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// GroupsClaim is the claim the provider puts the users' groups in.
const GroupsClaim = "groups"

// User is a person at the provider.
type User struct {
	Subject  string // the stable "sub"
	Username string // preferred_username
	Name     string
	Email    string
	Groups   []string
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	users *users
	srv   *httptest.Server
}

// Start runs a provider on loopback with one confidential client that may
// redirect to redirectURL; it stops when the test ends.
func Start(t testing.TB, redirectURL string) *Provider {
	t.Helper()
	p := &Provider{ClientID: "tresor", ClientSecret: "client-secret-for-tests", users: &users{m: map[string]User{}, fail: map[string]int{}}}
	p.srv = httptest.NewUnstartedServer(nil)
	p.srv.Start()
	t.Cleanup(p.srv.Close)
	p.Issuer = p.srv.URL

	clients := map[string]*storage.Client{p.ClientID: storage.WebClient(p.ClientID, p.ClientSecret, redirectURL)}
	st := &store{Storage: storage.NewStorageWithClients(p.users, clients), users: p.users}
	cfg := &op.Config{
		CryptoKey:             sha256.Sum256([]byte("oidctest")),
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		SupportedUILocales:    []language.Tag{language.German, language.English},
	}
	provider, err := op.NewProvider(cfg, st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		t.Fatalf("oidctest: %v", err)
	}
	mux := http.NewServeMux()
	login := op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.FormValue("authRequestID")
		if ar, err := st.AuthRequestByID(r.Context(), id); err == nil {
			p.users.saw(ar)
		}
		if p.LoginForm() && r.Method != http.MethodPost {
			// Like a real provider: a page of its own whose form the
			// person submits, so that the way back to the relying party
			// is a navigation started on the provider's site.
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><title>Provider</title><form method="post" action="/login/username"><input type="hidden" name="authRequestID" value="%s"><button id="provider-sign-in">Sign in</button></form>`, html.EscapeString(id))
			return
		}
		u, ok := p.users.current()
		if !ok {
			http.Error(w, "nobody to sign in", http.StatusForbidden)
			return
		}
		if err := st.CheckUsernamePassword(u.Username, "password", id); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, op.AuthCallbackURL(provider)(r.Context(), id), http.StatusFound)
	})
	mux.Handle("/login/username", login)
	mux.Handle("/", provider)
	p.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status := p.users.failing(r.URL.Path); status != 0 {
			http.Error(w, "failure chosen by the test", status)
			return
		}
		mux.ServeHTTP(w, r)
	})
	return p
}

// Paths of the provider's endpoints, for Fail.
const (
	TokenPath    = "/oauth/token"
	UserinfoPath = "/userinfo"
)

// Fail makes the endpoint at path answer status (0: work again), as a
// provider in trouble does.
func (p *Provider) Fail(path string, status int) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	if status == 0 {
		delete(p.users.fail, path)
		return
	}
	p.users.fail[path] = status
}

// Close stops the provider: it can no longer be reached.
func (p *Provider) Close() { p.srv.Close() }

// UseLoginForm makes the login page a form the browser must submit,
// instead of signing in at once (for browser tests).
func (p *Provider) UseLoginForm() {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	p.users.form = true
}

// LoginForm reports whether the login page is a form.
func (p *Provider) LoginForm() bool {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	return p.users.form
}

// SetUser adds or replaces a user.
func (p *Provider) SetUser(u User) { p.users.set(u) }

// Remove deletes a user, as an administrator does when someone leaves:
// like Keycloak on deleting a user, the provider then refuses the user's
// refresh tokens (invalid_grant) and answers userinfo for their access
// tokens with 403.
func (p *Provider) Remove(subject string) { p.users.remove(subject) }

// AllowPostLogoutRedirect registers uri as a post_logout_redirect_uri of
// the client, as an administrator does for RP-initiated logout; the
// provider's end_session endpoint refuses any other.
func (p *Provider) AllowPostLogoutRedirect(uri string) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	p.users.postLogout = append(p.users.postLogout, uri)
}

// LastLogin is what the provider understood of the last authorization
// request that reached its login page: the prompt values and max_age
// (nil: none asked).
func (p *Provider) LastLogin() (prompt []string, maxAge *time.Duration) {
	p.users.mu.Lock()
	defer p.users.mu.Unlock()
	return p.users.prompt, p.users.maxAge
}

// SignInAs makes the provider's login page sign in this user.
func (p *Provider) SignInAs(subject string) { p.users.choose(subject) }

// users is the provider's user store; it satisfies storage.UserStore.
type users struct {
	mu   sync.Mutex
	m    map[string]User
	next string
	form bool           // the login page is a form (UseLoginForm)
	fail map[string]int // path → status the provider answers instead (Fail)
	// postLogout are the client's registered post-logout redirect URIs.
	postLogout []string
	// prompt and maxAge are those of the last authorization request
	// at the login page.
	prompt []string
	maxAge *time.Duration
}

func (u *users) failing(path string) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.fail[path]
}

func (u *users) postLogoutURIs() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]string(nil), u.postLogout...)
}

func (u *users) saw(ar op.AuthRequest) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.prompt, u.maxAge = nil, nil
	if x, ok := ar.(*storage.AuthRequest); ok {
		u.prompt, u.maxAge = x.Prompt, x.MaxAuthAge
	}
}

func (u *users) set(x User) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m[x.Subject] = x
}

func (u *users) remove(sub string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.m, sub)
}

func (u *users) choose(sub string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.next = sub
}

func (u *users) current() (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.m[u.next]
	return x, ok
}

func (u *users) get(sub string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.m[sub]
	return x, ok
}

func (u *users) GetUserByID(id string) *storage.User {
	x, ok := u.get(id)
	if !ok {
		return nil
	}
	first, last, _ := strings.Cut(x.Name, " ")
	return &storage.User{ID: x.Subject, Username: x.Username, Password: "password", FirstName: first, LastName: last,
		Email: x.Email, EmailVerified: true, PreferredLanguage: language.German}
}

func (u *users) GetUserByUsername(name string) *storage.User {
	u.mu.Lock()
	var sub string
	for _, x := range u.m {
		if x.Username == name {
			sub = x.Subject
		}
	}
	u.mu.Unlock()
	if sub == "" {
		return nil
	}
	return u.GetUserByID(sub)
}

func (u *users) ExampleClientID() string { return storage.ServiceUserID }

// store is the example storage with the groups claim and with the
// user's claims in the ID token, as Keycloak and Entra ID send them.
type store struct {
	*storage.Storage
	users *users
}

func (s *store) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	if err != nil {
		return nil, err
	}
	return claimsInIDToken{Client: c, postLogout: s.users.postLogoutURIs()}, nil
}

// TokenRequestByRefreshToken refuses the refresh token of a removed user
// (the op package answers invalid_grant), as Keycloak does.
func (s *store) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	req, err := s.Storage.TokenRequestByRefreshToken(ctx, token)
	if err != nil {
		return nil, err
	}
	if _, ok := s.users.get(req.GetSubject()); !ok {
		return nil, fmt.Errorf("user removed")
	}
	return req, nil
}

func (s *store) SetUserinfoFromScopes(ctx context.Context, info *oidc.UserInfo, userID, clientID string, scopes []string) error {
	if err := s.Storage.SetUserinfoFromScopes(ctx, info, userID, clientID, scopes); err != nil {
		return err
	}
	return s.addGroups(info, userID)
}

func (s *store) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, origin string) error {
	if err := s.Storage.SetUserinfoFromToken(ctx, info, tokenID, subject, origin); err != nil {
		return err
	}
	return s.addGroups(info, info.Subject)
}

func (s *store) addGroups(info *oidc.UserInfo, sub string) error {
	u, ok := s.users.get(sub)
	if !ok {
		return fmt.Errorf("user not found")
	}
	if u.Groups != nil {
		info.AppendClaims(GroupsClaim, u.Groups)
	}
	return nil
}

// claimsInIDToken puts the profile, email and groups claims into the ID
// token even when an access token is issued too, and has the registered
// post-logout redirect URIs.
type claimsInIDToken struct {
	op.Client
	postLogout []string
}

func (claimsInIDToken) IDTokenUserinfoClaimsAssertion() bool { return true }

func (c claimsInIDToken) PostLogoutRedirectURIs() []string { return c.postLogout }
