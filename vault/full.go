package vault

import (
	"errors"
	"fmt"
)

// storageFull marks err with ErrStorageFull when the operating system
// said the disk is full or the quota used up, so that callers can tell
// the operator what to do instead of reporting an internal error.
func storageFull(err error) error {
	if err == nil || errors.Is(err, ErrStorageFull) {
		return err
	}
	for _, e := range diskFullErrnos {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", ErrStorageFull, err)
		}
	}
	return err
}
