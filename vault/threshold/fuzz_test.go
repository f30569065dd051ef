package threshold

import (
	"crypto/rand"
	"strings"
	"testing"

	"filippo.io/age"
)

// FuzzShareStanza feeds arbitrary stanzas to a holder: never a panic, and
// nothing but a clean error or no match unless the stanza is genuine.
func FuzzShareStanza(f *testing.F) {
	rec, holders, err := Generate(2, 3, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	stanzas, err := rec.Wrap(make([]byte, 16))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range stanzas {
		f.Add(strings.Join(s.Args, " "), s.Body)
	}
	f.Add("", []byte{})
	f.Add("AAAAAAAAAAA 01 2 AAAA", []byte{1, 2})
	f.Add("AAAAAAAAAAA 256 2 AAAA", []byte{1, 2})
	c, _ := Combine(holders...)
	f.Fuzz(func(t *testing.T, args string, body []byte) {
		s := &age.Stanza{Type: StanzaType, Args: strings.Fields(args), Body: body}
		if ps, err := parseShareStanza(s); err == nil {
			if ps.index < 1 || ps.k < 2 || len(ps.ephemeral) != keySize || len(ps.body) != shareSize+16 {
				t.Fatalf("accepted bad stanza %+v", ps)
			}
		}
		key, err := c.Unwrap([]*age.Stanza{s, s})
		if err == nil && len(key) != shareSize {
			t.Fatalf("key of %d bytes", len(key))
		}
	})
}

func FuzzParseIdentityAndRecipient(f *testing.F) {
	rec, holders, err := Generate(2, 3, rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	c, _ := Combine(holders...)
	f.Add(rec.data)
	f.Add(c.data())
	f.Add(holders[0].data())
	f.Add([]byte{1, 1})
	f.Add([]byte{1, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, err := ParseIdentityData(data); err == nil {
			if _, err := ParseIdentity(id.String()); err != nil {
				t.Fatalf("identity does not round-trip: %v", err)
			}
		}
		if r, err := ParseRecipientData(data, rand.Reader); err == nil {
			if _, err := ParseRecipient(r.String(), rand.Reader); err != nil {
				t.Fatalf("recipient does not round-trip: %v", err)
			}
		}
	})
}
