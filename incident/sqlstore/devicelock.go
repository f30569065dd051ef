package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"github.com/tresor-evidence/tresor/incident"
)

// LockDevice takes the lock that lets one process connect a worker's
// WhatsApp device: several Tresor processes on one PostgreSQL database
// then never connect the same device twice (WhatsApp would answer with
// StreamReplaced). On PostgreSQL it is a session advisory lock held on a
// connection of its own until release; it ends by itself if the process
// dies, and Alive fails once that connection is gone. On SQLite, which
// one process uses, it is a lock in this process. ok is false when
// someone else holds it.
func (s *Store) LockDevice(ctx context.Context, workerID string) (lock incident.DeviceLock, ok bool, err error) {
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
	return &pgDeviceLock{conn: conn, key: key}, true, nil
}

// pgDeviceLock is a session advisory lock on its own connection.
type pgDeviceLock struct {
	conn *sql.Conn
	key  int64
}

// Alive asks the server whether this session still holds the lock: a
// dropped connection fails, and a new session (after a reconnect) would
// not hold it.
func (l *pgDeviceLock) Alive(ctx context.Context) error {
	var held bool
	err := l.conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'
		AND pid = pg_backend_pid() AND granted AND objsubid = 1
		AND ((classid::bigint << 32) | objid::bigint) = $1)`, l.key).Scan(&held)
	if err != nil {
		return fmt.Errorf("device lock: %w", translate(err))
	}
	if !held {
		return errors.New("device lock: no longer held")
	}
	return nil
}

func (l *pgDeviceLock) Release() error {
	_, err := l.conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, l.key)
	if cerr := l.conn.Close(); err == nil {
		err = cerr
	}
	return err
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

func (l *localLocks) lock(key int64) (incident.DeviceLock, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[int64]bool{}
	}
	l.held[key] = true
	return localLock{l, key}, true, nil
}

// localLock is held until released: the process that holds it is the
// only one.
type localLock struct {
	l   *localLocks
	key int64
}

func (localLock) Alive(context.Context) error { return nil }

func (ll localLock) Release() error {
	ll.l.mu.Lock()
	defer ll.l.mu.Unlock()
	delete(ll.l.held, ll.key)
	return nil
}
