package oidctest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Hostile is an OpenID provider of the test's own that signs with a test
// key and answers however the test tells it to: a conforming provider
// never sends a wrong nonce, audience or issuer, an expired token or one
// signed with "none", so the relying party's refusals need this one.
//
// By default it behaves: /authorize sends the browser back with a code and
// the request's state; /token answers with an ID token for Subject and
// Groups, signed (ES256) by the key its JWKS publishes, with auth_time
// the moment of the authorization request (a fresh sign-in).
type Hostile struct {
	Issuer   string
	ClientID string
	Subject  string   // set before the first sign-in, or with SetPerson
	Groups   []string // likewise

	mu sync.Mutex
	// Tamper changes the ID token's claims and header before signing.
	tamper func(claims, header map[string]any)
	// sign signs the token; nil: with the published key.
	sign   func(t testing.TB, header, claims map[string]any) string
	nonces map[string]string    // code → nonce of its authorization request
	authAt map[string]time.Time // code → when its authorization request came
	last   url.Values           // the last authorization request's query
	key    *ecdsa.PrivateKey
	t      testing.TB
	now    func() time.Time
	// logouts counts the logout tokens made, for their jti.
	logouts int
}

// StartHostile runs a hostile provider on loopback until the test ends.
func StartHostile(t testing.TB) *Hostile {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h := &Hostile{ClientID: "tresor", Subject: "h-1", Groups: []string{"tresor-fachkraft"}, nonces: map[string]string{}, authAt: map[string]time.Time{}, key: key, t: t, now: time.Now}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.Issuer = srv.URL
	return h
}

// LastAuthorize is the query of the last authorization request.
func (h *Hostile) LastAuthorize() url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

// SetPerson changes who the next ID tokens are for.
func (h *Hostile) SetPerson(subject string, groups []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Subject, h.Groups = subject, groups
}

// SetClock sets the clock the provider's tokens are issued by (default
// time.Now), so that they fit a test's fake clock.
func (h *Hostile) SetClock(now func() time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.now = now
}

// Tamper sets what to change in the next ID tokens (nil: nothing).
func (h *Hostile) Tamper(f func(claims, header map[string]any)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.tamper = f
}

// SignWith replaces the signing of the next ID tokens (nil: the
// published key).
func (h *Hostile) SignWith(f func(t testing.TB, header, claims map[string]any) string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sign = f
}

func (h *Hostile) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		writeJSON(w, map[string]any{
			"issuer": h.Issuer, "authorization_endpoint": h.Issuer + "/authorize", "token_endpoint": h.Issuer + "/token",
			"jwks_uri": h.Issuer + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	case "/jwks":
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &h.key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	case "/authorize":
		q := r.URL.Query()
		h.mu.Lock()
		code := "code-" + strconv.Itoa(len(h.nonces)+1)
		h.nonces[code] = q.Get("nonce")
		h.authAt[code] = h.now()
		h.last = q
		h.mu.Unlock()
		back, err := url.Parse(q.Get("redirect_uri"))
		if err != nil {
			http.Error(w, "bad redirect_uri", http.StatusBadRequest)
			return
		}
		v := url.Values{"code": {code}, "state": {q.Get("state")}}
		back.RawQuery = v.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	case "/token":
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		nonce, ok := h.nonces[r.PostForm.Get("code")]
		authAt := h.authAt[r.PostForm.Get("code")]
		now := h.now()
		tamper, sign, sub, groups := h.tamper, h.sign, h.Subject, h.Groups
		h.mu.Unlock()
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			writeJSON(w, map[string]string{"error": "invalid_grant"})
			return
		}
		claims := map[string]any{"iss": h.Issuer, "sub": sub, "aud": h.ClientID, "nonce": nonce,
			"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "groups": groups, "preferred_username": "hostile",
			"auth_time": authAt.Unix()}
		header := map[string]any{"alg": "ES256", "kid": "k1", "typ": "JWT"}
		if tamper != nil {
			tamper(claims, header)
		}
		if sign == nil {
			sign = h.signES256
		}
		writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": sign(h.t, header, claims)})
	default:
		http.NotFound(w, r)
	}
}

// signES256 signs with the published key, keeping the header's alg.
func (h *Hostile) signES256(t testing.TB, header, claims map[string]any) string {
	return SignES256(t, h.key, header, claims)
}

// SignES256 signs claims with key under the given header fields.
func SignES256(t testing.TB, key *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range header {
		if k != "alg" {
			opts = opts.WithHeader(jose.HeaderKey(k), v)
		}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Unsigned builds a token with "alg": "none" and no signature.
func Unsigned(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	header["alg"] = "none"
	hb, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb) + "."
}

func writeJSON(w http.ResponseWriter, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	_ = json.NewEncoder(w).Encode(v) // a broken connection fails the test's request anyway
}

// LogoutToken is a back-channel logout token for subject, signed by the
// published key after tamper (nil: none) changed its claims and header.
func (h *Hostile) LogoutToken(t testing.TB, subject string, tamper func(claims, header map[string]any)) string {
	t.Helper()
	h.mu.Lock()
	now := h.now()
	h.logouts++
	n := h.logouts
	h.mu.Unlock()
	claims := map[string]any{"iss": h.Issuer, "sub": subject, "aud": h.ClientID, "iat": now.Unix(), "exp": now.Add(2 * time.Minute).Unix(),
		"jti":    "logout-" + strconv.Itoa(n),
		"events": map[string]any{"http://schemas.openid.net/event/backchannel-logout": map[string]any{}}}
	header := map[string]any{"alg": "ES256", "kid": "k1", "typ": "logout+jwt"}
	if tamper != nil {
		tamper(claims, header)
	}
	if header["alg"] == "none" {
		return Unsigned(t, header, claims)
	}
	return SignES256(t, h.key, header, claims)
}
