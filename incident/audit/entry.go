package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
	"unicode/utf8"
)

// Hash is a SHA-256 hash.
type Hash [32]byte

// String returns h in lowercase hexadecimal.
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}

// IsZero reports whether h is all zero bytes (the PrevHash of entry 1).
func (h Hash) IsZero() bool {
	return h == Hash{}
}

// MarshalText implements [encoding.TextMarshaler] (lowercase hex).
func (h Hash) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, h[:]), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler]; see [ParseHash].
func (h *Hash) UnmarshalText(text []byte) error {
	p, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = p
	return nil
}

// ParseHash parses a hash written as 64 hexadecimal digits.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != 2*len(h) {
		return Hash{}, fmt.Errorf("malformed hash: want %d hex digits, got %d characters", 2*len(h), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("malformed hash: %w", err)
	}
	return h, nil
}

// Entry is one audit record. It never holds evidence content.
type Entry struct {
	Seq        int64             // 1-based, contiguous; the Merkle leaf index is Seq-1
	Time       time.Time         // UTC, microsecond precision (Seal truncates)
	Actor      string            // user id, or "system"
	Action     string            // e.g. "incident.flagged", "request.approved"
	IncidentID string            // may be empty
	Details    map[string]string // small, non-evidence facts (ids, hashes, reasons)
	PrevHash   Hash              // Hash of entry Seq-1; zero for Seq 1
	Hash       Hash              // SHA-256 over Encode()
}

// encodingTag starts every encoding; it names the format version.
const encodingTag = "tresor-audit-entry-v1\x00"

// Encode returns the canonical encoding of every field of e except Hash.
// It is the input of e.Hash and the Merkle leaf data of entry e.Seq.
//
// The encoding is, in order: the tag "tresor-audit-entry-v1\x00"; Seq as
// 8 bytes big-endian two's complement; Time as Unix seconds (8 bytes
// big-endian two's complement) and nanoseconds within the second (4 bytes
// big-endian); Actor, Action and IncidentID each as a uvarint byte length
// followed by the bytes; the number of Details as a uvarint, then each pair
// in increasing byte order of the key as key and value, each length-prefixed
// like the strings; PrevHash as 32 bytes.
//
// Every field has a fixed width or a length prefix, and Details are sorted,
// so different entries have different encodings (the encoding is injective),
// except that a nil and an empty Details map encode the same, and that Time
// is encoded as an instant, independent of its Location.
func (e Entry) Encode() []byte {
	return e.appendEncode(make([]byte, 0, e.encodedLen()))
}

// encodedLen returns len(e.Encode()).
func (e Entry) encodedLen() int {
	n := len(encodingTag) + 8 + 8 + 4 + len(Hash{})
	n += strLen(e.Actor) + strLen(e.Action) + strLen(e.IncidentID)
	n += uvarintLen(uint64(len(e.Details)))
	for k, v := range e.Details {
		n += strLen(k) + strLen(v)
	}
	return n
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// appendEncode appends e.Encode() to b. It allocates nothing beyond growing b
// when Details has at most 16 keys.
func (e Entry) appendEncode(b []byte) []byte {
	b = append(b, encodingTag...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(e.Time.Nanosecond()))
	b = appendString(b, e.Actor)
	b = appendString(b, e.Action)
	b = appendString(b, e.IncidentID)
	b = binary.AppendUvarint(b, uint64(len(e.Details)))
	if len(e.Details) > 0 {
		var arr [16]string
		keys := arr[:0]
		for k := range e.Details {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			b = appendString(b, k)
			b = appendString(b, e.Details[k])
		}
	}
	return append(b, e.PrevHash[:]...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// maxPooledBuf is the largest encoding buffer kept for reuse.
const maxPooledBuf = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// ComputeHash returns the SHA-256 hash of e.Encode(), which is what e.Hash
// must be for a sealed entry.
func (e Entry) ComputeHash() Hash {
	bp := bufPool.Get().(*[]byte)
	b := e.appendEncode((*bp)[:0])
	h := Hash(sha256.Sum256(b))
	if cap(b) <= maxPooledBuf {
		*bp = b
		bufPool.Put(bp)
	}
	return h
}

// Seal returns e completed as the entry that follows prev (nil for the
// first entry): Seq is prev.Seq+1 (or 1), PrevHash is prev.Hash (or zero),
// Time is truncated to microseconds in UTC, Details is a private copy, and
// Hash is computed over the encoding. The other fields are kept; Seal
// validates nothing (see [Entry.Validate]).
func Seal(prev *Entry, e Entry) Entry {
	if prev == nil {
		e.Seq = 1
		e.PrevHash = Hash{}
	} else {
		e.Seq = prev.Seq + 1
		e.PrevHash = prev.Hash
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	e.Details = maps.Clone(e.Details)
	e.Hash = e.ComputeHash()
	return e
}

// Time range that RFC 3339 (and so the JSONL export) can represent.
var (
	minTime = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Validate reports whether e is fit to be sealed and exported: Actor and
// Action are set, Time is set and within years 0000–9999, and every string
// (including Details keys and values) is valid UTF-8. The store should call
// it before [Seal]; entries failing it still hash and verify, but cannot be
// exported to JSON without loss.
func (e Entry) Validate() error {
	var errs []error
	if e.Actor == "" {
		errs = append(errs, errors.New("actor is empty"))
	}
	if e.Action == "" {
		errs = append(errs, errors.New("action is empty"))
	}
	if e.Time.IsZero() {
		errs = append(errs, errors.New("time is not set"))
	} else if err := checkTimeRange(e.Time); err != nil {
		errs = append(errs, err)
	}
	if err := checkUTF8(e); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid audit entry: %w", err)
	}
	return nil
}

func checkTimeRange(t time.Time) error {
	if t.Before(minTime) || !t.Before(maxTime) {
		return fmt.Errorf("time %s is outside years 0000-9999", t.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func checkUTF8(e Entry) error {
	var errs []error
	for _, f := range [...]struct{ name, s string }{
		{"actor", e.Actor}, {"action", e.Action}, {"incident_id", e.IncidentID},
	} {
		if !utf8.ValidString(f.s) {
			errs = append(errs, fmt.Errorf("%s is not valid UTF-8", f.name))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e.Details)) {
		if v := e.Details[k]; !utf8.ValidString(k) {
			errs = append(errs, fmt.Errorf("details key %q is not valid UTF-8", k))
		} else if !utf8.ValidString(v) {
			errs = append(errs, fmt.Errorf("details[%q] is not valid UTF-8", k))
		}
	}
	return errors.Join(errs...)
}
