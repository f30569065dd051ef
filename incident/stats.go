package incident

import "time"

// OperationalStats are counts for monitoring: how much work waits and how
// much was done. They carry no names, ids or message content, so they may
// leave the server as metrics.
type OperationalStats struct {
	// JobsByState counts the jobs in each state.
	JobsByState map[JobState]int64
	// OldestDueJob is how long the oldest pending job has been due; zero
	// when none is due.
	OldestDueJob time.Duration
	// AuditEntries is the length of the audit log.
	AuditEntries int64
	// BytesSealed is the ciphertext size of every bundle a receipt
	// records.
	BytesSealed int64
	// DevicesByState counts the linked WhatsApp devices in each state.
	DevicesByState map[DeviceStatus]int64
}

// JobStates lists every job state.
func JobStates() []JobState { return []JobState{JobPending, JobDone, JobDead} }

// DeviceStatuses lists every linked-device state.
func DeviceStatuses() []DeviceStatus {
	return []DeviceStatus{DeviceLinking, DeviceConnected, DeviceDisconnected, DeviceLoggedOut, DeviceReplaced,
		DeviceBanned, DeviceOutdated, DeviceFailed, DeviceUnlinked, DeviceRelink}
}
