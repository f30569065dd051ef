package threshold

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

func seal(t *testing.T, plaintext string, recs ...age.Recipient) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recs...)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, plaintext)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func open(file []byte, ids ...age.Identity) (string, error) {
	r, err := age.Decrypt(bytes.NewReader(file), ids...)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// TestAnyKOpenFewerNever: every subset of the holders, for 2 of 3 and 3
// of 5: K or more open, fewer are told how many are missing.
func TestAnyKOpenFewerNever(t *testing.T) {
	for _, kn := range [][2]int{{2, 3}, {3, 5}} {
		k, n := kn[0], kn[1]
		rec, holders, err := Generate(k, n, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		file := seal(t, "evidence", rec)
		subsets(n, func(idx []int) {
			var ids []*Identity
			for _, i := range idx {
				// Through the text form, as holders keep them.
				id, err := ParseIdentity(holders[i].String())
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			c, err := Combine(ids...)
			if err != nil {
				t.Fatal(err)
			}
			got, err := open(file, c)
			if len(idx) >= k {
				if err != nil || got != "evidence" {
					t.Errorf("%d of %d: holders %v: %q, %v", k, n, idx, got, err)
				}
				return
			}
			var short *NotEnoughHoldersError
			if !errors.As(err, &short) || short.Have != len(idx) || short.Need != k {
				t.Errorf("%d of %d: holders %v opened or wrong error: %q, %v", k, n, idx, got, err)
			}
			if want := "more holder"; err != nil && !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say how many are missing", err)
			}
		})
	}
}

func TestMergeCombinesSeparateHolders(t *testing.T) {
	rec, holders, err := Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file := seal(t, "x", rec)
	// Given separately, age tries each alone: not enough.
	if _, err := open(file, holders[0], holders[2]); !errors.Is(err, ErrNotEnoughHolders) {
		t.Fatalf("separate holders: %v", err)
	}
	ids, err := Merge([]age.Identity{holders[0], holders[2], holders[0]})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := open(file, ids...); err != nil || got != "x" {
		t.Fatalf("merged holders: %q, %v", got, err)
	}
}

func TestRecipientRoundTrip(t *testing.T) {
	rec, holders, err := Generate(3, 5, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s := rec.String()
	if !strings.HasPrefix(s, "age1tresor1") {
		t.Fatalf("recipient %q", s)
	}
	r2, err := ParseRecipient(s, rand.Reader)
	if err != nil || r2.String() != s || r2.Threshold() != 3 || r2.Holders() != 5 || r2.Set() != rec.Set() {
		t.Fatalf("round trip: %v", err)
	}
	id := holders[1].String()
	if !strings.HasPrefix(id, "AGE-PLUGIN-TRESOR-1") {
		t.Fatalf("identity %q", id[:20])
	}
	// A typing error is caught by the Bech32 checksum.
	typo := []byte(id)
	typo[30] = map[bool]byte{true: 'q', false: 'p'}[typo[30] != 'q']
	if _, err := ParseIdentity(string(typo)); err == nil {
		t.Fatal("mistyped identity accepted")
	}
	if _, err := ParseRecipient(strings.Replace(s, "age1tresor1", "age1tresor1q", 1), rand.Reader); err == nil {
		t.Fatal("mangled recipient accepted")
	}
	fps := holders[1].Fingerprints()
	if len(fps) != 1 || !strings.Contains(fps[0], "holder 2 of 5") || !strings.Contains(fps[0], rec.Set()) {
		t.Fatalf("fingerprints %q", fps)
	}
}

// tamperHeader changes the header line after the nth "-> tresor-share"
// line (its body) or the stanza line itself, via f.
func tamperHeader(t *testing.T, file []byte, nth int, f func(stanza, body string) (string, string)) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(file), "\n")
	seen := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "-> "+StanzaType+" ") {
			if seen == nth {
				s, b := f(strings.TrimSuffix(l, "\n"), strings.TrimSuffix(lines[i+1], "\n"))
				lines[i], lines[i+1] = s+"\n", b+"\n"
				return []byte(strings.Join(lines, ""))
			}
			seen++
		}
	}
	t.Fatal("no share stanza")
	return nil
}

func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestTamperedShareRefused(t *testing.T) {
	rec, holders, err := Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file := seal(t, "secret", rec)
	both, _ := Combine(holders[0], holders[1])
	for name, f := range map[string]func(s, b string) (string, string){
		"body": func(s, b string) (string, string) { return s, flipFirst(b) },
		"ephemeral": func(s, b string) (string, string) {
			f := strings.Fields(s)
			f[5] = flipFirst(f[5])
			return strings.Join(f, " "), b
		},
		"moved to another holder": func(s, b string) (string, string) {
			return strings.Replace(s, " 1 2 ", " 3 2 ", 1), b
		},
	} {
		t.Run(name, func(t *testing.T) {
			bad := tamperHeader(t, file, 0, f)
			_, err := open(bad, both)
			if name == "moved to another holder" {
				// Holder 1's share is gone; holder 2 alone is not enough.
				if !errors.Is(err, ErrNotEnoughHolders) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrTamperedShare) || !strings.Contains(err.Error(), "holder 1") {
				t.Fatalf("tampered share: %v", err)
			}
		})
	}
	t.Run("threshold lowered", func(t *testing.T) {
		bad := tamperHeader(t, file, 0, func(s, b string) (string, string) {
			return strings.Replace(s, " 1 2 ", " 1 3 ", 1), b
		})
		if _, err := open(bad, both); !errors.Is(err, ErrTamperedShare) {
			t.Fatalf("changed threshold: %v", err)
		}
	})
}

// substitute is a recipient that produces correctly wrapped but wrong
// shares: what someone who knows the (public) holder keys can make.
type substitute struct{ *Recipient }

func (s substitute) WrapWithLabels(fileKey []byte) ([]*age.Stanza, []string, error) {
	real, labels, err := s.Recipient.WrapWithLabels(fileKey)
	if err != nil {
		return nil, nil, err
	}
	bogus := make([]byte, len(fileKey))
	rand.Read(bogus)
	fake, _, err := s.Recipient.WrapWithLabels(bogus)
	if err != nil {
		return nil, nil, err
	}
	real[0] = fake[0] // holder 1 gets a share of another key
	return real, labels, nil
}

// TestSubstitutedShareFailsHeaderMAC: a substituted share decrypts, the
// reconstruction is wrong, and age's header MAC (keyed by the file key)
// refuses the file. With all three holders, the mismatch is seen earlier.
func TestSubstitutedShareFailsHeaderMAC(t *testing.T) {
	rec, holders, err := Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file := seal(t, "secret", substitute{rec})
	two, _ := Combine(holders[0], holders[1])
	if _, err := open(file, two); err == nil || !strings.Contains(err.Error(), "MAC") {
		t.Fatalf("substituted share with two holders: %v", err)
	}
	three, _ := Combine(holders[0], holders[1], holders[2])
	if _, err := open(file, three); !errors.Is(err, ErrTamperedShare) {
		t.Fatalf("substituted share with three holders: %v", err)
	}
	// Holders 2 and 3 have honest shares.
	ok, _ := Combine(holders[1], holders[2])
	if got, err := open(file, ok); err != nil || got != "secret" {
		t.Fatalf("honest holders: %q, %v", got, err)
	}
}

func TestMixingWithClassicRecipientRefused(t *testing.T) {
	rec, _, err := Generate(2, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := age.Encrypt(io.Discard, rec, classic.Recipient()); err == nil || !strings.Contains(err.Error(), "incompatible recipients") {
		t.Fatalf("threshold mixed with X25519: %v", err)
	}
	other, holders, err := Generate(2, 2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	file := seal(t, "both sets", rec, other)
	c, _ := Combine(holders...)
	if got, err := open(file, c); err != nil || got != "both sets" {
		t.Fatalf("second set: %q, %v", got, err)
	}
}

func TestIdentityDoesNotMatchOtherFiles(t *testing.T) {
	classic, _ := age.GenerateX25519Identity()
	file := seal(t, "x", classic.Recipient())
	_, holders, _ := Generate(2, 3, rand.Reader)
	c, _ := Combine(holders...)
	if _, err := open(file, c); err == nil || errors.Is(err, ErrNotEnoughHolders) {
		t.Fatalf("got %v", err)
	}
	rec2, _, _ := Generate(2, 3, rand.Reader)
	file2 := seal(t, "x", rec2)
	var noMatch *age.NoIdentityMatchError
	if _, err := open(file2, c); !errors.As(err, &noMatch) {
		t.Fatalf("holders of another set: %v", err)
	}
}
