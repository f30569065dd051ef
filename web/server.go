package web

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
)

// Config is what the web server needs from the outside world.
type Config struct {
	// Service runs the workflow; required.
	Service *incident.Service
	// Policy is the policy in force; nil means Service.Policy().
	Policy *policies.Policy
	// Accounts keeps sessions, API tokens and second factors; required.
	Accounts account.Store
	// SecretKey (32 bytes) encrypts TOTP secrets before they are stored;
	// required. Keep it outside the database. The Service must check
	// step-up codes with the same key (incident.WithFactors).
	SecretKey []byte
	// Logger receives the access log and server errors; nil discards.
	Logger *slog.Logger
	// Clock is time.Now unless set.
	Clock func() time.Time
	// Rand is crypto/rand unless set; tokens, ids and secrets come from it.
	Rand io.Reader
	// TLS says the server is reached over HTTPS: cookies are Secure and
	// named __Host-…, and HSTS is sent.
	TLS bool
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (addresses or CIDRs); none by default.
	TrustedProxies []string
	// WhatsApp links workers' WhatsApp accounts and lists their devices
	// and recent messages; nil: WhatsApp is not available, and the pages
	// say so.
	WhatsApp WhatsApp
	// Bundles serves the release download of approved handovers; nil:
	// downloads are not available (503).
	Bundles Bundles
	// MaxInFlight is how many requests are worked on at once; the others
	// wait in arrival order (see admission). 0 means 2 per CPU.
	MaxInFlight int
	// Readiness are the checks /readyz runs, in order; none: /readyz
	// answers like /healthz.
	Readiness []ReadinessCheck
	// Metrics receives the request and admission metrics; nil: none are
	// kept. The caller serves it on its own address.
	Metrics prometheus.Registerer
	// InitialPassword finds the first admin's password file; while it
	// exists, admin pages remind them to delete it. nil: no reminder.
	InitialPassword InitialPasswordCheck
	// IdentityProvider offers sign-in through the provider's identity
	// provider (OpenID Connect) first on the login page; nil: only
	// Tresor's own accounts. See oidc_start.go.
	IdentityProvider IdentityProvider
	// IdentityProviderName is what the login button names ("Anmelden
	// mit …"), TRESOR_OIDC_NAME.
	IdentityProviderName string
}

// Server is the web interface.
type Server struct {
	svc       *incident.Service
	policy    *policies.Policy
	accounts  account.Store
	factors   *account.Factors
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	tls       bool
	pages     *pages
	catalogs  catalogs
	limiter   *limiter
	admission *admission
	wa        WhatsApp // nil: not available
	bundles   Bundles  // nil: no release downloads
	links     *linkHub
	flowKey   []byte // HMAC key of the identity provider's flow cookie
	streams   *streamsEnd
	engine    *gin.Engine
	readiness []ReadinessCheck
	metrics   *requestMetrics  // nil: no metrics
	idp       IdentityProvider // nil: no sign-in through an identity provider
	idpName   string
	// initialPassword finds the first admin's password file (nil: none).
	initialPassword InitialPasswordCheck
}

// New builds the server and its router.
func New(cfg Config) (*Server, error) {
	if cfg.Service == nil {
		return nil, errors.New("web: no incident service")
	}
	if cfg.Accounts == nil {
		return nil, errors.New("web: no account store")
	}
	s := &Server{svc: cfg.Service, policy: cfg.Policy, accounts: cfg.Accounts, log: cfg.Logger,
		now: cfg.Clock, rand: cfg.Rand, tls: cfg.TLS, wa: cfg.WhatsApp, bundles: cfg.Bundles,
		readiness: cfg.Readiness, initialPassword: cfg.InitialPassword, idp: cfg.IdentityProvider, idpName: cfg.IdentityProviderName}
	if s.policy == nil {
		s.policy = cfg.Service.Policy()
	}
	if s.policy == nil {
		return nil, errors.New("web: no policy")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	var err error
	if s.factors, err = account.NewFactors(cfg.SecretKey, s.rand, s.now); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.flowKey, err = account.DeriveKey(cfg.SecretKey, oidcFlowKeyLabel); err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if s.catalogs, err = loadCatalogs(); err != nil {
		return nil, err
	}
	if s.pages, err = loadPages(s.catalogs); err != nil {
		return nil, err
	}
	s.limiter = newLimiter(s.now)
	s.admission = newAdmission(cfg.MaxInFlight, routeTable())
	s.links = newLinkHub(s.now, s.log.Warn)
	s.streams = newStreamsEnd()
	if cfg.Metrics != nil {
		if err := s.registerMetrics(cfg.Metrics); err != nil {
			return nil, err
		}
	}
	s.engine = gin.New()
	if err := s.engine.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, fmt.Errorf("web: trusted proxies: %w", err)
	}
	s.engine.RedirectTrailingSlash = false
	s.engine.RedirectFixedPath = false
	s.engine.HandleMethodNotAllowed = true
	s.routes(s.engine)
	return s, nil
}

// Handler returns the HTTP handler serving every page.
func (s *Server) Handler() http.Handler { return s.engine }
