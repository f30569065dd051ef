package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// wireEntry is the JSON form of an Entry in exports.
type wireEntry struct {
	Seq        int64             `json:"seq"`
	Time       string            `json:"time"`
	Actor      string            `json:"actor"`
	Action     string            `json:"action"`
	IncidentID string            `json:"incident_id"`
	Details    map[string]string `json:"details"`
	PrevHash   string            `json:"prev_hash"`
	Hash       string            `json:"hash"`
}

// exportColumns are the JSON keys and CSV header, in order.
var exportColumns = []string{"seq", "time", "actor", "action", "incident_id", "details", "prev_hash", "hash"}

func toWire(e Entry) (wireEntry, error) {
	if err := checkTimeRange(e.Time); err != nil {
		return wireEntry{}, err
	}
	if err := checkUTF8(e); err != nil {
		return wireEntry{}, err
	}
	d := e.Details
	if d == nil {
		d = map[string]string{}
	}
	return wireEntry{
		Seq:        e.Seq,
		Time:       e.Time.UTC().Format(time.RFC3339Nano),
		Actor:      e.Actor,
		Action:     e.Action,
		IncidentID: e.IncidentID,
		Details:    d,
		PrevHash:   e.PrevHash.String(),
		Hash:       e.Hash.String(),
	}, nil
}

// WriteJSONL writes entries as JSON Lines: one object per line with the keys
// seq, time (RFC 3339 in UTC, up to nanoseconds), actor, action,
// incident_id, details (an object of strings), prev_hash and hash (lowercase
// hex). [ReadJSONL] reads it back exactly. WriteJSONL fails, writing
// nothing more, on an entry that JSON cannot represent exactly (a string
// that is not valid UTF-8, a time outside years 0000–9999).
func WriteJSONL(w io.Writer, entries []Entry) error {
	if w == nil {
		return errors.New("failed to export entries: nil writer")
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i, e := range entries {
		we, err := toWire(e)
		if err != nil {
			return fmt.Errorf("failed to export entry %d (seq %d): %w", i+1, e.Seq, err)
		}
		if err := enc.Encode(we); err != nil { // Encode ends each object with '\n'
			return fmt.Errorf("failed to export entry %d (seq %d): %w", i+1, e.Seq, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("failed to export entries: %w", err)
	}
	return nil
}

// maxJSONLLine is the longest line ReadJSONL accepts.
const maxJSONLLine = 16 << 20

// ReadJSONL reads entries written by [WriteJSONL]. Every line must be one
// JSON object with exactly the export's keys (missing, null or unknown keys
// are errors), an RFC 3339 time and hashes of 64 hex digits. It does not
// verify the entries (a bad seq is left for Verify to report); use [Verify]
// with a [SliceSource] for that.
func ReadJSONL(r io.Reader) ([]Entry, error) {
	if r == nil {
		return nil, errors.New("failed to read audit export: nil reader")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLLine)
	var entries []Entry
	line := 0
	for sc.Scan() {
		line++
		e, err := parseJSONLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("failed to read audit export: line %d: %w", line, err)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("failed to read audit export: line %d: longer than %d bytes: %w", line+1, maxJSONLLine, err)
		}
		return nil, fmt.Errorf("failed to read audit export after line %d: %w", line, err)
	}
	return entries, nil
}

// wireEntryIn is wireEntry for reading: pointers tell missing keys apart.
type wireEntryIn struct {
	Seq        *int64             `json:"seq"`
	Time       *string            `json:"time"`
	Actor      *string            `json:"actor"`
	Action     *string            `json:"action"`
	IncidentID *string            `json:"incident_id"`
	Details    *map[string]string `json:"details"`
	PrevHash   *string            `json:"prev_hash"`
	Hash       *string            `json:"hash"`
}

func parseJSONLine(b []byte) (Entry, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return Entry{}, errors.New("empty line")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wireEntryIn
	if err := dec.Decode(&w); err != nil {
		return Entry{}, fmt.Errorf("invalid entry: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Entry{}, errors.New("invalid entry: data after the JSON object")
	}
	var missing []string
	for _, f := range [...]struct {
		name    string
		present bool
	}{
		{"seq", w.Seq != nil}, {"time", w.Time != nil}, {"actor", w.Actor != nil},
		{"action", w.Action != nil}, {"incident_id", w.IncidentID != nil},
		{"details", w.Details != nil}, {"prev_hash", w.PrevHash != nil}, {"hash", w.Hash != nil},
	} {
		if !f.present {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return Entry{}, fmt.Errorf("invalid entry: missing or null keys %s", strings.Join(missing, ", "))
	}
	seq := *w.Seq
	t, err := time.Parse(time.RFC3339Nano, *w.Time)
	if err != nil {
		return Entry{}, fmt.Errorf("invalid entry %d: time: %w", seq, err)
	}
	t = t.UTC()
	if err := checkTimeRange(t); err != nil {
		return Entry{}, fmt.Errorf("invalid entry %d: %w", seq, err)
	}
	prev, err := ParseHash(*w.PrevHash)
	if err != nil {
		return Entry{}, fmt.Errorf("invalid entry %d: prev_hash: %w", seq, err)
	}
	h, err := ParseHash(*w.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("invalid entry %d: hash: %w", seq, err)
	}
	return Entry{
		Seq:        seq,
		Time:       t,
		Actor:      *w.Actor,
		Action:     *w.Action,
		IncidentID: *w.IncidentID,
		Details:    *w.Details,
		PrevHash:   prev,
		Hash:       h,
	}, nil
}

// WriteCSV writes entries as CSV with a header row of the same columns as
// [WriteJSONL]; details is a JSON object. To stop spreadsheets from running
// cells as formulas, every cell that starts with '=', '+', '-', '@', a tab
// or a carriage return is prefixed with a single quote ('). The CSV is for
// reading; verify the JSONL export instead.
func WriteCSV(w io.Writer, entries []Entry) error {
	if w == nil {
		return errors.New("failed to export CSV: nil writer")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(exportColumns); err != nil {
		return fmt.Errorf("failed to export CSV header: %w", err)
	}
	var details bytes.Buffer
	enc := json.NewEncoder(&details)
	enc.SetEscapeHTML(false)
	row := make([]string, len(exportColumns))
	for i, e := range entries {
		details.Reset()
		d := e.Details
		if d == nil {
			d = map[string]string{}
		}
		if err := enc.Encode(d); err != nil {
			return fmt.Errorf("failed to export entry %d (seq %d): details: %w", i+1, e.Seq, err)
		}
		row[0] = strconv.FormatInt(e.Seq, 10)
		row[1] = e.Time.UTC().Format(time.RFC3339Nano)
		row[2] = e.Actor
		row[3] = e.Action
		row[4] = e.IncidentID
		row[5] = string(bytes.TrimSuffix(details.Bytes(), []byte("\n")))
		row[6] = e.PrevHash.String()
		row[7] = e.Hash.String()
		for j := range row {
			row[j] = csvSafe(row[j])
		}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("failed to export entry %d (seq %d): %w", i+1, e.Seq, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("failed to export CSV: %w", err)
	}
	return nil
}

// csvSafe neutralises spreadsheet formula injection (OWASP "CSV injection").
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
