package wa

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Spool is the durable fallback for captures and flags that the database
// does not take within the retry window: an append-only file in the data
// folder, each entry sealed with the capture key ([Sealer]) and fsynced
// before the handler returns. [Manager.Run] replays it into the database
// once the database is back, and removes it when every entry is applied.
//
// Layout: a sequence of frames, each a 4-byte big-endian length and that
// many bytes of Sealer output. A frame cut short by a crash is the last
// one and was never acknowledged; it is skipped.
type Spool struct {
	dir    string
	sealer *Sealer

	mu sync.Mutex // serialises appends, and the hand-over to a replay
}

const (
	spoolPending   = "pending.spool"   // appended to
	spoolReplaying = "replaying.spool" // being replayed; removed when done
	spoolVersion   = 1
	maxSpoolFrame  = 64 << 20 // larger than any sealed record
)

// spoolContext binds spool frames to their purpose.
var spoolContext = []byte("tresor-wa-spool-v1")

// spoolEntry is one thing the database did not take in time.
type spoolEntry struct {
	V       int            `json:"v"`
	Worker  string         `json:"worker"`
	At      time.Time      `json:"at"` // when the event arrived
	Capture *record        `json:"capture,omitempty"`
	Flag    *spoolFlag     `json:"flag,omitempty"`
	Loss    *spoolLossNote `json:"loss,omitempty"`
}

// spoolFlag is a flagKey as the spool keeps it.
type spoolFlag struct {
	Chat        string    `json:"chat"`
	Sender      string    `json:"sender,omitempty"`
	ID          string    `json:"id"`
	FromMe      bool      `json:"from_me"`
	KnownFromMe bool      `json:"known_from_me"`
	Via         string    `json:"via"`
	Late        bool      `json:"late,omitempty"`
	SetAt       time.Time `json:"set_at,omitzero"`
}

// spoolLossNote is a loss to audit once the database is back.
type spoolLossNote struct {
	What      string `json:"what"`
	MessageID string `json:"message_id,omitempty"`
	Reason    string `json:"reason"`
}

// OpenSpool returns the spool kept in dir (created with mode 0700).
func OpenSpool(dir string, s *Sealer) (*Spool, error) {
	if dir == "" || s == nil {
		return nil, errors.New("spool needs a folder and a sealer")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("failed to create the capture spool folder: %w", err)
	}
	return &Spool{dir: dir, sealer: s}, nil
}

// Append seals e and writes it durably: it returns only after the file
// and its folder are fsynced.
func (s *Spool) Append(e spoolEntry) error {
	e.V = spoolVersion
	plain, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("failed to encode spool entry: %w", err)
	}
	sealed, err := s.sealer.Seal(plain, spoolContext)
	clear(plain)
	if err != nil {
		return fmt.Errorf("failed to seal spool entry: %w", err)
	}
	frame := binary.BigEndian.AppendUint32(make([]byte, 0, 4+len(sealed)), uint32(len(sealed)))
	frame = append(frame, sealed...)

	s.mu.Lock()
	defer s.mu.Unlock()
	path := filepath.Join(s.dir, spoolPending)
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open the capture spool: %w", err)
	}
	if _, err := f.Write(frame); err != nil {
		_ = f.Close() // the write error is the one to report
		return fmt.Errorf("failed to write the capture spool: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("failed to sync the capture spool: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("failed to close the capture spool: %w", err)
	}
	if errors.Is(statErr, os.ErrNotExist) {
		return syncDir(s.dir) // the new file's name must survive a crash too
	}
	return nil
}

// Pending reports whether entries wait for a replay.
func (s *Spool) Pending() bool {
	for _, name := range []string{spoolReplaying, spoolPending} {
		if fi, err := os.Stat(filepath.Join(s.dir, name)); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// Replay hands every entry to apply, oldest first. Entries appended while
// it runs wait for the next replay. When apply fails, Replay stops and
// returns the error; the entries stay and are applied again next time,
// so apply must be idempotent. An entry that does not open is passed to
// bad (with its position) and skipped. When every entry is applied the
// file is removed.
func (s *Spool) Replay(apply func(spoolEntry) error, bad func(n int, err error)) error {
	replaying := filepath.Join(s.dir, spoolReplaying)
	s.mu.Lock()
	_, err := os.Stat(replaying)
	if errors.Is(err, os.ErrNotExist) {
		// Hand the pending file over; appends start a new one.
		err = os.Rename(filepath.Join(s.dir, spoolPending), replaying)
		if errors.Is(err, os.ErrNotExist) {
			s.mu.Unlock()
			return nil
		}
		if err == nil {
			err = syncDir(s.dir)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("failed to prepare the capture spool for replay: %w", err)
	}
	f, err := os.Open(replaying)
	if err != nil {
		return fmt.Errorf("failed to open the capture spool: %w", err)
	}
	err = s.each(f, apply, bad)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("failed to close the capture spool: %w", cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Remove(replaying); err != nil {
		return fmt.Errorf("failed to remove the replayed capture spool: %w", err)
	}
	return syncDir(s.dir)
}

func (s *Spool) each(r io.Reader, apply func(spoolEntry) error, bad func(n int, err error)) error {
	br := bufio.NewReader(r)
	var head [4]byte
	for n := 0; ; n++ {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil // the end, or a frame torn by a crash
			}
			return fmt.Errorf("failed to read the capture spool: %w", err)
		}
		size := binary.BigEndian.Uint32(head[:])
		if size > maxSpoolFrame {
			bad(n, fmt.Errorf("spool frame of %d bytes", size))
			return nil // nothing after a broken length can be trusted
		}
		sealed := make([]byte, size)
		if _, err := io.ReadFull(br, sealed); err != nil {
			return nil // torn last frame
		}
		plain, err := s.sealer.Open(sealed, spoolContext)
		if err != nil {
			bad(n, err)
			continue
		}
		var e spoolEntry
		err = json.Unmarshal(plain, &e)
		clear(plain)
		if err == nil && e.V != spoolVersion {
			err = fmt.Errorf("spool entry version %d is not supported", e.V)
		}
		if err != nil {
			bad(n, err)
			continue
		}
		if err := apply(e); err != nil {
			return err
		}
	}
}

// syncDir fsyncs a folder so that a created, renamed or removed name in
// it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("failed to open %s for sync: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}
