package incident

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/tresor-evidence/tresor/incident/audit"
)

// Checkpoint is a signed checkpoint of the audit log that the server kept
// ('tresor audit checkpoint' signs and saves them). Saved checkpoints are
// never changed or removed.
type Checkpoint struct {
	Size      int64
	Root      string // the Merkle root, tlog.Hash in base64
	Note      string // the note signed with the server's audit key
	CreatedAt time.Time
}

// Cosignature is a saved checkpoint with one witness's signature added:
// Note carries the server's signature and the witness's. Cosignatures are
// never changed or removed.
type Cosignature struct {
	Size      int64
	Witness   string // the witness key, name+hash
	Note      string
	CreatedAt time.Time
}

// maxCosignedNote bounds a posted cosigned note: a checkpoint is about 80
// bytes and each signature about 100.
const maxCosignedNote = 8 << 10

// ErrNoWitnessKeys: cosignatures cannot be accepted because no witness
// key is configured. It wraps ErrUnavailable.
var ErrNoWitnessKeys = fmt.Errorf("%w: no witness keys configured", ErrUnavailable)

// WithWitnessKeys sets the keys whose signatures AddCosignature accepts:
// the data-protection officer's note verifier keys.
func WithWitnessKeys(keys ...note.Verifier) Option {
	return func(s *Service) { s.witnesses = append([]note.Verifier(nil), keys...) }
}

// LatestCheckpoint returns the largest saved checkpoint, for auditors.
// With none saved yet, the error wraps ErrNotFound.
func (s *Service) LatestCheckpoint(ctx context.Context, a Actor) (Checkpoint, error) {
	if err := requireRole(a, RoleAuditor); err != nil {
		return Checkpoint{}, err
	}
	var out Checkpoint
	err := s.store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.LatestCheckpoint(ctx)
		return err
	})
	return out, err
}

// AuditConsistency returns the saved checkpoint of size size (the latest
// when size is 0) and the proof that its tree extends the tree of the
// first old entries (tlog.ProveTree; empty for old 0), for auditors. The
// proof is computed from the stored log, whose first size entries must
// have the checkpoint's root; otherwise the error matches
// audit.ErrTampered. It holds about 64 bytes per entry while it runs.
func (s *Service) AuditConsistency(ctx context.Context, a Actor, old, size int64) (Checkpoint, tlog.TreeProof, error) {
	if err := requireRole(a, RoleAuditor); err != nil {
		return Checkpoint{}, nil, err
	}
	if old < 0 || size < 0 {
		return Checkpoint{}, nil, fmt.Errorf("%w: tree sizes must not be negative", ErrInvalidInput)
	}
	var cp Checkpoint
	err := s.store.View(ctx, func(tx Tx) (err error) {
		if size == 0 {
			cp, err = tx.LatestCheckpoint(ctx)
		} else {
			cp, err = tx.Checkpoint(ctx, size)
		}
		return err
	})
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if old > cp.Size {
		return Checkpoint{}, nil, fmt.Errorf("%w: old size %d is larger than the checkpoint's %d", ErrInvalidInput, old, cp.Size)
	}
	hs := new(audit.HashStore)
	if err := s.store.AuditSource(cp.Size).Scan(ctx, hs.Append); err != nil {
		return Checkpoint{}, nil, fmt.Errorf("failed to read audit log for a consistency proof: %w", err)
	}
	tree, err := hs.Tree(cp.Size)
	if err != nil {
		return Checkpoint{}, nil, fmt.Errorf("%w: the log has fewer entries than checkpoint %d: %w", audit.ErrTampered, cp.Size, err)
	}
	if tree.Hash.String() != cp.Root {
		return Checkpoint{}, nil, &audit.TamperError{Seq: cp.Size, Reason: "the first " + strconv.FormatInt(cp.Size, 10) + " entries do not match the saved checkpoint"}
	}
	proof, err := hs.ProveConsistency(old, cp.Size)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	return cp, proof, nil
}

// AddCosignature stores msg, a saved checkpoint with signatures added by
// configured witness keys, one Cosignature per witness, each with its
// audit entry, in one transaction. Only the server's signatures and the
// valid witness signatures are stored. msg that is not a saved checkpoint
// with such a signature is ErrInvalidInput; a witness that cosigned the
// checkpoint before gives ErrDuplicate.
func (s *Service) AddCosignature(ctx context.Context, a Actor, msg []byte) ([]Cosignature, error) {
	if err := requireRole(a, RoleAuditor); err != nil {
		return nil, err
	}
	if len(s.witnesses) == 0 {
		return nil, ErrNoWitnessKeys
	}
	if len(msg) > maxCosignedNote {
		return nil, fmt.Errorf("%w: a cosigned checkpoint has at most %d bytes", ErrInvalidInput, maxCosignedNote)
	}
	end := bytes.Index(msg, []byte("\n\n"))
	if end < 0 {
		return nil, fmt.Errorf("%w: not a signed checkpoint", ErrInvalidInput)
	}
	tree, err := audit.ParseCheckpoint(string(msg[:end+1]))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidInput, err)
	}
	var out []Cosignature
	err = s.store.Tx(ctx, func(tx Tx) error {
		saved, err := tx.Checkpoint(ctx, tree.N)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("%w: the server saved no checkpoint of %d entries", ErrInvalidInput, tree.N)
		} else if err != nil {
			return err
		}
		stored, witnesses, err := audit.AddCosignatures([]byte(saved.Note), msg, s.witnesses)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidInput, err)
		}
		now := s.now()
		for _, w := range witnesses {
			c := Cosignature{Size: tree.N, Witness: w, Note: string(stored), CreatedAt: now}
			if err := tx.SaveCosignature(ctx, c); err != nil {
				return err
			}
			if err := s.record(ctx, tx, a, ActionAuditCosigned, "", map[string]string{
				"size": strconv.FormatInt(tree.N, 10), "witness": w,
			}); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Cosignatures lists the stored cosignatures, smallest checkpoint first,
// for auditors.
func (s *Service) Cosignatures(ctx context.Context, a Actor) ([]Cosignature, error) {
	if err := requireRole(a, RoleAuditor); err != nil {
		return nil, err
	}
	var out []Cosignature
	err := s.store.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Cosignatures(ctx)
		return err
	})
	return out, err
}

// AuditCheck is the result of CheckAudit.
type AuditCheck struct {
	audit.Result
	// Checkpoints is how many signed checkpoints the log was checked
	// against: the saved ones, the cosigned ones and the extra ones.
	Checkpoints int
	// Witnessed is the largest tree cosigned by a witness key given to
	// CheckAudit (zero when none was given or none is stored).
	Witnessed tlog.Tree
	// Cosignatures is how many stored cosignatures were checked.
	Cosignatures int
}

// CheckAudit verifies the whole log (audit.Verify) against every saved
// checkpoint, every stored cosigned checkpoint and the extra signed
// checkpoints (notes kept off the server), all of which must carry a valid
// signature by server. With witness keys given, every stored cosignature
// must also carry a valid signature by one of them. A log that does not
// extend one of them gives an *audit.TamperError naming the checkpoint's
// size; a note that does not open gives an error matching
// audit.ErrCheckpointSignature, audit.ErrNotWitnessed or
// audit.ErrMalformedCheckpoint.
func (s *Service) CheckAudit(ctx context.Context, server note.Verifier, witnesses []note.Verifier, extra ...[]byte) (AuditCheck, error) {
	var saved []Checkpoint
	var cosigned []Cosignature
	err := s.store.View(ctx, func(tx Tx) (err error) {
		if saved, err = tx.Checkpoints(ctx); err != nil {
			return err
		}
		cosigned, err = tx.Cosignatures(ctx)
		return err
	})
	if err != nil {
		return AuditCheck{}, err
	}
	var out AuditCheck
	var trees []tlog.Tree
	for _, c := range saved {
		t, err := audit.OpenCheckpoint([]byte(c.Note), server)
		if err != nil {
			return AuditCheck{}, fmt.Errorf("saved checkpoint %d: %w", c.Size, err)
		}
		trees = append(trees, t)
	}
	for _, c := range cosigned {
		t, err := audit.OpenCheckpoint([]byte(c.Note), server)
		if len(witnesses) > 0 && err == nil {
			t, _, err = audit.OpenCosigned([]byte(c.Note), server, witnesses)
		}
		if err != nil {
			return AuditCheck{}, fmt.Errorf("checkpoint %d cosigned by %s: %w", c.Size, c.Witness, err)
		}
		if len(witnesses) > 0 && t.N > out.Witnessed.N {
			out.Witnessed = t
		}
		trees = append(trees, t)
	}
	for i, n := range extra {
		t, err := audit.OpenCheckpoint(n, server)
		if err != nil {
			return AuditCheck{}, fmt.Errorf("checkpoint %d given: %w", i+1, err)
		}
		trees = append(trees, t)
	}
	out.Result, err = s.VerifyAudit(ctx, trees...)
	if err != nil {
		return AuditCheck{}, err
	}
	out.Checkpoints, out.Cosignatures = len(trees), len(cosigned)
	return out, nil
}

// SignCheckpoint verifies the log as CheckAudit does, against every saved
// and cosigned checkpoint, and only then signs its tree with signer and
// saves the checkpoint (unless save is false). verifier is signer's
// verifier key. A log that
// contradicts a saved checkpoint is refused with the *audit.TamperError
// naming it. Signing the same tree again returns the saved checkpoint.
func (s *Service) SignCheckpoint(ctx context.Context, signer note.Signer, verifier note.Verifier, save bool) (Checkpoint, error) {
	res, err := s.CheckAudit(ctx, verifier, nil)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("refusing to sign a log that does not verify: %w", err)
	}
	msg, err := audit.SignCheckpoint(res.Tree, signer)
	if err != nil {
		return Checkpoint{}, err
	}
	cp := Checkpoint{Size: res.Tree.N, Root: res.Tree.Hash.String(), Note: string(msg), CreatedAt: s.now()}
	if cp.Size == 0 || !save {
		return cp, nil // nothing to save: every log extends the empty tree
	}
	err = s.store.Tx(ctx, func(tx Tx) error {
		saved, err := tx.Checkpoint(ctx, cp.Size)
		switch {
		case err == nil:
			cp = saved
			return nil
		case errors.Is(err, ErrNotFound):
			return tx.SaveCheckpoint(ctx, cp)
		default:
			return err
		}
	})
	if err != nil {
		return Checkpoint{}, err
	}
	return cp, nil
}
