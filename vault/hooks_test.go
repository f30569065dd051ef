package vault

// OpenFSBackendNoSweep opens dir without the sweep NewFSBackend does, so
// that tests can observe leftovers.
func OpenFSBackendNoSweep(dir string) *FSBackend { return &FSBackend{dir: dir} }
