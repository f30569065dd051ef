package audit

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type keyPair struct {
	s note.Signer
	v note.Verifier
}

func newKeyPair(t *testing.T, name string) keyPair {
	t.Helper()
	skey, vkey, err := GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{s, v}
}

func signTree(t *testing.T, tree tlog.Tree, k keyPair) []byte {
	t.Helper()
	msg, err := SignCheckpoint(tree, k.s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// TestCosignExtends follows a witness over a growing log: each cosigned
// note carries both signatures and opens with both keys.
func TestCosignExtends(t *testing.T) {
	server, dpo := newKeyPair(t, "tresor-audit"), newKeyPair(t, "dpo")
	entries, _ := newLog(t, 40)
	var last tlog.Tree
	for _, n := range []int64{3, 3, 17, 40} {
		tree := treeOf(t, entries[:n])
		proof, err := ProveConsistency(entries, last.N, n)
		if err != nil {
			t.Fatal(err)
		}
		cosigned, got, err := Cosign(signTree(t, tree, server), server.v, dpo.s, last, proof)
		if err != nil {
			t.Fatalf("cosign %d after %d: %v", n, last.N, err)
		}
		if got != tree {
			t.Fatalf("cosigned tree %v, want %v", got, tree)
		}
		opened, names, err := OpenCosigned(cosigned, server.v, []note.Verifier{dpo.v})
		if err != nil {
			t.Fatal(err)
		}
		if opened != tree || len(names) != 1 || !strings.HasPrefix(names[0], "dpo+") {
			t.Fatalf("OpenCosigned = %v, %v", opened, names)
		}
		if bytes.Count(cosigned, []byte("\n— ")) != 2 {
			t.Fatalf("cosigned note should carry two signatures:\n%s", cosigned)
		}
		last = tree
	}
}

// TestCosignRefusesRewrite is the attack: whoever holds the server's
// signing key rewrites or truncates the log below a cosigned checkpoint
// and signs the new tree. The witness refuses it, and the cosigned note
// kept before proves the rewrite to Verify.
func TestCosignRefusesRewrite(t *testing.T) {
	server, dpo := newKeyPair(t, "tresor-audit"), newKeyPair(t, "dpo")
	entries, _ := newLog(t, 30)
	witnessed := treeOf(t, entries[:20])
	cosigned, _, err := Cosign(signTree(t, witnessed, server), server.v, dpo.s, tlog.Tree{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	attacks := map[string]func([]Entry) ([]Entry, Head){
		"entry rewritten": func(es []Entry) ([]Entry, Head) {
			es[4].Actor = "someone-else"
			return es, reseal(es, 4)
		},
		"truncated below the witnessed size": func(es []Entry) ([]Entry, Head) {
			es = es[:15]
			return es, headOf(es)
		},
		"truncated and grown again": func(es []Entry) ([]Entry, Head) {
			es = es[:15]
			for i := 15; i < 30; i++ {
				es = append(es, Entry{Time: t0, Actor: "attacker", Action: "incident.flagged"})
			}
			return es, reseal(es, 15)
		},
	}
	for name, attack := range attacks {
		t.Run(name, func(t *testing.T) {
			es, head := attack(clone(entries))
			if _, err := Verify(context.Background(), SliceSource(es), head); err != nil {
				t.Fatalf("the rewrite should verify without checkpoints: %v", err)
			}
			forged := treeOf(t, es)
			// The attacker can prove nothing; the witness gets the
			// best proof there is, from the forged log itself.
			var proof tlog.TreeProof
			if forged.N > witnessed.N {
				if proof, err = ProveConsistency(es, witnessed.N, forged.N); err != nil {
					t.Fatal(err)
				}
			}
			_, _, err := Cosign(signTree(t, forged, server), server.v, dpo.s, witnessed, proof)
			if !errors.Is(err, ErrNotExtending) {
				t.Fatalf("Cosign of the forged tree: err = %v, want ErrNotExtending", err)
			}
			tree, _, err := OpenCosigned(cosigned, server.v, []note.Verifier{dpo.v})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Verify(context.Background(), SliceSource(es), head, tree); !errors.Is(err, ErrTampered) {
				t.Fatalf("Verify against the witnessed checkpoint: err = %v, want ErrTampered", err)
			}
		})
	}
}

func TestOpenCosignedRefuses(t *testing.T) {
	server, dpo, other := newKeyPair(t, "tresor-audit"), newKeyPair(t, "dpo"), newKeyPair(t, "dpo")
	entries, _ := newLog(t, 5)
	signed := signTree(t, treeOf(t, entries), server)
	cosigned, _, err := Cosign(signed, server.v, dpo.s, tlog.Tree{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		msg       []byte
		witnesses []note.Verifier
		want      error
	}{
		{"server signature only", signed, []note.Verifier{dpo.v}, ErrNotWitnessed},
		{"another witness key", cosigned, []note.Verifier{other.v}, ErrNotWitnessed},
		{"no witness keys", cosigned, nil, ErrNotWitnessed},
		{"text altered", bytes.Replace(cosigned, []byte("\n5\n"), []byte("\n4\n"), 1), []note.Verifier{dpo.v}, ErrCheckpointSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := OpenCosigned(tc.msg, server.v, tc.witnesses); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestAddCosignatures checks the server's side: only the saved text with a
// valid witness signature is accepted, and only known signatures are kept.
func TestAddCosignatures(t *testing.T) {
	server, dpo, stranger := newKeyPair(t, "tresor-audit"), newKeyPair(t, "dpo"), newKeyPair(t, "stranger")
	entries, _ := newLog(t, 9)
	saved := signTree(t, treeOf(t, entries), server)
	cosigned, _, err := Cosign(saved, server.v, dpo.s, tlog.Tree{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An extra signature by an unknown key is dropped.
	n, err := note.Open(cosigned, note.VerifierList(server.v))
	if err != nil {
		t.Fatal(err)
	}
	withStranger, err := note.Sign(n, stranger.s, dpo.s)
	if err != nil {
		t.Fatal(err)
	}
	stored, names, err := AddCosignatures(saved, withStranger, []note.Verifier{dpo.v})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || bytes.Contains(stored, []byte("stranger")) {
		t.Fatalf("stored %q with %v, want only the server's and dpo's signatures", stored, names)
	}
	if _, _, err := OpenCosigned(stored, server.v, []note.Verifier{dpo.v}); err != nil {
		t.Fatalf("stored note: %v", err)
	}

	other := signTree(t, treeOf(t, entries[:8]), server)
	otherCosigned, _, err := Cosign(other, server.v, dpo.s, tlog.Tree{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		posted []byte
		want   error
	}{
		{"not cosigned", saved, ErrNotWitnessed},
		{"signed by a stranger only", mustSign(t, saved, server.v, stranger.s), ErrNotWitnessed},
		{"another checkpoint", otherCosigned, ErrMalformedCheckpoint},
		{"not a note", []byte("hello"), ErrMalformedCheckpoint},
		{"empty", nil, ErrMalformedCheckpoint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := AddCosignatures(saved, tc.posted, []note.Verifier{dpo.v}); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func mustSign(t *testing.T, msg []byte, v note.Verifier, s note.Signer) []byte {
	t.Helper()
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatal(err)
	}
	out, err := note.Sign(n, s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzAddCosignatures: no input panics, and nothing is accepted without a
// valid witness signature.
func FuzzAddCosignatures(f *testing.F) {
	f.Add([]byte("tresor audit log\n1\nAAAA\n\n— dpo AAAA\n"))
	f.Fuzz(func(t *testing.T, posted []byte) {
		server, dpo := newKeyPair(t, "tresor-audit"), newKeyPair(t, "dpo")
		entries, _ := newLog(t, 2)
		saved := signTree(t, treeOf(t, entries), server)
		if _, _, err := AddCosignatures(saved, posted, []note.Verifier{dpo.v}); err == nil {
			t.Fatalf("accepted %q without the witness's signature", posted)
		}
	})
}
