package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func TestHashStringParse(t *testing.T) {
	h := Hash(sha256.Sum256([]byte("tresor")))
	s := h.String()
	if s != strings.ToLower(s) || len(s) != 64 {
		t.Fatalf("String() = %q, want 64 lowercase hex digits", s)
	}
	for _, in := range []string{s, strings.ToUpper(s)} {
		got, err := ParseHash(in)
		if err != nil || got != h {
			t.Errorf("ParseHash(%q) = %v, %v; want %v", in, got, err, h)
		}
	}
	for _, bad := range []string{"", s[:63], s + "0", "zz" + s[2:], " " + s[1:], "éé" + s[4:]} {
		if _, err := ParseHash(bad); err == nil {
			t.Errorf("ParseHash(%q) succeeded", bad)
		}
	}
	text, err := h.MarshalText()
	if err != nil || string(text) != s {
		t.Fatalf("MarshalText = %q, %v", text, err)
	}
	var back Hash
	if err := back.UnmarshalText(text); err != nil || back != h {
		t.Fatalf("UnmarshalText = %v, %v", back, err)
	}
	if err := back.UnmarshalText([]byte("nope")); err == nil {
		t.Fatal("UnmarshalText(nope) succeeded")
	}
	if !(Hash{}).IsZero() || h.IsZero() {
		t.Fatal("IsZero wrong")
	}
}

func TestSeal(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	details := map[string]string{"request_id": "r1"}
	first := Seal(nil, Entry{
		Seq: 99, PrevHash: Hash{1}, Hash: Hash{2}, // overwritten
		Time:  time.Date(2025, 1, 2, 3, 4, 5, 123456789, berlin),
		Actor: "u1", Action: "incident.flagged", Details: details,
	})
	if first.Seq != 1 || !first.PrevHash.IsZero() {
		t.Fatalf("first: Seq %d PrevHash %v, want 1 and zero", first.Seq, first.PrevHash)
	}
	if want := time.Date(2025, 1, 2, 2, 4, 5, 123456000, time.UTC); first.Time != want {
		t.Fatalf("Time = %v, want %v (UTC, truncated to µs)", first.Time, want)
	}
	if first.Hash != Hash(sha256.Sum256(first.Encode())) || first.Hash != first.ComputeHash() {
		t.Fatal("Hash is not SHA-256 of Encode()")
	}
	details["request_id"] = "changed later"
	if first.Details["request_id"] != "r1" || first.ComputeHash() != first.Hash {
		t.Fatal("Seal did not copy Details: caller's later change altered the sealed entry")
	}
	second := Seal(&first, Entry{Time: t0, Actor: "system", Action: "retention.destroyed"})
	if second.Seq != 2 || second.PrevHash != first.Hash {
		t.Fatalf("second: Seq %d PrevHash %v, want 2 and %v", second.Seq, second.PrevHash, first.Hash)
	}
	if second.Details != nil {
		t.Fatal("nil Details became non-nil")
	}
}

// TestEncodeLayout pins the encoding byte by byte: changing it would make
// every stored log fail verification.
func TestEncodeLayout(t *testing.T) {
	e := Entry{
		Seq:        2,
		Time:       time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC),
		Actor:      "u1",
		Action:     "request.approved",
		IncidentID: "",
		Details:    map[string]string{"z": "last", "a": strings.Repeat("x", 200)},
		PrevHash:   Hash{0xaa, 31: 0xbb},
	}
	var want []byte
	want = append(want, "tresor-audit-entry-v1\x00"...)
	want = binary.BigEndian.AppendUint64(want, 2)
	want = binary.BigEndian.AppendUint64(want, uint64(e.Time.Unix()))
	want = binary.BigEndian.AppendUint32(want, 6000)
	want = append(want, 2, 'u', '1')
	want = append(want, 16)
	want = append(want, "request.approved"...)
	want = append(want, 0)                  // incident id
	want = append(want, 2)                  // two details
	want = append(want, 1, 'a', 0xc8, 0x01) // "a", then uvarint 200
	want = append(want, strings.Repeat("x", 200)...)
	want = append(want, 1, 'z', 4, 'l', 'a', 's', 't')
	want = append(want, e.PrevHash[:]...)
	got := e.Encode()
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode() =\n%s\nwant\n%s", hex.Dump(got), hex.Dump(want))
	}
	if len(got) != e.encodedLen() || cap(got) != len(got) {
		t.Errorf("len %d cap %d, encodedLen %d", len(got), cap(got), e.encodedLen())
	}
	if got := Seal(nil, Entry{Time: t0, Actor: "system", Action: "log.created"}).Hash.String(); got != goldenFirstHash {
		t.Errorf("hash of golden first entry = %s, want %s", got, goldenFirstHash)
	}
}

const goldenFirstHash = "ae81869688b357ab129c0ad1ad0bd53f4f0ae3bd1e4b500f27ca9a19187630d5"

func TestEncodeInjective(t *testing.T) {
	base := Entry{Seq: 3, Time: t0, Actor: "ab", Action: "c", IncidentID: "i", Details: map[string]string{"k": "v"}}
	with := func(f func(*Entry)) Entry {
		e := base
		e.Details = map[string]string{"k": "v"}
		f(&e)
		return e
	}
	differ := map[string]Entry{
		"seq":               with(func(e *Entry) { e.Seq = 4 }),
		"negative seq":      with(func(e *Entry) { e.Seq = -3 }),
		"time ns":           with(func(e *Entry) { e.Time = e.Time.Add(time.Nanosecond) }),
		"time s":            with(func(e *Entry) { e.Time = e.Time.Add(time.Second) }),
		"actor/action edge": with(func(e *Entry) { e.Actor, e.Action = "a", "bc" }),
		"action/id edge":    with(func(e *Entry) { e.Action, e.IncidentID = "ci", "" }),
		"id into details":   with(func(e *Entry) { e.IncidentID = ""; e.Details = map[string]string{"ik": "v"} }),
		"key/value edge":    with(func(e *Entry) { e.Details = map[string]string{"kv": ""} }),
		"extra detail":      with(func(e *Entry) { e.Details["l"] = "" }),
		"no details":        with(func(e *Entry) { e.Details = nil }),
		"detail value":      with(func(e *Entry) { e.Details["k"] = "w" }),
		"detail key":        with(func(e *Entry) { e.Details = map[string]string{"j": "v"} }),
		"prev hash":         with(func(e *Entry) { e.PrevHash[31] = 1 }),
		"two details split": with(func(e *Entry) { e.Details = map[string]string{"k": "v\x01\x01l\x00"} }),
	}
	seen := map[string]string{string(base.Encode()): "base"}
	for name, e := range differ {
		enc := string(e.Encode())
		if other, ok := seen[enc]; ok {
			t.Errorf("%s encodes like %s", name, other)
		}
		seen[enc] = name
	}

	same := map[string]Entry{
		"other zone":    with(func(e *Entry) { e.Time = e.Time.In(time.FixedZone("CET", 3600)) }),
		"hash excluded": with(func(e *Entry) { e.Hash = Hash{9} }),
		"map order": with(func(e *Entry) {
			e.Details = map[string]string{}
			for _, k := range []string{"k"} {
				e.Details[k] = "v"
			}
		}),
	}
	for name, e := range same {
		if !bytes.Equal(e.Encode(), base.Encode()) {
			t.Errorf("%s changed the encoding", name)
		}
	}
	a := Entry{Details: map[string]string{}}
	if !bytes.Equal(a.Encode(), (Entry{}).Encode()) {
		t.Error("empty and nil Details encode differently")
	}
	// Many details, in different insertion orders.
	m1, m2 := map[string]string{}, map[string]string{}
	for i := range 40 {
		m1[string(rune('a'+i))] = "x"
		m2[string(rune('a'+39-i))] = "x"
	}
	if !bytes.Equal((Entry{Details: m1}).Encode(), (Entry{Details: m2}).Encode()) {
		t.Error("40 details: encoding depends on map order")
	}
}

func TestEncodeAllocs(t *testing.T) {
	entries, _ := newLog(t, 1)
	e := entries[0]
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = e.appendEncode(buf[:0]) }); n != 0 {
		t.Errorf("appendEncode allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = e.ComputeHash() }); n != 0 {
		t.Errorf("ComputeHash allocates %v times, want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() { _ = e.Encode() }); n != 1 {
		t.Errorf("Encode allocates %v times, want 1", n)
	}
}

func TestValidate(t *testing.T) {
	ok := Entry{Time: t0, Actor: "u", Action: "a", Details: map[string]string{"k": "ü"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	for name, e := range map[string]Entry{
		"no actor":     {Time: t0, Action: "a"},
		"no action":    {Time: t0, Actor: "u"},
		"no time":      {Actor: "u", Action: "a"},
		"year 10000":   {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), Actor: "u", Action: "a"},
		"bad actor":    {Time: t0, Actor: "\xff", Action: "a"},
		"bad incident": {Time: t0, Actor: "u", Action: "a", IncidentID: "\xc3"},
		"bad key":      {Time: t0, Actor: "u", Action: "a", Details: map[string]string{"\xff": ""}},
		"bad value":    {Time: t0, Actor: "u", Action: "a", Details: map[string]string{"k": "\xff"}},
	} {
		err := e.Validate()
		if err == nil {
			t.Errorf("%s: Validate() = nil", name)
		} else if !strings.HasPrefix(err.Error(), "invalid audit entry: ") {
			t.Errorf("%s: error %q", name, err)
		}
	}
}
