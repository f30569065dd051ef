// Package vaultopen opens the evidence vault a URL names, on a folder
// (file:///srv/tresor/vault) or in S3-compatible object storage
// (s3://bucket/prefix?endpoint=https://…&region=…). It sits above both
// backends (vault/s3backend imports vault), so that serve and every vault
// command open the vault the same way: one parser, one set of checks, and
// the crash sweep of the folder backend run once.
//
// Guarantees: a URL is either accepted whole or refused with an error
// that names the part to fix; unknown or repeated query parameters are
// refused (a mistyped object_lock must not silently store evidence
// without retention); a URL never carries credentials (they come from the
// environment or a file, never argv or a URL that ends up in logs); with
// object_lock set, opening fails unless the bucket has Object Lock.
package vaultopen

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"unicode"
)

// ErrInvalidURL marks a vault URL that cannot be used.
var ErrInvalidURL = errors.New("invalid vault URL")

// Location is a parsed vault URL.
type Location struct {
	// Scheme is "file" or "s3".
	Scheme string
	// Dir is the folder of a file vault.
	Dir string

	// Bucket and Prefix ("" or ending in "/") locate an S3 vault's
	// objects: PREFIX/ab/abcdef….age.
	Bucket string
	Prefix string
	// Endpoint is host[:port] of the S3 server; UseTLS is false only for
	// an http:// endpoint.
	Endpoint string
	UseTLS   bool
	Region   string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET (MinIO,
	// versitygw) instead of BUCKET.ENDPOINT.
	PathStyle bool
	// ObjectLock is "", "GOVERNANCE" or "COMPLIANCE": with it, every
	// bundle is written with an Object Lock retention of its category's
	// retention in the policy, and the bucket must have Object Lock.
	ObjectLock string
}

// FileLocation is the location of a file vault in dir.
func FileLocation(dir string) Location { return Location{Scheme: "file", Dir: dir} }

// String is the URL of l, for messages (it holds no secret).
func (l Location) String() string {
	if l.Scheme == "file" {
		return (&url.URL{Scheme: "file", Path: l.Dir}).String()
	}
	q := url.Values{}
	scheme := "https"
	if !l.UseTLS {
		scheme = "http"
	}
	q.Set("endpoint", scheme+"://"+l.Endpoint)
	if l.Region != "" {
		q.Set("region", l.Region)
	}
	if l.PathStyle {
		q.Set("path_style", "true")
	}
	if l.ObjectLock != "" {
		q.Set("object_lock", strings.ToLower(l.ObjectLock))
	}
	return (&url.URL{Scheme: "s3", Host: l.Bucket, Path: "/" + l.Prefix, RawQuery: q.Encode()}).String()
}

// defaultEndpoint is where s3:// URLs without endpoint= go.
const defaultEndpoint = "s3.amazonaws.com"

// ParseURL parses a vault URL:
//
//	file:///srv/tresor/vault
//	s3://BUCKET[/PREFIX]?endpoint=https://HOST[:PORT]&region=R&path_style=true&object_lock=governance
//
// endpoint defaults to AWS (https://s3.amazonaws.com); object_lock is
// governance or compliance.
func ParseURL(raw string) (Location, error) {
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("%w: %s", ErrInvalidURL, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(raw) == "" {
		return bad("empty; want file:///PATH or s3://BUCKET/PREFIX?endpoint=https://HOST")
	}
	if strings.IndexFunc(raw, unicode.IsControl) >= 0 {
		return bad("contains control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", errors.Unwrap(err))
	}
	if u.User != nil {
		// Not echoed: it holds a secret.
		return bad("it must not hold credentials: set TRESOR_S3_ACCESS_KEY_ID and TRESOR_S3_SECRET_ACCESS_KEY_FILE instead")
	}
	if u.Fragment != "" || u.Opaque != "" {
		return bad("want file:///PATH or s3://BUCKET/PREFIX, without a fragment")
	}
	switch u.Scheme {
	case "file":
		return parseFile(u)
	case "s3":
		return parseS3(u)
	default:
		return bad("scheme %q: want file:// or s3://", u.Scheme)
	}
}

func parseFile(u *url.URL) (Location, error) {
	if u.Host != "" && u.Host != "localhost" {
		return Location{}, fmt.Errorf("%w: file URL with host %q: want file:///PATH (three slashes)", ErrInvalidURL, u.Host)
	}
	if u.RawQuery != "" {
		return Location{}, fmt.Errorf("%w: a file URL takes no query", ErrInvalidURL)
	}
	if !path.IsAbs(u.Path) {
		return Location{}, fmt.Errorf("%w: file URL needs an absolute path: file:///PATH", ErrInvalidURL)
	}
	return FileLocation(path.Clean(u.Path)), nil
}

func parseS3(u *url.URL) (Location, error) {
	bad := func(format string, args ...any) (Location, error) {
		return Location{}, fmt.Errorf("%w: %s", ErrInvalidURL, fmt.Sprintf(format, args...))
	}
	l := Location{Scheme: "s3", Bucket: u.Host, Endpoint: defaultEndpoint, UseTLS: true}
	if err := checkBucket(l.Bucket); err != nil {
		return Location{}, err
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		for _, seg := range strings.Split(prefix, "/") {
			if seg == "" || seg == "." || seg == ".." {
				return bad("prefix %q: no empty, . or .. segments", prefix)
			}
		}
		l.Prefix = prefix + "/"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return bad("%s given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "endpoint":
			e, err := url.Parse(v)
			if err != nil || e.Host == "" || e.User != nil || (e.Path != "" && e.Path != "/") || e.RawQuery != "" || e.Fragment != "" {
				return bad("endpoint %q: want https://HOST[:PORT] (or http:// on a trusted network)", v)
			}
			switch e.Scheme {
			case "https":
			case "http":
				l.UseTLS = false
			default:
				return bad("endpoint %q: want https:// or http://", v)
			}
			if _, port, err := net.SplitHostPort(e.Host); err == nil && port == "" {
				return bad("endpoint %q: empty port", v)
			}
			l.Endpoint = e.Host
		case "region":
			if v == "" || strings.IndexFunc(v, func(r rune) bool { return !(r == '-' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') }) >= 0 {
				return bad("region %q: want lowercase letters, digits and -, e.g. eu-central-1", v)
			}
			l.Region = v
		case "path_style":
			switch v {
			case "true":
				l.PathStyle = true
			case "false":
			default:
				return bad("path_style %q: want true or false", v)
			}
		case "object_lock":
			switch strings.ToLower(v) {
			case "governance":
				l.ObjectLock = "GOVERNANCE"
			case "compliance":
				l.ObjectLock = "COMPLIANCE"
			default:
				return bad("object_lock %q: want governance or compliance", v)
			}
		default:
			return bad("unknown parameter %q: want endpoint, region, path_style or object_lock", k)
		}
	}
	return l, nil
}

// checkBucket applies S3's bucket naming rules.
func checkBucket(b string) error {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("%w: bucket %q: want 3 to 63 characters (s3://BUCKET/PREFIX)", ErrInvalidURL, b)
	}
	for i, r := range b {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || (r == '-' || r == '.') && i > 0 && i < len(b)-1
		if !ok {
			return fmt.Errorf("%w: bucket %q: want lowercase letters, digits, dots and hyphens", ErrInvalidURL, b)
		}
	}
	if strings.Contains(b, "..") || net.ParseIP(b) != nil {
		return fmt.Errorf("%w: bucket %q: no two dots in a row, not an IP address", ErrInvalidURL, b)
	}
	return nil
}
