//go:build unix

package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// The lock keeps a second run out, leaves no file behind, and stays
// exclusive while runs take it, remove its file and take it again at
// once (the race a removed lock file opens).
func TestLockOpenDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := lockOpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockOpenDir(dir); err == nil || !strings.Contains(err.Error(), "another 'vault open'") {
		t.Fatalf("second lock: %v, want refused", err)
	}
	unlock()
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("after unlock the folder holds %v (%v)", entries, err)
	}

	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for held := 0; held < 50; {
				unlock, err := lockOpenDir(dir)
				if err != nil {
					if !strings.Contains(err.Error(), "another 'vault open'") {
						t.Error(err)
						return
					}
					runtime.Gosched()
					continue
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				inside.Add(-1)
				unlock()
				held++
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Fatalf("%d runs held the lock at once", most.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, openLockName)); !os.IsNotExist(err) {
		t.Fatalf("lock file left: %v", err)
	}
}
