//go:build !unix

package vault

import "syscall"

// diskFullErrnos: no space left on the device.
var diskFullErrnos = []error{syscall.ENOSPC}
