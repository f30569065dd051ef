package sqlstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync"
)

// LockDevice takes the lock that lets one process connect a worker's
// WhatsApp device: several Tresor processes on one PostgreSQL database
// then never connect the same device twice (WhatsApp would answer with
// StreamReplaced). On PostgreSQL it is a session advisory lock held on a
// connection of its own until release; it ends by itself if the process
// dies. On SQLite, which one process uses, it is a lock in this process.
// ok is false when someone else holds it.
func (s *Store) LockDevice(ctx context.Context, workerID string) (release func() error, ok bool, err error) {
	key := deviceLockKey(workerID)
	if s.dialect != Postgres {
		return s.localLocks.lock(key)
	}
	sqlDB, err := s.lockDB.DB()
	if err != nil {
		return nil, false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("failed to get a connection for the device lock: %w", translate(err))
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		_ = conn.Close() // the query error is the one to report
		return nil, false, fmt.Errorf("failed to take the device lock: %w", translate(err))
	}
	if !ok {
		return nil, false, conn.Close()
	}
	return func() error {
		_, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		if cerr := conn.Close(); err == nil {
			err = cerr
		}
		return err
	}, true, nil
}

// deviceLockKey maps a worker to an advisory lock key in a namespace of
// Tresor's own.
func deviceLockKey(workerID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tresor whatsapp device\x00" + workerID)) // hash.Hash.Write never fails
	return int64(h.Sum64())
}

// localLocks are the device locks of a SQLite store.
type localLocks struct {
	mu   sync.Mutex
	held map[int64]bool
}

func (l *localLocks) lock(key int64) (func() error, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[int64]bool{}
	}
	l.held[key] = true
	return func() error {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, key)
		return nil
	}, true, nil
}
