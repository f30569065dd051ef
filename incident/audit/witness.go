package audit

import (
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var (
	// ErrNotExtending is matched by errors from [Cosign] when the new
	// checkpoint does not extend the last cosigned one: the log was
	// rewritten or truncated, or the server shows different logs to
	// different people.
	ErrNotExtending = errors.New("checkpoint does not extend the last cosigned checkpoint")
	// ErrNotWitnessed is matched by errors from [OpenCosigned] and
	// [AddCosignatures] when a note carries no valid signature by any of
	// the witness keys.
	ErrNotWitnessed = errors.New("no valid witness signature")
)

// Cosign checks msg, a checkpoint signed by server, and returns it with the
// witness's signature added, and its tree. last is the tree the witness
// cosigned before (the zero Tree the first time) and proof the consistency
// proof from last.N to the new tree's size. Cosign refuses, with an error
// matching [ErrNotExtending], a tree smaller than last, a different tree of
// the same size, or one the proof does not show to extend last.
func Cosign(msg []byte, server note.Verifier, witness note.Signer, last tlog.Tree, proof tlog.TreeProof) ([]byte, tlog.Tree, error) {
	if witness == nil {
		return nil, tlog.Tree{}, errors.New("failed to cosign checkpoint: nil witness key")
	}
	tree, err := OpenCheckpoint(msg, server)
	if err != nil {
		return nil, tlog.Tree{}, fmt.Errorf("failed to cosign checkpoint: %w", err)
	}
	switch {
	case tree.N < last.N:
		return nil, tlog.Tree{}, fmt.Errorf("refusing to cosign: %w: the server's checkpoint covers %d entries, fewer than the %d already cosigned (the log was truncated or rolled back)", ErrNotExtending, tree.N, last.N)
	case tree.N == last.N && tree.Hash != last.Hash:
		return nil, tlog.Tree{}, fmt.Errorf("refusing to cosign: %w: the server's checkpoint of %d entries has root %s, the cosigned one %s (the log was rewritten)", ErrNotExtending, tree.N, tree.Hash, last.Hash)
	case last.N > 0 && tree.N > last.N:
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, last.N, last.Hash); err != nil {
			return nil, tlog.Tree{}, fmt.Errorf("refusing to cosign: %w: the tree of %d entries does not extend the cosigned tree of %d entries (entries 1..%d were rewritten, or the proof is wrong): %w", ErrNotExtending, tree.N, last.N, last.N, err)
		}
	}
	n, err := note.Open(msg, note.VerifierList(server))
	if err != nil { // OpenCheckpoint succeeded with the same verifier
		return nil, tlog.Tree{}, fmt.Errorf("failed to cosign checkpoint: %w", err)
	}
	out, err := note.Sign(n, witness)
	if err != nil {
		return nil, tlog.Tree{}, fmt.Errorf("failed to cosign checkpoint: %w", err)
	}
	return out, tree, nil
}

// OpenCosigned checks that msg is a checkpoint signed by server and by at
// least one of the witnesses, and returns its tree and the witness keys
// (name+hash) that signed it. Errors match [ErrCheckpointSignature] (not
// signed by server), [ErrNotWitnessed] or [ErrMalformedCheckpoint].
func OpenCosigned(msg []byte, server note.Verifier, witnesses []note.Verifier) (tlog.Tree, []string, error) {
	tree, err := OpenCheckpoint(msg, server)
	if err != nil {
		return tlog.Tree{}, nil, err
	}
	n, err := openWitnessed(msg, witnesses)
	if err != nil {
		return tlog.Tree{}, nil, err
	}
	return tree, signerNames(n.Sigs), nil
}

// AddCosignatures is the server's check of a cosigned note: posted must
// carry the text of saved (a checkpoint the server signed and kept) and at
// least one valid signature by one of the witnesses. It returns the note to
// store — saved's signatures followed by the valid witness signatures, so
// nothing else from posted is kept — and the witness keys that signed.
// Errors match [ErrNotWitnessed] or [ErrMalformedCheckpoint] (posted is not
// a note, or its text is not saved's).
func AddCosignatures(saved, posted []byte, witnesses []note.Verifier) ([]byte, []string, error) {
	n, err := openWitnessed(posted, witnesses)
	if err != nil {
		return nil, nil, err
	}
	own, err := noteSignatures(saved)
	if err != nil {
		return nil, nil, err
	}
	if own.Text != n.Text {
		return nil, nil, fmt.Errorf("%w: the cosigned text is not this checkpoint's", ErrMalformedCheckpoint)
	}
	out, err := note.Sign(&note.Note{Text: own.Text, Sigs: own.UnverifiedSigs, UnverifiedSigs: n.Sigs})
	if err != nil {
		return nil, nil, fmt.Errorf("failed to store cosignature: %w", err)
	}
	return out, signerNames(n.Sigs), nil
}

// openWitnessed opens msg with the witness keys; n.Sigs are the valid
// witness signatures.
func openWitnessed(msg []byte, witnesses []note.Verifier) (*note.Note, error) {
	if len(witnesses) == 0 {
		return nil, fmt.Errorf("%w: no witness keys given", ErrNotWitnessed)
	}
	n, err := note.Open(msg, note.VerifierList(witnesses...))
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		switch {
		case errors.As(err, &unverified):
			return nil, fmt.Errorf("%w: the note carries no signature by a witness key", ErrNotWitnessed)
		case errors.As(err, &invalid):
			return nil, fmt.Errorf("%w: a witness signature does not match the text (text or signature altered)", ErrNotWitnessed)
		default:
			return nil, fmt.Errorf("%w: %w", ErrMalformedCheckpoint, err)
		}
	}
	if _, err := ParseCheckpoint(n.Text); err != nil {
		return nil, err
	}
	return n, nil
}

// noteSignatures parses msg without checking any signature: all its
// signatures are in UnverifiedSigs.
func noteSignatures(msg []byte) (*note.Note, error) {
	_, err := note.Open(msg, note.VerifierList())
	var unverified *note.UnverifiedNoteError
	if !errors.As(err, &unverified) {
		return nil, fmt.Errorf("%w: saved checkpoint is not a signed note: %w", ErrMalformedCheckpoint, err)
	}
	return unverified.Note, nil
}

func signerNames(sigs []note.Signature) []string {
	out := make([]string, len(sigs))
	for i, s := range sigs {
		out[i] = fmt.Sprintf("%s+%08x", s.Name, s.Hash)
	}
	return out
}
