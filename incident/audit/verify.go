package audit

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// Source streams the stored entries in Seq order.
//
// Scan must call fn for every entry, in ascending Seq order, and stop with
// fn's error: when fn returns a non-nil error, Scan returns that error (it may
// wrap it) without calling fn again. Scan returns a non-nil error if it could
// not read every entry.
type Source interface {
	Scan(ctx context.Context, fn func(Entry) error) error
}

// SliceSource is a [Source] over entries held in memory, in slice order.
type SliceSource []Entry

// Scan implements [Source]. It checks ctx every 1024 entries.
func (s SliceSource) Scan(ctx context.Context, fn func(Entry) error) error {
	for i := range s {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(s[i]); err != nil {
			return err
		}
	}
	return nil
}

// Head is what the store believes the end of the log is (kept in a separate
// row, updated with each append). The head of an empty log is the zero Head.
type Head struct {
	Seq  int64
	Hash Hash
}

// Result describes a verified log.
type Result struct {
	Entries int64     // number of entries
	Head    Hash      // hash of the last entry; zero for an empty log
	Tree    tlog.Tree // Merkle tree over all Encode() leaves: N == Entries and root
}

// ErrTampered is matched (errors.Is) by every [*TamperError].
var ErrTampered = errors.New("audit log tampered")

// TamperError reports where and why Verify found the log altered.
type TamperError struct {
	Seq    int64  // the entry where the damage was detected (see Reason)
	Reason string // what is wrong, in words for an auditor
}

func (e *TamperError) Error() string {
	return "audit log tampered at entry " + strconv.FormatInt(e.Seq, 10) + ": " + e.Reason
}

// Unwrap returns [ErrTampered].
func (e *TamperError) Unwrap() error { return ErrTampered }

func tampered(seq int64, format string, args ...any) *TamperError {
	return &TamperError{Seq: seq, Reason: fmt.Sprintf(format, args...)}
}

// emptyTreeHash is the RFC 6962 root of the empty tree (SHA-256 of "").
var emptyTreeHash = tlog.Hash(sha256.Sum256(nil))

// merkle computes RFC 6962 Merkle tree roots incrementally. It keeps the
// roots of the perfect subtrees that make up the tree so far, largest first:
// one per set bit of n, so at most 64 hashes.
type merkle struct {
	n     int64
	depth int
	stack [64]tlog.Hash
}

// add appends the leaf with hash h (tlog.RecordHash of the leaf data).
func (m *merkle) add(h tlog.Hash) {
	// Each trailing one bit of n is a perfect subtree of the same size as
	// the one being completed, to be merged with it.
	for k := uint64(m.n); k&1 == 1; k >>= 1 {
		m.depth--
		h = tlog.NodeHash(m.stack[m.depth], h)
	}
	m.stack[m.depth] = h
	m.depth++
	m.n++
}

// root returns the root of the tree of all leaves added so far.
func (m *merkle) root() tlog.Hash {
	if m.depth == 0 {
		return emptyTreeHash
	}
	h := m.stack[m.depth-1]
	for i := m.depth - 2; i >= 0; i-- {
		h = tlog.NodeHash(m.stack[i], h)
	}
	return h
}

// ctxCheckInterval is how many entries Verify checks between looks at ctx.
const ctxCheckInterval = 4096

// Verify reads src once and checks that the log is intact:
//
//   - Seq runs 1, 2, 3, … without gaps (a gap is a deletion, a step back a
//     reordering or insertion);
//   - each entry's Hash is the SHA-256 of its encoding (no field modified);
//   - each PrevHash is the Hash of the entry before (zero for entry 1);
//   - the last entry's Seq and Hash equal head (no truncation at the end, no
//     entries appended outside the store);
//   - for every checkpoint, the log has at least checkpoint.N entries and the
//     Merkle root of the first checkpoint.N entries is checkpoint.Hash (the
//     log still extends what the checkpoint's signer saw).
//
// If the log is intact, Verify returns its size, head hash and Merkle tree.
// Otherwise it returns a [*TamperError] for the first problem found
// (errors.Is(err, [ErrTampered])), or another error if src failed, ctx was
// cancelled, or a checkpoint has a negative size; the Result is then zero.
//
// Verify holds O(log n) hashes, not the log; see the package documentation
// for what it can and cannot detect.
func Verify(ctx context.Context, src Source, head Head, checkpoints ...tlog.Tree) (Result, error) {
	if ctx == nil {
		return Result{}, errors.New("failed to verify audit log: nil context")
	}
	if src == nil {
		return Result{}, errors.New("failed to verify audit log: nil source")
	}
	cps := slices.Clone(checkpoints)
	for _, c := range cps {
		if c.N < 0 {
			return Result{}, fmt.Errorf("failed to verify audit log: invalid checkpoint with negative size %d", c.N)
		}
	}
	slices.SortFunc(cps, func(a, b tlog.Tree) int { return cmp.Compare(a.N, b.N) })

	v := &verifier{ctx: ctx, checkpoints: cps, buf: make([]byte, 0, 1024)}
	if err := v.checkCheckpoints(); err != nil { // checkpoints of size 0
		return Result{}, err
	}
	scanErr := src.Scan(ctx, v.add)
	if v.err != nil {
		// fn's error wins even if Scan wrapped or dropped it.
		return Result{}, v.err
	}
	if scanErr != nil {
		return Result{}, fmt.Errorf("failed to read audit log after entry %d: %w", v.tree.n, scanErr)
	}
	n := v.tree.n
	if len(v.checkpoints) > 0 {
		c := v.checkpoints[len(v.checkpoints)-1] // the largest
		return Result{}, tampered(n+1, "%s but a checkpoint covers %d entries (%s removed)", logEnd(n), c.N, span(n+1, c.N))
	}
	switch {
	case head.Seq > n:
		return Result{}, tampered(n+1, "%s but the head row says %d (%s removed)", logEnd(n), head.Seq, span(n+1, head.Seq))
	case head.Seq < n:
		if head.Seq < 0 {
			return Result{}, tampered(n, "head row has invalid seq %d", head.Seq)
		}
		return Result{}, tampered(head.Seq+1, "log has %d entries but the head row says %d (%s added outside the store, or the head row was rolled back)", n, head.Seq, span(head.Seq+1, n))
	case head.Hash != v.prevHash:
		if n == 0 {
			return Result{}, tampered(0, "log is empty but the head row has hash %s", head.Hash)
		}
		return Result{}, tampered(n, "hash of the last entry %s differs from the head row's %s (last entry or head row altered)", v.prevHash, head.Hash)
	}
	return Result{
		Entries: n,
		Head:    v.prevHash,
		Tree:    tlog.Tree{N: n, Hash: v.tree.root()},
	}, nil
}

// verifier is the state of one Verify run.
type verifier struct {
	ctx         context.Context
	checkpoints []tlog.Tree // not yet checked, ascending N
	buf         []byte      // encoding buffer, reused
	tree        merkle
	prevHash    Hash
	err         error // first error; sticky
}

// add checks the next entry; it is the fn given to Source.Scan.
func (v *verifier) add(e Entry) error {
	if v.err != nil {
		return v.err // a Source that keeps calling after an error
	}
	want := v.tree.n + 1
	if want%ctxCheckInterval == 0 {
		if err := v.ctx.Err(); err != nil {
			v.err = fmt.Errorf("failed to verify audit log: stopped after entry %d: %w", want-1, err)
			return v.err
		}
	}
	if e.Seq != want {
		v.err = seqError(want, e.Seq)
		return v.err
	}
	v.buf = e.appendEncode(v.buf[:0])
	if Hash(sha256.Sum256(v.buf)) != e.Hash {
		v.err = tampered(want, "stored hash does not match the entry's contents (a field was modified)")
		return v.err
	}
	if e.PrevHash != v.prevHash {
		if want == 1 {
			v.err = tampered(1, "first entry has a non-zero prev_hash (entries before it were removed, or it was modified)")
		} else {
			v.err = tampered(want, "prev_hash does not match the hash of entry %d (an entry was modified, inserted or removed)", want-1)
		}
		return v.err
	}
	v.tree.add(tlog.RecordHash(v.buf))
	v.prevHash = e.Hash
	if len(v.checkpoints) > 0 && v.checkpoints[0].N == v.tree.n {
		if err := v.checkCheckpoints(); err != nil {
			v.err = err
			return err
		}
	}
	return nil
}

// checkCheckpoints checks every pending checkpoint whose size is the
// current tree size.
func (v *verifier) checkCheckpoints() error {
	var root tlog.Hash
	computed := false
	for len(v.checkpoints) > 0 && v.checkpoints[0].N == v.tree.n {
		c := v.checkpoints[0]
		if !computed {
			root, computed = v.tree.root(), true
		}
		if c.Hash != root {
			return tampered(c.N, "the first %d entries do not match a checkpoint (checkpoint root %s, log root %s): entries 1..%d were modified, inserted, removed or reordered, or the checkpoint is forged", c.N, c.Hash, root, c.N)
		}
		v.checkpoints = v.checkpoints[1:]
	}
	return nil
}

func seqError(want, got int64) *TamperError {
	switch {
	case got > want:
		return tampered(want, "found entry %d where entry %d was expected (%s missing or out of order)", got, want, span(want, got-1))
	case got == want-1:
		return tampered(want, "entry %d appears twice (an entry was duplicated or inserted)", got)
	default:
		return tampered(want, "found entry %d after entry %d (entries reordered or inserted)", got, want-1)
	}
}

// span describes entries a..b with the verb that follows: "entry 5 was",
// "entries 5..9 were".
func span(a, b int64) string {
	if a == b {
		return "entry " + strconv.FormatInt(a, 10) + " was"
	}
	return "entries " + strconv.FormatInt(a, 10) + ".." + strconv.FormatInt(b, 10) + " were"
}

func logEnd(n int64) string {
	if n == 0 {
		return "log is empty"
	}
	return "log ends after entry " + strconv.FormatInt(n, 10)
}
