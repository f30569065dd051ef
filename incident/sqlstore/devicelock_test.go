package sqlstore

import (
	"context"
	"testing"
)

// TestDeviceLock: one holder at a time, across two stores (two processes'
// pools) on PostgreSQL and within one store on SQLite; free again after
// release.
func TestDeviceLock(t *testing.T) {
	for _, d := range dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := urlForTest(t, d)
			a := openURLForTest(t, url)
			b := a
			if d == Postgres {
				var err error
				if b, err = Open(ctx, url, Options{}); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = b.Close() })
			}
			release, ok, err := a.LockDevice(ctx, "worker-1")
			if err != nil || !ok {
				t.Fatalf("first lock: %v %v", ok, err)
			}
			if _, ok, err := b.LockDevice(ctx, "worker-1"); err != nil || ok {
				t.Fatalf("second holder got the lock: %v %v", ok, err)
			}
			other, ok, err := b.LockDevice(ctx, "worker-2")
			if err != nil || !ok {
				t.Fatalf("another worker's lock: %v %v", ok, err)
			}
			if err := other.Release(); err != nil {
				t.Fatal(err)
			}
			if err := release.Release(); err != nil {
				t.Fatal(err)
			}
			again, ok, err := b.LockDevice(ctx, "worker-1")
			if err != nil || !ok {
				t.Fatalf("lock after release: %v %v", ok, err)
			}
			if err := again.Alive(ctx); err != nil {
				t.Fatalf("a held lock is not alive: %v", err)
			}
			if err := again.Release(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDeviceLockLost: when the connection holding a PostgreSQL device lock
// dies, the server releases the lock, Alive says so, and another process
// can take it.
func TestDeviceLockLost(t *testing.T) {
	url := urlForTest(t, Postgres)
	ctx := context.Background()
	a := openURLForTest(t, url)
	b, err := Open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if deviceLockKey("worker-1") < 0 || deviceLockKey("w700") >= 0 {
		t.Fatal("the test wants one key of each sign")
	}
	for _, worker := range []string{"worker-1", "w700"} { // lock keys of either sign
		lock, ok, err := a.LockDevice(ctx, worker)
		if err != nil || !ok {
			t.Fatalf("lock: %v %v", ok, err)
		}
		if err := lock.Alive(ctx); err != nil {
			t.Fatalf("%s: held lock not alive: %v", worker, err)
		}
		// Another session ends the holder's backend, as a dropped
		// connection or a server restart would.
		pl := lock.(*pgDeviceLock)
		var pid int
		if err := pl.conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		// With a timeout, pg_terminate_backend waits until the backend
		// is gone (PostgreSQL 14+), and with it its advisory locks.
		var gone bool
		if err := b.db.WithContext(ctx).Raw(`SELECT pg_terminate_backend(?, 30000)`, pid).Scan(&gone).Error; err != nil || !gone {
			t.Fatalf("terminating the holder's backend: %v %v", gone, err)
		}
		if err := lock.Alive(ctx); err == nil {
			t.Fatalf("%s: Alive after the connection died", worker)
		}
		other, ok, err := b.LockDevice(ctx, worker)
		if err != nil || !ok {
			t.Fatalf("%s: lock after the holder died: %v %v", worker, ok, err)
		}
		if err := other.Release(); err != nil {
			t.Fatal(err)
		}
		_ = lock.Release() // its connection is gone: the error is expected
	}
}
