package oidcrp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/tresor-evidence/tresor/incident"
)

// Issuer is the configured issuer (incident.ProviderChecker).
func (r *RP) Issuer() string { return r.cfg.Issuer }

// Recheck asks the identity provider whether it still accepts the person
// (incident.ProviderChecker, for the periodic offboarding check): it
// redeems the stored refresh token at the token endpoint, checks a
// refreshed ID token like one of a sign-in (signature, issuer, audience,
// expiry; its subject must be the person's), and asks the userinfo
// endpoint with the new access token, whose subject must be the person's
// too. The claim values come from the refreshed ID token when it carries
// the claim (Entra ID sends app roles only there), else from userinfo.
//
// Errors: the token endpoint's invalid_grant wraps
// incident.ErrRefreshRefused; userinfo's 401 or 403 wraps
// incident.ErrProviderRefused; a provider that cannot be reached, or
// answers 5xx or 429, wraps incident.ErrUnavailable; any other answer
// wraps ErrRejected. No error holds a token or the provider's text.
func (r *RP) Recheck(ctx context.Context, subject, refreshToken string) (incident.ProviderAnswer, error) {
	p, err := r.discover(ctx)
	if err != nil {
		return incident.ProviderAnswer{}, err
	}
	tok, err := r.oauth(p).TokenSource(r.ctx(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return incident.ProviderAnswer{}, tokenEndpointError(err)
	}
	var ans incident.ProviderAnswer
	if tok.RefreshToken != refreshToken {
		ans.RefreshToken = tok.RefreshToken
	}
	var fromIDToken []string
	haveClaim := false
	if raw, ok := tok.Extra("id_token").(string); ok && raw != "" {
		idt, err := p.Verifier(&oidc.Config{ClientID: r.cfg.ClientID, Now: r.cfg.Now}).Verify(r.ctx(ctx), raw)
		if err != nil {
			return incident.ProviderAnswer{}, fmt.Errorf("%w: refreshed ID token: %w", ErrRejected, err)
		}
		if subtle.ConstantTimeCompare([]byte(idt.Subject), []byte(subject)) != 1 {
			return incident.ProviderAnswer{}, fmt.Errorf("%w: the refreshed ID token names another person", ErrRejected)
		}
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			return incident.ProviderAnswer{}, fmt.Errorf("%w: %w", ErrRejected, err)
		}
		v, ok := claims[r.cfg.Claim]
		fromIDToken, haveClaim = claimValues(v), ok
		ans.IDToken = raw
	}
	info, err := r.userinfo(ctx, p, tok)
	if err != nil {
		return incident.ProviderAnswer{}, err
	}
	if info != nil {
		if sub, _ := info["sub"].(string); subtle.ConstantTimeCompare([]byte(sub), []byte(subject)) != 1 {
			return incident.ProviderAnswer{}, fmt.Errorf("%w: userinfo names another person", ErrRejected)
		}
	}
	if haveClaim {
		ans.ClaimValues = fromIDToken
	} else {
		ans.ClaimValues = claimValues(info[r.cfg.Claim])
	}
	return ans, nil
}

// tokenEndpointError classifies a failed refresh.
func tokenEndpointError(err error) error {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return fmt.Errorf("%w: the identity provider's token endpoint could not be reached", incident.ErrUnavailable)
	}
	switch {
	case re.ErrorCode == "invalid_grant":
		return fmt.Errorf("%w (invalid_grant)", incident.ErrRefreshRefused)
	case re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == http.StatusTooManyRequests):
		return fmt.Errorf("%w: the identity provider's token endpoint answered %d", incident.ErrUnavailable, re.Response.StatusCode)
	}
	return fmt.Errorf("%w: the token endpoint refused the refresh token (%s)", ErrRejected, safeCode(re.ErrorCode))
}

// userinfo asks the userinfo endpoint with the access token; a provider
// without one gives nil.
func (r *RP) userinfo(ctx context.Context, p *oidc.Provider, tok *oauth2.Token) (map[string]any, error) {
	endpoint := p.UserInfoEndpoint()
	if endpoint == "" {
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: userinfo endpoint: %w", ErrRejected, err)
	}
	tok.SetAuthHeader(req)
	resp, err := r.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: the identity provider's userinfo endpoint could not be reached", incident.ErrUnavailable)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body) // at most maxProviderAnswer (limitedTransport)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("%w (userinfo %d)", incident.ErrProviderRefused, resp.StatusCode)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, fmt.Errorf("%w: the identity provider's userinfo endpoint answered %d", incident.ErrUnavailable, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("%w: userinfo answered %d", ErrRejected, resp.StatusCode)
	case err != nil:
		return nil, fmt.Errorf("%w: the identity provider's userinfo answer broke off", incident.ErrUnavailable)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		// A signed userinfo (application/jwt) is not asked for.
		return nil, fmt.Errorf("%w: userinfo is not JSON", ErrRejected)
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("%w: userinfo is not a JSON object", ErrRejected)
	}
	return info, nil
}
