//go:build unix

package vault

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestStorageFullMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		full bool
	}{
		{"no space", &os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, true},
		{"quota", &os.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, true},
		{"fsync wrapped", fmt.Errorf("failed to sync bundle: %w", &os.PathError{Op: "sync", Path: "x", Err: syscall.ENOSPC}), true},
		{"link", &os.LinkError{Op: "link", Old: "a", New: "b", Err: syscall.ENOSPC}, true},
		{"joined with abort", errors.Join(fmt.Errorf("write: %w", syscall.EDQUOT), errors.New("abort")), true},
		{"file too large", &os.PathError{Op: "write", Path: "x", Err: syscall.EFBIG}, false},
		{"i/o error", &os.PathError{Op: "write", Path: "x", Err: syscall.EIO}, false},
		{"permission", os.ErrPermission, false},
		{"nil", nil, false},
	} {
		got := storageFull(tc.err)
		if errors.Is(got, ErrStorageFull) != tc.full {
			t.Errorf("%s: %v, want full=%v", tc.name, got, tc.full)
		}
		if tc.err != nil && !errors.Is(got, tc.err) {
			t.Errorf("%s: the cause is lost: %v", tc.name, got)
		}
		if tc.err == nil && got != nil {
			t.Errorf("nil became %v", got)
		}
	}
}
