package vault

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to begin writing a finished range of f to
// disk without waiting for it, so that the fsync at commit finds most of
// the bundle already written (RocksDB's bytes_per_sync). Errors are
// ignored on purpose: the fsync at commit is what guarantees durability
// and reports any failure.
func startWriteback(f *os.File, off, n int64) {
	_ = unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
