package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore/sqltest"
)

// A SQLite database on a real, full file system (a 3 MiB tmpfs; root
// only) answers ErrStorageFull, keeps what committed before, and works
// again once there is room.
func TestSQLiteDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	})
	s := sqltest.OpenURL(t, "sqlite:"+filepath.Join(dir, "tresor.db"))
	// The room an administrator frees later.
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, 512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	enqueue := func(i int, size int) error {
		return s.Tx(ctx, func(tx incident.Tx) error {
			return tx.Enqueue(ctx, incident.Job{Kind: incident.JobEscalate, IncidentID: fmt.Sprint("i", i),
				Key: fmt.Sprintf("k%06d:%s", i, strings.Repeat("x", size)), RunAt: t0, CreatedAt: t0})
		})
	}
	var err error
	n := 0
	for ; n < 10000 && err == nil; n++ {
		err = enqueue(n, 16<<10)
	}
	if !errors.Is(err, incident.ErrStorageFull) {
		t.Fatalf("after %d jobs of 16 KiB on a 3 MiB disk: %v, want ErrStorageFull", n, err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := enqueue(n, 16); err != nil {
		t.Fatalf("write after room was made: %v", err)
	}
	var jobs []incident.Job
	if err := s.View(ctx, func(tx incident.Tx) (err error) { jobs, err = tx.Jobs(ctx, "i0"); return }); err != nil || len(jobs) != 1 {
		t.Fatalf("a job committed before the disk was full: %v %v", jobs, err)
	}
}
