// Package oidcrp is Tresor's OpenID Connect relying party: the
// authorization-code flow with PKCE (S256), state and nonce against the
// provider's identity provider, built on github.com/coreos/go-oidc/v3 and
// golang.org/x/oauth2. It is an adapter: it checks what the identity
// provider says and hands the result to the domain
// (incident.Service.SignInExternal), which decides who gets in.
//
// # Guarantees
//
//   - [RP.Start] makes a fresh state, nonce and PKCE verifier (32 random
//     bytes each) for every sign-in; the caller keeps them in a
//     short-lived cookie bound to this browser ([Flow]).
//   - [RP.Finish] accepts the provider's answer only if its state equals
//     the flow's (compared in constant time) and the flow is at most
//     [FlowTTL] old; the code is exchanged with the flow's PKCE verifier.
//   - The ID token must be signed with an algorithm the provider's
//     discovery document lists and by a key of its JWKS (never "none"),
//     be issued by the configured issuer, name the client id as audience,
//     not be expired, and carry the flow's nonce; otherwise [ErrRejected].
//   - An error the provider sends back (error=access_denied, …) is a
//     [*ProviderError] holding only a known code, never the provider's
//     text, so that pages can explain it without showing it raw.
//   - A provider that cannot be reached gives an error wrapping
//     incident.ErrUnavailable; discovery is retried on the next sign-in.
//   - A sign-in asks for offline_access; [RP.Finish] hands the refresh
//     token and the raw ID token to the domain, which keeps them sealed.
//   - [RP.Recheck] (the periodic offboarding check) redeems a refresh
//     token, checks a refreshed ID token like a sign-in's (but for the
//     nonce) and that it and userinfo name the same subject, and tells
//     invalid_grant (incident.ErrRefreshRefused), userinfo 401/403
//     (incident.ErrProviderRefused) and an unreachable provider, 5xx or
//     429 (incident.ErrUnavailable) apart; anything else is ErrRejected.
//   - A back-channel logout token ([RP.VerifyLogout]) must carry a jti, an
//     exp and an iat at most [MaxSkew] ahead of Tresor's clock; the
//     domain takes each jti once until its exp and ends only what was
//     created before the iat, so that a replayed token ends nothing.
//   - Sign-out at the provider ([RP.EndSessionURL], OpenID Connect
//     RP-Initiated Logout 1.0) uses the discovery document's
//     end_session_endpoint only if it is https (http only with an http
//     issuer, which the configuration allows on loopback), has no user
//     info or fragment, and its host can stand in a CSP source list as it
//     is; [RP.EndSessionOrigin] gives its origin for the pages' CSP
//     form-action without reaching the provider.
//   - [RP.StartStepUp] begins a re-authentication of a signed-in account
//     for an approval: like a sign-in, and the provider is asked for a
//     new sign-in (prompt=login) no older than max_age, with acr_values
//     when the policy names them. Its flow names the account and a
//     return path, which must be a [LocalPath] (never another host);
//     [DecodeFlow] refuses a cookie whose path is not one.
//   - [RP.Finish] hands on auth_time, acr and amr as the verified ID token
//     states them; whether they make a step-up is the domain's rule
//     (incident.Service.ConfirmStepUpExternal), not this package's.
//   - Tokens are never logged, and no error message holds one.
package oidcrp
