package audit

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"strings"
	"testing"
	"time"
)

func sameEntries(tb testing.TB, got, want []Entry) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		// Encode is injective, so equal encodings and hashes mean equal entries.
		if !bytes.Equal(got[i].Encode(), want[i].Encode()) || got[i].Hash != want[i].Hash {
			tb.Fatalf("entry %d: got %+v, want %+v", i, got[i], want[i])
		}
		if got[i].Time.Location() != time.UTC {
			tb.Fatalf("entry %d: time not in UTC: %v", i, got[i].Time)
		}
	}
}

func TestJSONLRoundTrip(t *testing.T) {
	entries, _ := newLog(t, 50)
	entries[3].Details["quote"] = "\"<script>\" & ⚠ \u2028 \x00"
	entries[4].Details = nil
	entries[5].IncidentID = ""
	head := reseal(entries, 3)

	var buf bytes.Buffer
	if err := WriteJSONL(&buf, entries); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != len(entries) {
		t.Fatalf("%d lines for %d entries", lines, len(entries))
	}
	got, err := ReadJSONL(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, entries)
	if _, err := Verify(context.Background(), SliceSource(got), head); err != nil {
		t.Fatalf("Verify(exported log): %v", err)
	}
	// CRLF line ends (a file edited on Windows) read the same.
	crlf := strings.ReplaceAll(buf.String(), "\n", "\r\n")
	got, err = ReadJSONL(strings.NewReader(crlf))
	if err != nil {
		t.Fatal(err)
	}
	sameEntries(t, got, entries)
	// Empty export.
	buf.Reset()
	if err := WriteJSONL(&buf, nil); err != nil || buf.Len() != 0 {
		t.Fatalf("empty export: %q, %v", buf.String(), err)
	}
	if got, err := ReadJSONL(&buf); err != nil || len(got) != 0 {
		t.Fatalf("empty import: %v, %v", got, err)
	}
}

func TestJSONLFormat(t *testing.T) {
	e := Seal(nil, Entry{
		Time:    time.Date(2025, 1, 2, 3, 4, 5, 120000000, time.UTC),
		Actor:   "u-1",
		Action:  "incident.flagged",
		Details: map[string]string{"b": "2", "a": "<1>"},
	})
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []Entry{e}); err != nil {
		t.Fatal(err)
	}
	want := `{"seq":1,"time":"2025-01-02T03:04:05.12Z","actor":"u-1","action":"incident.flagged","incident_id":"",` +
		`"details":{"a":"<1>","b":"2"},"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",` +
		`"hash":"` + e.Hash.String() + `"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestReadJSONLErrors(t *testing.T) {
	entries, _ := newLog(t, 2)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, entries); err != nil {
		t.Fatal(err)
	}
	good := strings.SplitAfter(buf.String(), "\n")[0]
	line := strings.TrimSuffix(good, "\n")
	repl := func(old, new string) string { return strings.Replace(line, old, new, 1) + "\n" }
	tests := map[string]string{
		"empty line":        good + "\n" + good,
		"blank line":        good + "   \n",
		"not json":          "hello\n",
		"array":             "[]\n",
		"two objects":       line + line + "\n",
		"trailing garbage":  line + " x\n",
		"unknown key":       repl(`"seq":1`, `"seq":1,"content":"evidence"`),
		"missing key":       repl(`"actor":"user-0",`, ""),
		"null details":      repl(`"details":{`, `"details":null,"x":{`),
		"seq as string":     repl(`"seq":1`, `"seq":"1"`),
		"seq fraction":      repl(`"seq":1`, `"seq":1.5`),
		"seq overflow":      repl(`"seq":1`, `"seq":99999999999999999999`),
		"bad time":          repl(`"time":"2025`, `"time":"yesterday 2025`),
		"year 10000 by tz":  repl(entries[0].Time.Format(time.RFC3339Nano), "9999-12-31T23:59:59-01:00"),
		"year -1 by tz":     repl(entries[0].Time.Format(time.RFC3339Nano), "0000-01-01T00:00:00+01:00"),
		"detail not string": repl(`"details":{`, `"details":{"n":1,`),
		"short hash":        repl(`"hash":"`+entries[0].Hash.String(), `"hash":"abc`),
		"non-hex prev hash": repl(`"prev_hash":"0`, `"prev_hash":"g`),
		"long line":         strings.Repeat(" ", maxJSONLLine+1) + "\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := ReadJSONL(strings.NewReader(in))
			if err == nil {
				t.Fatalf("ReadJSONL succeeded: %+v", got)
			}
			if got != nil {
				t.Errorf("entries returned with error")
			}
			if !strings.HasPrefix(err.Error(), "failed to read audit export") || !strings.Contains(err.Error(), "line ") {
				t.Errorf("unclear error: %v", err)
			}
			if len(err.Error()) < 300 {
				t.Log(err)
			}
		})
	}
	if _, err := ReadJSONL(nil); err == nil {
		t.Error("ReadJSONL(nil) succeeded")
	}
	_, err := ReadJSONL(errReader{})
	if !errors.Is(err, errRead) {
		t.Fatalf("read error not wrapped: %v", err)
	}
}

var errRead = errors.New("disk on fire")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errRead }

func TestWriteErrors(t *testing.T) {
	entries, _ := newLog(t, 3)
	if err := WriteJSONL(errWriter{}, entries); !errors.Is(err, errRead) {
		t.Errorf("WriteJSONL: %v", err)
	}
	if err := WriteCSV(errWriter{}, entries); !errors.Is(err, errRead) {
		t.Errorf("WriteCSV: %v", err)
	}
	if WriteJSONL(nil, entries) == nil || WriteCSV(nil, entries) == nil {
		t.Error("nil writer accepted")
	}
	for name, e := range map[string]Entry{
		"invalid utf-8":     {Time: t0, Actor: "\xff"},
		"invalid utf-8 key": {Time: t0, Details: map[string]string{"\xff": ""}},
		"year 10000":        {Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"year -1":           {Time: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		var buf bytes.Buffer
		if err := WriteJSONL(&buf, []Entry{entries[0], e}); err == nil {
			t.Errorf("%s: WriteJSONL succeeded", name)
		} else {
			t.Log(err)
		}
	}
}

func TestWriteCSV(t *testing.T) {
	entries, _ := newLog(t, 3)
	hostile := []string{
		"=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\r=1",
	}
	for _, s := range hostile {
		e := Seal(&entries[len(entries)-1], Entry{
			Time: t0, Actor: s, Action: s, IncidentID: s,
			Details: map[string]string{"k": s},
		})
		entries = append(entries, e)
	}
	entries = append(entries, Seal(&entries[len(entries)-1], Entry{Time: t0, Actor: "a,b", Action: "line\nbreak", IncidentID: `q"uote`}))

	var buf bytes.Buffer
	if err := WriteCSV(&buf, entries); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(entries)+1 {
		t.Fatalf("%d rows, want %d", len(rows), len(entries)+1)
	}
	if got := strings.Join(rows[0], ","); got != "seq,time,actor,action,incident_id,details,prev_hash,hash" {
		t.Fatalf("header %q", got)
	}
	for i, row := range rows[1:] {
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %s: cell %q starts with a formula character", i+1, rows[0][j], cell)
			}
		}
	}
	for i, s := range hostile {
		row := rows[4+i]
		for _, j := range []int{2, 3, 4} {
			if row[j] != "'"+s {
				t.Errorf("cell %q, want %q", row[j], "'"+s)
			}
		}
	}
	first := rows[1]
	e := entries[0]
	if first[0] != "1" || first[1] != e.Time.Format(time.RFC3339Nano) || first[2] != e.Actor || first[6] != e.PrevHash.String() || first[7] != e.Hash.String() {
		t.Errorf("row 1 = %q", first)
	}
	if !strings.HasPrefix(first[5], `{"reason":"Vier-Augen-Prinzip`) {
		t.Errorf("details cell %q", first[5])
	}
	last := rows[len(rows)-1]
	if last[2] != "a,b" || last[3] != "line\nbreak" || last[4] != `q"uote` || last[5] != "{}" {
		t.Errorf("last row = %q", last)
	}
}

func FuzzReadJSONL(f *testing.F) {
	entries, _ := newLog(f, 3)
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, entries); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(strings.SplitAfter(buf.String(), "\n")[0]))
	f.Add([]byte(`{"seq":1,"time":"2025-01-01T00:00:00Z","actor":"","action":"","incident_id":"","details":{},"prev_hash":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("F", 64) + `"}`))
	f.Add([]byte("{}\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":-1,"time":"0000-01-01T00:00:00+00:00"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ReadJSONL(bytes.NewReader(data))
		if err != nil {
			if got != nil {
				t.Fatal("entries returned with error")
			}
			return
		}
		// Whatever ReadJSONL accepts, WriteJSONL writes back so that it
		// reads the same, and the second export is byte-identical.
		var out1, out2 bytes.Buffer
		if err := WriteJSONL(&out1, got); err != nil {
			t.Fatalf("WriteJSONL of read entries: %v", err)
		}
		again, err := ReadJSONL(bytes.NewReader(out1.Bytes()))
		if err != nil {
			t.Fatalf("ReadJSONL of own export: %v\n%s", err, out1.Bytes())
		}
		sameEntries(t, again, got)
		if err := WriteJSONL(&out2, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out1.Bytes(), out2.Bytes()) {
			t.Fatalf("export not stable:\n%s\n%s", out1.Bytes(), out2.Bytes())
		}
		// Verify takes it too; it can only find it intact or tampered.
		if _, err := Verify(context.Background(), SliceSource(got), headOf(got)); err != nil && !errors.Is(err, ErrTampered) {
			t.Fatalf("Verify: %v", err)
		}
	})
}
