package oidcrp

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tresor-evidence/tresor/incident"
)

// FlowTTL is how long a started sign-in may take at the provider.
const FlowTTL = 10 * time.Minute

var (
	// ErrFlow: the answer does not belong to a sign-in started in this
	// browser (no flow, another state) or the flow is too old.
	ErrFlow = errors.New("sign-in through the identity provider was not started here or took too long")
	// ErrRejected: the provider's answer did not pass the checks (code
	// refused at the token endpoint, ID token signature, issuer,
	// audience, expiry or nonce).
	ErrRejected = errors.New("the identity provider's answer was rejected")
	// ErrNoEndSession: there is no signing out at the provider — its
	// discovery document names no usable end_session_endpoint, no
	// post-logout address is configured, or the account is another
	// issuer's.
	ErrNoEndSession = errors.New("the identity provider offers no sign-out for relying parties")
)

// MaxSkew is how far ahead of Tresor's clock a logout token's iat may be.
const MaxSkew = time.Minute

// ProviderError is an error the identity provider sent back instead of a
// code. Code is one of the codes of OpenID Connect Core 3.1.2.6 and RFC
// 6749 4.1.2.1, or "other"; the provider's description is dropped.
type ProviderError struct{ Code string }

func (e *ProviderError) Error() string { return "the identity provider answered " + e.Code }

// knownCodes are the provider error codes pages explain.
var knownCodes = map[string]bool{
	"access_denied": true, "login_required": true, "interaction_required": true, "consent_required": true,
	"account_selection_required": true, "temporarily_unavailable": true, "server_error": true,
	"invalid_request": true, "unauthorized_client": true, "invalid_scope": true, "unsupported_response_type": true,
}

// Config configures the relying party.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string // TRESOR_PUBLIC_URL + /auth/oidc/callback
	// PostLogoutRedirectURL is where the provider sends the browser
	// after signing out there (TRESOR_PUBLIC_URL + /signed-out); ""
	// turns RP-initiated logout off.
	PostLogoutRedirectURL string
	// Claim is the policy's oidc.claim, whose values map to roles.
	Claim string
	// HTTPClient reaches the provider; nil means a client with a 15s
	// timeout. Answers larger than 1 MiB are refused either way.
	HTTPClient *http.Client
	Now        func() time.Time // nil: time.Now
	Rand       io.Reader        // required: state, nonce and verifier come from it
}

// Flow is one started sign-in: what the caller keeps until the provider
// sends the browser back.
type Flow struct {
	State    string
	Nonce    string
	Verifier string // PKCE code verifier
	Started  time.Time
	// StepUp is set for a re-authentication of a signed-in account
	// (StartStepUp), empty for a sign-in.
	StepUp *StepUp
}

// StepUp is a re-authentication at the provider for an approval: who
// asked for it and where the browser goes back to.
type StepUp struct {
	// UserID is the signed-in account that asked; the domain checks that
	// the provider confirmed the person linked to it.
	UserID string
	// Return is the local page to go back to (LocalPath).
	Return string
}

// Encode gives the flow as a cookie value.
func (f Flow) Encode() string {
	s := f.State + "." + f.Nonce + "." + f.Verifier + "." + strconv.FormatInt(f.Started.Unix(), 10)
	if f.StepUp != nil {
		s += ".s." + base64.RawURLEncoding.EncodeToString([]byte(f.StepUp.UserID)) + "." + base64.RawURLEncoding.EncodeToString([]byte(f.StepUp.Return))
	}
	return s
}

// DecodeFlow reads a cookie value made by Encode; ErrFlow if it is not one.
func DecodeFlow(s string) (Flow, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 4 && (len(parts) != 7 || parts[4] != "s") {
		return Flow{}, ErrFlow
	}
	for _, p := range parts[:3] {
		if len(p) != 43 { // 32 bytes, base64url without padding
			return Flow{}, ErrFlow
		}
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return Flow{}, ErrFlow
		}
	}
	sec, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil {
		return Flow{}, ErrFlow
	}
	f := Flow{State: parts[0], Nonce: parts[1], Verifier: parts[2], Started: time.Unix(sec, 0).UTC()}
	if len(parts) == 7 {
		uid, err1 := base64.RawURLEncoding.DecodeString(parts[5])
		ret, err2 := base64.RawURLEncoding.DecodeString(parts[6])
		if err1 != nil || err2 != nil || len(uid) == 0 || len(uid) > 64 || !LocalPath(string(ret)) {
			return Flow{}, ErrFlow
		}
		f.StepUp = &StepUp{UserID: string(uid), Return: string(ret)}
	}
	return f, nil
}

// LocalPath reports whether p is a path on Tresor itself that a flow may
// send the browser back to: "/" followed by letters, digits, "-", "_"
// and "/", never "//" (another host) and at most 200 characters.
func LocalPath(p string) bool {
	if len(p) == 0 || len(p) > 200 || p[0] != '/' || strings.Contains(p, "//") {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool {
		return !(r == '/' || r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
}

// RP is the relying party. Discovery happens on first use and is cached
// once it succeeds.
type RP struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider
	// endSession is the provider's end_session_endpoint, nil until
	// discovery found a usable one. Read on every request (the CSP),
	// so without the lock.
	endSession atomic.Pointer[url.URL]
}

// New returns a relying party for cfg; it does not reach the provider yet.
func New(cfg Config) (*RP, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" || cfg.Claim == "" || cfg.Rand == nil {
		return nil, errors.New("oidcrp: issuer, client id, redirect URL, claim and randomness are required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	cfg.HTTPClient = limitAnswers(cfg.HTTPClient)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &RP{cfg: cfg}, nil
}

func (r *RP) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, r.cfg.HTTPClient)
}

// discover returns the provider, reading its discovery document once.
func (r *RP) discover(ctx context.Context) (*oidc.Provider, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.provider != nil {
		return r.provider, nil
	}
	p, err := oidc.NewProvider(r.ctx(ctx), r.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: the identity provider's discovery document could not be read: %w", incident.ErrUnavailable, err)
	}
	r.provider = p
	var doc struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&doc); err == nil && r.cfg.PostLogoutRedirectURL != "" {
		if u, ok := endSessionEndpoint(doc.EndSession, r.cfg.Issuer); ok {
			r.endSession.Store(u)
		}
	}
	return p, nil
}

// Discover reads the provider's discovery document unless that happened
// already; serve calls it at start so that the end-session origin is
// known to the CSP before the first sign-out. A failure is
// incident.ErrUnavailable and is tried again on the next use.
func (r *RP) Discover(ctx context.Context) error {
	_, err := r.discover(ctx)
	return err
}

// cspHost is what a CSP host-source may hold: a DNS name or an IPv6
// literal, and a port.
var cspHost = regexp.MustCompile(`^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$`)

// endSessionEndpoint parses the discovery document's end_session_endpoint:
// an absolute https address (http only if the issuer is http, which the
// configuration allows on loopback only), without user info or fragment,
// whose host can stand in a CSP source list as it is.
func endSessionEndpoint(raw, issuer string) (*url.URL, bool) {
	if raw == "" {
		return nil, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return nil, false
	}
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if u.Scheme != "https" && (u.Scheme != "http" || !strings.HasPrefix(issuer, "http://")) {
		return nil, false
	}
	if !cspHost.MatchString(u.Host) {
		return nil, false
	}
	return u, true
}

// EndSessionOrigin is the origin (scheme://host[:port]) of the provider's
// end-session endpoint once discovery found one, else "". It never
// reaches the provider: the CSP of every page asks it.
func (r *RP) EndSessionOrigin() string {
	u := r.endSession.Load()
	if u == nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// EndSessionURL is the address that signs the person out at the provider
// too (OpenID Connect RP-Initiated Logout 1.0): the end-session endpoint
// with client_id, post_logout_redirect_uri and, if not "", id_token_hint.
// issuer is the issuer the account is linked to; another than the
// configured one, or a provider without an end-session endpoint, gives
// ErrNoEndSession. Discovery happens here if it has not yet.
func (r *RP) EndSessionURL(ctx context.Context, issuer, idTokenHint string) (string, error) {
	if _, err := r.discover(ctx); err != nil {
		return "", err
	}
	es := r.endSession.Load()
	if es == nil || issuer != r.cfg.Issuer {
		return "", ErrNoEndSession
	}
	u := *es
	q := u.Query()
	q.Set("client_id", r.cfg.ClientID)
	q.Set("post_logout_redirect_uri", r.cfg.PostLogoutRedirectURL)
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func (r *RP) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: r.cfg.ClientID, ClientSecret: r.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: r.cfg.RedirectURL, Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
}

func (r *RP) random() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(r.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("failed to generate sign-in state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Start begins a sign-in: it returns the provider's authorization URL to
// send the browser to and the flow to keep until it comes back.
func (r *RP) Start(ctx context.Context) (string, Flow, error) {
	return r.start(ctx, nil)
}

// StepUpRequest asks for a re-authentication (StartStepUp).
type StepUpRequest struct {
	StepUp
	// MaxAge is the oldest sign-in at the provider that may serve: sent
	// as max_age, in whole seconds (at least one).
	MaxAge time.Duration
	// ACR, when not empty, is sent as acr_values.
	ACR []string
}

// StartStepUp begins a re-authentication of a signed-in account for an
// approval: like Start, and the provider is asked to sign the person in
// again (prompt=login) with max_age and, if given, acr_values. The
// return path must be a LocalPath.
func (r *RP) StartStepUp(ctx context.Context, req StepUpRequest) (string, Flow, error) {
	if req.UserID == "" || len(req.UserID) > 64 || !LocalPath(req.Return) || req.MaxAge < time.Second {
		return "", Flow{}, fmt.Errorf("%w: a step-up needs an account, a local return path and a maximum age", incident.ErrInvalidInput)
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("prompt", "login"),
		oauth2.SetAuthURLParam("max_age", strconv.FormatInt(int64(req.MaxAge/time.Second), 10))}
	if len(req.ACR) > 0 {
		opts = append(opts, oauth2.SetAuthURLParam("acr_values", strings.Join(req.ACR, " ")))
	}
	su := req.StepUp
	return r.start(ctx, &su, opts...)
}

func (r *RP) start(ctx context.Context, su *StepUp, opts ...oauth2.AuthCodeOption) (string, Flow, error) {
	p, err := r.discover(ctx)
	if err != nil {
		return "", Flow{}, err
	}
	f := Flow{StepUp: su}
	for _, dst := range []*string{&f.State, &f.Nonce, &f.Verifier} {
		if *dst, err = r.random(); err != nil {
			return "", Flow{}, err
		}
	}
	f.Started = r.cfg.Now().UTC().Truncate(time.Second)
	opts = append([]oauth2.AuthCodeOption{oauth2.SetAuthURLParam("nonce", f.Nonce), oauth2.S256ChallengeOption(f.Verifier)}, opts...)
	return r.oauth(p).AuthCodeURL(f.State, opts...), f, nil
}

// Finish checks the provider's answer (the callback's query) against the
// flow and returns who signed in. See the package documentation for the
// checks.
func (r *RP) Finish(ctx context.Context, f Flow, q url.Values) (incident.ExternalSignIn, error) {
	state := q.Get("state")
	if f.State == "" || subtle.ConstantTimeCompare([]byte(state), []byte(f.State)) != 1 {
		return incident.ExternalSignIn{}, ErrFlow
	}
	if age := r.cfg.Now().Sub(f.Started); age < -time.Minute || age > FlowTTL {
		return incident.ExternalSignIn{}, ErrFlow
	}
	if code := q.Get("error"); code != "" {
		if !knownCodes[code] {
			code = "other"
		}
		return incident.ExternalSignIn{}, &ProviderError{Code: code}
	}
	code := q.Get("code")
	if code == "" {
		return incident.ExternalSignIn{}, fmt.Errorf("%w: no code", ErrRejected)
	}
	p, err := r.discover(ctx)
	if err != nil {
		return incident.ExternalSignIn{}, err
	}
	tok, err := r.oauth(p).Exchange(r.ctx(ctx), code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			// The token endpoint answered: a used, expired or foreign
			// code. Its body is not repeated.
			return incident.ExternalSignIn{}, fmt.Errorf("%w: the token endpoint refused the code (%s)", ErrRejected, safeCode(re.ErrorCode))
		}
		return incident.ExternalSignIn{}, fmt.Errorf("%w: the identity provider's token endpoint could not be reached", incident.ErrUnavailable)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		return incident.ExternalSignIn{}, fmt.Errorf("%w: no ID token", ErrRejected)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: r.cfg.ClientID, Now: r.cfg.Now}).Verify(r.ctx(ctx), raw)
	if err != nil {
		return incident.ExternalSignIn{}, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return incident.ExternalSignIn{}, fmt.Errorf("%w: the ID token's nonce is not this sign-in's", ErrRejected)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return incident.ExternalSignIn{}, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return incident.ExternalSignIn{
		Issuer: idt.Issuer, Subject: idt.Subject, ClaimValues: claimValues(claims[r.cfg.Claim]),
		PreferredUsername: firstString(claims, "preferred_username", "email", "upn"),
		DisplayName:       firstString(claims, "name"),
		Email:             verifiedEmail(claims),
		RefreshToken:      tok.RefreshToken,
		IDToken:           raw,
		AuthTime:          authTime(claims["auth_time"]),
		ACR:               firstString(claims, "acr"),
		AMR:               claimValues(claims["amr"]),
	}, nil
}

// authTime reads auth_time (seconds since 1970); missing or not a
// positive number is the zero time.
func authTime(v any) time.Time {
	f, ok := v.(float64)
	if !ok || f <= 0 || f > 1e11 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}

// safeCode keeps an OAuth error code only if it is a plain token.
func safeCode(s string) string {
	if len(s) == 0 || len(s) > 40 || strings.ContainsFunc(s, func(r rune) bool { return !(r == '_' || r >= 'a' && r <= 'z') }) {
		return "other"
	}
	return s
}

// claimValues reads a string or a list of strings; anything else is none.
func claimValues(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func firstString(claims map[string]any, names ...string) string {
	for _, n := range names {
		if s, ok := claims[n].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

// verifiedEmail is the email claim unless the provider marks it
// unverified (Entra ID sends no email_verified).
func verifiedEmail(claims map[string]any) string {
	if v, ok := claims["email_verified"].(bool); ok && !v {
		return ""
	}
	s, _ := claims["email"].(string)
	return s
}

// VerifyLogout checks a back-channel logout token (OpenID Connect
// Back-Channel Logout 1.0): signed by the provider's key, issued by it
// for this client, not expired, carrying the logout event and no nonce,
// and with an iat at most [MaxSkew] ahead of Tresor's clock. A token
// naming only a session ("sid") is refused: Tresor does not keep the
// provider's session ids, and ending nobody silently would be worse.
func (r *RP) VerifyLogout(ctx context.Context, raw string) (incident.ExternalLogout, error) {
	p, err := r.discover(ctx)
	if err != nil {
		return incident.ExternalLogout{}, err
	}
	lt, err := p.Verifier(&oidc.Config{ClientID: r.cfg.ClientID, Now: r.cfg.Now}).VerifyLogout(r.ctx(ctx), raw)
	if err != nil {
		return incident.ExternalLogout{}, fmt.Errorf("%w: logout token: %w", ErrRejected, err)
	}
	if lt.Subject == "" {
		return incident.ExternalLogout{}, fmt.Errorf("%w: logout token names no subject", ErrRejected)
	}
	// The iat says which sign-ins the token ends (those before it), so
	// it must be there and must not lie ahead.
	switch {
	case lt.IssuedAt.IsZero():
		return incident.ExternalLogout{}, fmt.Errorf("%w: logout token has no iat", ErrRejected)
	case lt.IssuedAt.After(r.cfg.Now().Add(MaxSkew)):
		return incident.ExternalLogout{}, fmt.Errorf("%w: logout token's iat lies in the future", ErrRejected)
	}
	return incident.ExternalLogout{Issuer: lt.Issuer, Subject: lt.Subject, TokenID: lt.TokenID,
		IssuedAt: lt.IssuedAt.UTC(), ExpiresAt: lt.Expiry.UTC()}, nil
}
