package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tresor-evidence/tresor/account"
	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/policies"
	"github.com/tresor-evidence/tresor/web"
)

// loadPage is one page under load: who asks, and the path of request i.
type loadPage struct {
	name string
	who  string // "worker" or "auditor"
	path func(i int) string
}

// result is the latency of one page's measured requests.
type result struct {
	page          string
	n, errors     int
	firstErr      string
	wall          time.Duration
	p50, p95, p99 time.Duration
	max           time.Duration
}

// bench seeds one database, serves the web handler on loopback and loads
// its pages.
func bench(ctx context.Context, o options, kind string, stdout io.Writer) (_ []result, err error) {
	fmt.Fprintf(stdout, "\n== %s\n", kind)
	db, err := openDatabase(ctx, kind, o.pgURL, o.keep)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := db.cleanup(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	if o.keep {
		fmt.Fprintf(stdout, "database: %s\n", db.where)
	}
	pol, err := policies.Default()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	factors, err := account.NewFactors(key, rand.Reader, time.Now)
	if err != nil {
		return nil, err
	}
	// No jobs run here, so the service needs neither vault nor messenger.
	svc := incident.NewService(db.store, pol, nil, nil, incident.WithFactors(factors))
	t0 := time.Now()
	data, err := seed(ctx, db.store, svc, pol, o)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "seeded %d incidents (%d of the signed-in worker) and %d audit entries in %s\n",
		len(data.all), len(data.mine), o.audit, time.Since(t0).Round(time.Millisecond))

	gin.SetMode(gin.ReleaseMode)
	w, err := web.New(web.Config{Service: svc, Policy: pol, Accounts: db.store.Accounts(), SecretKey: key,
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), MaxInFlight: o.inFlight}) // the access log is formatted, as in production
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: w.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
		if serr := <-served; err == nil && serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = serr
		}
	}()
	base := "http://" + ln.Addr().String()

	cookies := map[string]string{}
	if cookies["worker"], err = signIn(ctx, base, workerName, "/incidents", "Meine Meldungen"); err != nil {
		return nil, fmt.Errorf("worker sign-in: %w", err)
	}
	if cookies["auditor"], err = signIn(ctx, base, auditorName, "/audit", "Prüfung"); err != nil {
		return nil, fmt.Errorf("auditor sign-in: %w", err)
	}

	pick := func(ids []string, i int) string { return ids[(i*7919)%len(ids)] }
	pages := []loadPage{
		{name: "worker: GET /incidents (own list, first page of 50)", who: "worker", path: func(int) string { return "/incidents" }},
		{name: "worker: GET /incidents/:id", who: "worker", path: func(i int) string { return "/incidents/" + pick(data.mine, i) }},
		{name: "auditor: GET /audit", who: "auditor", path: func(int) string { return "/audit" }},
		{name: "auditor: GET /incidents/:id (with audit trail)", who: "auditor", path: func(i int) string { return "/incidents/" + pick(data.all, i) }},
		{name: "auditor: GET /audit/export?incident=:id", who: "auditor", path: func(i int) string {
			return "/audit/export?format=csv&incident=" + pick(data.all, i)
		}},
		{name: "auditor: GET /incidents (all, first page of 50)", who: "auditor", path: func(int) string { return "/incidents" }},
	}
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: 2 * o.clients, MaxIdleConnsPerHost: 2 * o.clients, IdleConnTimeout: time.Minute},
		Timeout:   30 * time.Second,
		// A redirect here means the session was lost: count it as an error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	defer client.CloseIdleConnections()

	stopProfile, err := startProfile(o.cpuProfile)
	if err != nil {
		return nil, err
	}
	var out []result
	for round := 1; round <= o.rounds; round++ {
		for _, p := range pages {
			if !strings.Contains(p.name, o.only) {
				continue
			}
			if o.warmup > 0 {
				load(ctx, client, base, cookies[p.who], p, o.warmup, o.clients)
			}
			r := load(ctx, client, base, cookies[p.who], p, o.requests, o.clients)
			if err := ctx.Err(); err != nil {
				_ = stopProfile()
				return nil, err
			}
			if o.rounds > 1 {
				r.page = fmt.Sprintf("%s, round %d", r.page, round)
			}
			out = append(out, r)
		}
	}
	if err := stopProfile(); err != nil {
		return nil, err
	}
	return out, nil
}

// load sends n requests for the page from c concurrent clients and
// records each one's latency.
func load(ctx context.Context, client *http.Client, base, cookie string, p loadPage, n, c int) result {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var errs atomic.Int64
	var firstErr sync.Once
	res := result{page: p.name, n: n}
	start := time.Now()
	var wg sync.WaitGroup
	for range min(c, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := get(ctx, client, base+p.path(i), cookie)
				lat[i] = time.Since(t)
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { res.firstErr = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	res.wall = time.Since(start)
	res.errors = int(errs.Load())
	slices.Sort(lat)
	res.p50, res.p95, res.p99, res.max = rank(lat, .50), rank(lat, .95), rank(lat, .99), lat[len(lat)-1]
	return res
}

// rank is the nearest-rank percentile of sorted latencies.
func rank(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

func get(ctx context.Context, client *http.Client, target, cookie string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Cookie", "tresor="+cookie)
	req.Header.Set("Accept-Language", "de-DE,de;q=0.9")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	if cerr := resp.Body.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", req.URL.Path, resp.StatusCode)
	}
	return err
}

var (
	csrfRe   = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	sealedRe = regexp.MustCompile(`name="sealed" value="([^"]+)"`)
	keyRe    = regexp.MustCompile(`<code class="key">([A-Z2-7 ]+)</code>`)
)

// signIn signs in through the forms as a browser would, setting up the
// second factor when the role needs one, checks that the user lands on
// home showing want, and returns the session cookie.
func signIn(ctx context.Context, base, user, home, want string) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	page := func(method, path string, form url.Values) (string, string, error) {
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
		if err != nil {
			return "", "", err
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return "", "", err
		}
		if resp.StatusCode != http.StatusOK {
			return "", "", fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
		}
		return string(b), resp.Request.URL.Path, nil
	}
	csrf := func(body string) string {
		if m := csrfRe.FindStringSubmatch(body); m != nil {
			return html.UnescapeString(m[1])
		}
		return ""
	}
	body, _, err := page(http.MethodGet, "/login", nil)
	if err != nil {
		return "", err
	}
	body, at, err := page(http.MethodPost, "/login", url.Values{"csrf": {csrf(body)}, "username": {user}, "password": {benchPass}})
	if err != nil {
		return "", err
	}
	if at == "/account/second-factor" {
		k, s := keyRe.FindStringSubmatch(body), sealedRe.FindStringSubmatch(body)
		if k == nil || s == nil {
			return "", errors.New("the second-factor set-up page shows no key")
		}
		secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(k[1], " ", ""))
		if err != nil {
			return "", err
		}
		form := url.Values{"csrf": {csrf(body)}, "sealed": {html.UnescapeString(s[1])}, "code": {totp(secret, time.Now())}}
		if _, _, err := page(http.MethodPost, "/account/second-factor", form); err != nil {
			return "", err
		}
		body, at, err = page(http.MethodGet, "/", nil)
		if err != nil {
			return "", err
		}
	}
	if at != home || !strings.Contains(body, want) {
		return "", fmt.Errorf("signed in, but landed on %s without %q", at, want)
	}
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "tresor" {
			return ck.Value, nil
		}
	}
	return "", errors.New("no session cookie")
}

// totp is the RFC 6238 code (SHA-1, 6 digits, 30 s) of secret at t.
func totp(secret []byte, t time.Time) string {
	mac := hmac.New(sha1.New, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1000000)
}

func printResults(w io.Writer, db string, o options, res []result) {
	fmt.Fprintf(w, "\n%s: %d requests per page, %d concurrent clients, loopback\n", db, o.requests, o.clients)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "page\treq/s\tp50\tp95\tp99\tmax\terrors\t\t")
	for _, r := range res {
		verdict := "ok"
		if r.p99 > o.maxP99 || r.errors > 0 {
			verdict = "MISS"
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%s\t%d\t%s\t\n", r.page, float64(r.n)/r.wall.Seconds(), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), r.errors, verdict)
	}
	_ = tw.Flush()
	for _, r := range res {
		if r.firstErr != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.page, r.firstErr)
		}
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
