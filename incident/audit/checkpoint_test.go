package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func newKeys(tb testing.TB, name string) (note.Signer, note.Verifier) {
	tb.Helper()
	skey, vkey, err := GenerateKey(rand.Reader, name)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := NewVerifier(vkey + "\n") // as read from a file
	if err != nil {
		tb.Fatal(err)
	}
	return s, v
}

func TestFormatCheckpoint(t *testing.T) {
	tr := tlog.Tree{N: 1234, Hash: tlog.Hash{0xff, 31: 1}}
	want := "tresor audit log\n1234\n/wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE=\n"
	if got := FormatCheckpoint(tr); got != want {
		t.Fatalf("FormatCheckpoint = %q, want %q", got, want)
	}
	back, err := ParseCheckpoint(want)
	if err != nil || back != tr {
		t.Fatalf("ParseCheckpoint = %+v, %v", back, err)
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	s, v := newKeys(t, "tresor-dsb")
	for _, tr := range []tlog.Tree{
		{N: 0, Hash: emptyTreeHash},
		{N: 1, Hash: tlog.Hash{1}},
		{N: 1 << 40, Hash: tlog.Hash{2, 31: 3}},
	} {
		msg, err := SignCheckpoint(tr, s)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(msg, []byte(FormatCheckpoint(tr)+"\n— tresor-dsb ")) {
			t.Fatalf("signed note:\n%s", msg)
		}
		got, err := OpenCheckpoint(msg, v)
		if err != nil || got != tr {
			t.Fatalf("OpenCheckpoint = %+v, %v; want %+v", got, err, tr)
		}
	}
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, v := newKeys(t, "tresor-dsb")
	attacker, _ := newKeys(t, "tresor-dsb") // same name, other key
	_, otherV := newKeys(t, "other")
	tr := tlog.Tree{N: 42, Hash: tlog.Hash{7}}
	msg, err := SignCheckpoint(tr, s)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := SignCheckpoint(tlog.Tree{N: 41, Hash: tlog.Hash{7}}, attacker)
	if err != nil {
		t.Fatal(err)
	}
	signRaw := func(text string) []byte {
		m, err := note.Sign(&note.Note{Text: text}, s)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	tamperSig := bytes.Clone(msg)
	// Replace one base64 digit inside the signature with another valid
	// digit, so that the note still parses and only the signature is wrong.
	if i := len(tamperSig) - 10; tamperSig[i] == 'A' {
		tamperSig[i] = 'B'
	} else {
		tamperSig[i] = 'A'
	}

	tests := []struct {
		name string
		msg  []byte
		v    note.Verifier
		want error
	}{
		{"wrong verifier key", msg, otherV, ErrCheckpointSignature},
		{"signed by another key of the same name", forged, v, ErrCheckpointSignature},
		{"size changed", bytes.Replace(msg, []byte("\n42\n"), []byte("\n43\n"), 1), v, ErrCheckpointSignature},
		{"origin changed", bytes.Replace(msg, []byte("tresor audit log"), []byte("tresor audit lug"), 1), v, ErrCheckpointSignature},
		{"signature altered", tamperSig, v, ErrCheckpointSignature},
		{"signature removed", msg[:bytes.Index(msg, []byte("\n\n"))+2], v, ErrMalformedCheckpoint},
		{"empty", nil, v, ErrMalformedCheckpoint},
		{"garbage", []byte("\x00\xff not a note"), v, ErrMalformedCheckpoint},
		{"text only", []byte(FormatCheckpoint(tr)), v, ErrMalformedCheckpoint},
		{"wrong origin", signRaw("go.sum database tree\n42\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), v, ErrMalformedCheckpoint},
		{"extension line", signRaw(FormatCheckpoint(tr) + "extra\n"), v, ErrMalformedCheckpoint},
		{"negative size", signRaw("tresor audit log\n-1\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), v, ErrMalformedCheckpoint},
		{"padded size", signRaw("tresor audit log\n042\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), v, ErrMalformedCheckpoint},
		{"huge size", signRaw("tresor audit log\n99999999999999999999\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), v, ErrMalformedCheckpoint},
		{"short hash", signRaw("tresor audit log\n42\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n"), v, ErrMalformedCheckpoint},
		{"non-canonical base64", signRaw("tresor audit log\n42\nBwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n"), v, ErrMalformedCheckpoint},
		{"missing line", signRaw("tresor audit log\n42\n"), v, ErrMalformedCheckpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OpenCheckpoint(tt.msg, tt.v)
			if !errors.Is(err, tt.want) {
				t.Fatalf("OpenCheckpoint = %+v, %v; want error %v", got, err, tt.want)
			}
			if got != (tlog.Tree{}) {
				t.Errorf("tree %+v returned with error", got)
			}
			t.Log(err)
		})
	}
	if _, err := OpenCheckpoint(msg, nil); err == nil {
		t.Error("nil verifier: no error")
	}
}

func TestKeys(t *testing.T) {
	for _, name := range []string{"", "has space", "a+b", "\xff"} {
		if _, _, err := GenerateKey(rand.Reader, name); err == nil {
			t.Errorf("GenerateKey(%q) succeeded", name)
		}
	}
	skey, vkey, err := GenerateKey(rand.Reader, "tresor")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewSigner(vkey); err == nil {
		t.Error("NewSigner(verifier key) succeeded")
	}
	if _, err := NewVerifier(skey); err == nil {
		t.Error("NewVerifier(signer key) succeeded")
	}
	broken := skey[:len(skey)-6] + "AAAAA="
	_, err = NewSigner(broken)
	if err == nil {
		t.Fatal("NewSigner(broken key) succeeded")
	}
	if strings.Contains(err.Error(), skey[len("PRIVATE+KEY+"):]) || strings.Contains(err.Error(), broken[len(broken)-20:]) {
		t.Errorf("error reveals the secret key: %v", err)
	}
	if _, err := SignCheckpoint(tlog.Tree{}, nil); err == nil {
		t.Error("SignCheckpoint(nil signer) succeeded")
	}
	s, _ := newKeys(t, "x")
	if _, err := SignCheckpoint(tlog.Tree{N: -1}, s); err == nil {
		t.Error("SignCheckpoint(N=-1) succeeded")
	}
	if _, _, err := GenerateKey(failingReader{}, "x"); err == nil {
		t.Error("GenerateKey with failing rand succeeded")
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

// TestCheckpointWorkflow: the auditor signs a checkpoint, the log grows,
// the auditor verifies the grown log against the saved checkpoint.
func TestCheckpointWorkflow(t *testing.T) {
	ctx := context.Background()
	s, v := newKeys(t, "dsb")
	entries, head := newLog(t, 25)

	res, err := Verify(ctx, SliceSource(entries[:10]), headOf(entries[:10]))
	if err != nil {
		t.Fatal(err)
	}
	saved, err := SignCheckpoint(res.Tree, s)
	if err != nil {
		t.Fatal(err)
	}

	cp, err := OpenCheckpoint(saved, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(ctx, SliceSource(entries), head, cp); err != nil {
		t.Fatalf("grown log against older checkpoint: %v", err)
	}

	// The server's log is rewritten consistently from entry 4 on.
	rewritten := clone(entries)
	rewritten[3].Actor = "nobody"
	newHead := reseal(rewritten, 3)
	if _, err := Verify(ctx, SliceSource(rewritten), newHead); err != nil {
		t.Fatalf("consistent rewrite without checkpoint should verify: %v", err)
	}
	_, err = Verify(ctx, SliceSource(rewritten), newHead, cp)
	wantTamper(t, err, 10)
}
