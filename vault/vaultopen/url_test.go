package vaultopen

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Location
		err  string // substring of the error; "" for success
	}{
		{in: "file:///srv/tresor/vault", want: Location{Scheme: "file", Dir: "/srv/tresor/vault"}},
		{in: "file://localhost/srv/v/../vault/", want: Location{Scheme: "file", Dir: "/srv/vault"}},
		{in: "s3://evidence", want: Location{Scheme: "s3", Bucket: "evidence", Endpoint: "s3.amazonaws.com", UseTLS: true}},
		{in: "s3://evidence/tresor/prod/?endpoint=https://s3.example.org:9000&region=eu-central-1&path_style=true&object_lock=GOVERNANCE",
			want: Location{Scheme: "s3", Bucket: "evidence", Prefix: "tresor/prod/", Endpoint: "s3.example.org:9000", UseTLS: true,
				Region: "eu-central-1", PathStyle: true, ObjectLock: "GOVERNANCE"}},
		{in: "s3://my.bucket-1/p?endpoint=http://127.0.0.1:7070&object_lock=compliance&path_style=false",
			want: Location{Scheme: "s3", Bucket: "my.bucket-1", Prefix: "p/", Endpoint: "127.0.0.1:7070", ObjectLock: "COMPLIANCE"}},
		{in: "", err: "empty"},
		{in: "/srv/vault", err: `scheme ""`},
		{in: "ftp://x/y", err: `scheme "ftp"`},
		{in: "file://server/vault", err: "three slashes"},
		{in: "file:vault", err: "without a fragment"},
		{in: "file:///srv/vault?x=1", err: "no query"},
		{in: "s3://AKIA:secret@evidence/p", err: "must not hold credentials"},
		{in: "s3://ev/p", err: "3 to 63"},
		{in: "s3://Evidence/p", err: "lowercase"},
		{in: "s3://-evidence/p", err: "lowercase"},
		{in: "s3://ev..idence/p", err: "two dots"},
		{in: "s3://192.168.1.10/p", err: "IP address"},
		{in: "s3://evidence:9000/p", err: "lowercase"},
		{in: "s3://evidence/a//b", err: "segments"},
		{in: "s3://evidence/a/../b", err: "segments"},
		{in: "s3://evidence/p?endpoint=s3.example.org", err: "endpoint"},
		{in: "s3://evidence/p?endpoint=ftp://s3.example.org", err: "https:// or http://"},
		{in: "s3://evidence/p?endpoint=https://s3.example.org/path", err: "endpoint"},
		{in: "s3://evidence/p?endpoint=https://u:p@s3.example.org", err: "endpoint"},
		{in: "s3://evidence/p?endpoint=https://s3.example.org:", err: "empty port"},
		{in: "s3://evidence/p?region=EU", err: "region"},
		{in: "s3://evidence/p?path_style=yes", err: "path_style"},
		{in: "s3://evidence/p?object_lock=on", err: "object_lock"},
		{in: "s3://evidence/p?objectlock=governance", err: `unknown parameter "objectlock"`},
		{in: "s3://evidence/p?region=a&region=b", err: "2 times"},
		{in: "s3://evidence/p#x", err: "fragment"},
		{in: "s3://evidence/p\n", err: "control"},
	} {
		got, err := ParseURL(tc.in)
		if tc.err != "" {
			if err == nil || !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseURL(%q) = %+v, %v; want an ErrInvalidURL saying %q", tc.in, got, err, tc.err)
			}
			if strings.Contains(tc.in, "secret") && err != nil && strings.Contains(err.Error(), "secret@") {
				t.Errorf("ParseURL(%q) echoes the credentials: %v", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		// String gives a URL that parses back to the same location.
		again, err := ParseURL(got.String())
		if err != nil || again != got {
			t.Errorf("ParseURL(%q.String() = %q) = %+v, %v", tc.in, got.String(), again, err)
		}
	}
}

// FuzzParseURL: any input is accepted whole or refused with ErrInvalidURL,
// never a panic; an accepted URL round-trips through String; a refused
// one never echoes user info.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"file:///srv/vault", "s3://evidence/p?endpoint=https://h:1&region=eu-1&path_style=true&object_lock=governance",
		"s3://u:pw@bucket", "s3://b%20b/x", "file://localhost/../x", "s3://evidence/%2e%2e/x", "s3://evidence?endpoint=http://[::1]:9000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		l, err := ParseURL(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ParseURL(%q): error %v is not ErrInvalidURL", in, err)
			}
			return
		}
		switch l.Scheme {
		case "file":
			if !strings.HasPrefix(l.Dir, "/") {
				t.Fatalf("ParseURL(%q): relative dir %q", in, l.Dir)
			}
		case "s3":
			if checkBucket(l.Bucket) != nil || l.Endpoint == "" || l.Prefix != "" && !strings.HasSuffix(l.Prefix, "/") {
				t.Fatalf("ParseURL(%q) = %+v", in, l)
			}
		default:
			t.Fatalf("ParseURL(%q): scheme %q", in, l.Scheme)
		}
		again, err := ParseURL(l.String())
		if err != nil || again != l {
			t.Fatalf("ParseURL(%q) = %+v; its String %q parses to %+v, %v", in, l, l.String(), again, err)
		}
	})
}
