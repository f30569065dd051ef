//go:build unix

package vault

import "syscall"

// diskFullErrnos: no space left on the device, and disk quota exceeded.
var diskFullErrnos = []error{syscall.ENOSPC, syscall.EDQUOT}
