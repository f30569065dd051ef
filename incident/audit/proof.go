package audit

import (
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/tlog"
)

// HashStore holds every stored hash of a log's Merkle tree in memory
// (about two per entry) and implements [tlog.HashReader], so that
// tlog.TreeHash, tlog.ProveRecord and tlog.ProveTree work on it. It is meant
// for the CLI and exports; it does not verify the hash chain (use [Verify]).
type HashStore struct {
	n      int64
	hashes []tlog.Hash
}

// NewHashStore returns the HashStore of entries, which must be numbered
// 1, 2, 3, … in order.
func NewHashStore(entries []Entry) (*HashStore, error) {
	s := &HashStore{hashes: make([]tlog.Hash, 0, 2*len(entries))}
	for _, e := range entries {
		if err := s.Append(e); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Append adds the next entry, which must have Seq == s.Len()+1.
func (s *HashStore) Append(e Entry) error {
	if e.Seq != s.n+1 {
		return fmt.Errorf("failed to add entry to hash store: got seq %d, want %d", e.Seq, s.n+1)
	}
	hs, err := tlog.StoredHashes(s.n, e.Encode(), s)
	if err != nil {
		return fmt.Errorf("failed to add entry %d to hash store: %w", e.Seq, err)
	}
	s.hashes = append(s.hashes, hs...)
	s.n++
	return nil
}

// Len returns the number of entries.
func (s *HashStore) Len() int64 { return s.n }

// ReadHashes implements [tlog.HashReader].
func (s *HashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(s.hashes)) {
			return nil, fmt.Errorf("failed to read hash: index %d out of range [0, %d)", x, len(s.hashes))
		}
		out[i] = s.hashes[x]
	}
	return out, nil
}

// Tree returns the Merkle tree of the first n entries (n <= s.Len()).
func (s *HashStore) Tree(n int64) (tlog.Tree, error) {
	if n < 0 || n > s.n {
		return tlog.Tree{}, fmt.Errorf("failed to compute tree: size %d out of range [0, %d]", n, s.n)
	}
	h, err := tlog.TreeHash(n, s)
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("failed to compute tree of size %d: %w", n, err)
	}
	return tlog.Tree{N: n, Hash: h}, nil
}

// ProveInclusion returns the proof that the tree of the first treeSize
// entries contains entry seq; check it with [CheckInclusion].
func (s *HashStore) ProveInclusion(seq, treeSize int64) (tlog.RecordProof, error) {
	if treeSize < 1 || treeSize > s.n || seq < 1 || seq > treeSize {
		return nil, fmt.Errorf("failed to prove inclusion: need 1 <= seq (%d) <= tree size (%d) <= log size (%d)", seq, treeSize, s.n)
	}
	p, err := tlog.ProveRecord(treeSize, seq-1, s)
	if err != nil {
		return nil, fmt.Errorf("failed to prove inclusion of entry %d in tree of size %d: %w", seq, treeSize, err)
	}
	return p, nil
}

// ProveConsistency returns the proof that the tree of the first newSize
// entries extends the tree of the first oldSize entries; check it with
// [CheckConsistency]. The proof for oldSize 0 is empty.
func (s *HashStore) ProveConsistency(oldSize, newSize int64) (tlog.TreeProof, error) {
	if oldSize < 0 || oldSize > newSize || newSize > s.n {
		return nil, fmt.Errorf("failed to prove consistency: need 0 <= old size (%d) <= new size (%d) <= log size (%d)", oldSize, newSize, s.n)
	}
	if oldSize == 0 {
		return tlog.TreeProof{}, nil
	}
	p, err := tlog.ProveTree(newSize, oldSize, s)
	if err != nil {
		return nil, fmt.Errorf("failed to prove consistency of trees of size %d and %d: %w", oldSize, newSize, err)
	}
	return p, nil
}

// ProveInclusion returns the proof that the tree of the first treeSize
// entries contains entry seq. entries must be numbered 1, 2, 3, … in order.
func ProveInclusion(entries []Entry, seq, treeSize int64) (tlog.RecordProof, error) {
	if treeSize < 0 || treeSize > int64(len(entries)) {
		return nil, fmt.Errorf("failed to prove inclusion: tree size %d out of range [0, %d]", treeSize, len(entries))
	}
	s, err := NewHashStore(entries[:treeSize])
	if err != nil {
		return nil, err
	}
	return s.ProveInclusion(seq, treeSize)
}

// ProveConsistency returns the proof that the tree of the first newSize
// entries extends the tree of the first oldSize entries. entries must be
// numbered 1, 2, 3, … in order.
func ProveConsistency(entries []Entry, oldSize, newSize int64) (tlog.TreeProof, error) {
	if newSize < 0 || newSize > int64(len(entries)) {
		return nil, fmt.Errorf("failed to prove consistency: new size %d out of range [0, %d]", newSize, len(entries))
	}
	s, err := NewHashStore(entries[:newSize])
	if err != nil {
		return nil, err
	}
	return s.ProveConsistency(oldSize, newSize)
}

// ErrProof is matched by errors from [CheckInclusion] and
// [CheckConsistency] when a proof does not hold.
var ErrProof = errors.New("audit proof not valid")

// CheckInclusion checks that p proves that tree contains e as entry e.Seq,
// and that e.Hash is the hash of e's contents.
func CheckInclusion(p tlog.RecordProof, tree tlog.Tree, e Entry) error {
	if e.Seq < 1 || e.Seq > tree.N {
		return fmt.Errorf("%w: entry %d is outside a tree of size %d", ErrProof, e.Seq, tree.N)
	}
	data := e.Encode()
	if Hash(sha256.Sum256(data)) != e.Hash {
		return fmt.Errorf("%w: hash of entry %d does not match its contents", ErrProof, e.Seq)
	}
	if err := tlog.CheckRecord(p, tree.N, tree.Hash, e.Seq-1, tlog.RecordHash(data)); err != nil {
		return fmt.Errorf("%w: entry %d is not in the tree of size %d: %w", ErrProof, e.Seq, tree.N, err)
	}
	return nil
}

// CheckConsistency checks that p proves that newer extends older (the
// first older.N entries of newer are those of older).
func CheckConsistency(p tlog.TreeProof, older, newer tlog.Tree) error {
	if older.N < 0 || older.N > newer.N {
		return fmt.Errorf("%w: tree of size %d cannot extend tree of size %d", ErrProof, newer.N, older.N)
	}
	if older.N == 0 {
		if older.Hash != emptyTreeHash || len(p) != 0 {
			return fmt.Errorf("%w: invalid proof from the empty tree", ErrProof)
		}
		return nil
	}
	if err := tlog.CheckTree(p, newer.N, newer.Hash, older.N, older.Hash); err != nil {
		return fmt.Errorf("%w: tree of size %d does not extend tree of size %d: %w", ErrProof, newer.N, older.N, err)
	}
	return nil
}
