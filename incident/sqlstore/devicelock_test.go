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
			if err := other(); err != nil {
				t.Fatal(err)
			}
			if err := release(); err != nil {
				t.Fatal(err)
			}
			again, ok, err := b.LockDevice(ctx, "worker-1")
			if err != nil || !ok {
				t.Fatalf("lock after release: %v %v", ok, err)
			}
			if err := again(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
