package vault

import (
	"context"
	"errors"
	"fmt"
)

// errReachable stops the listing at its first blob.
var errReachable = errors.New("vault reachable")

// Reachable reports whether the backend answers, by listing at most one
// blob. It writes nothing: a probe object would stay under an Object
// Lock retention, and every health check would add one.
func (v *Vault) Reachable(ctx context.Context) error {
	err := v.b.List(ctx, func(string) error { return errReachable })
	if err != nil && !errors.Is(err, errReachable) {
		return fmt.Errorf("vault %s unreachable: %w", v.b.Location(), err)
	}
	return nil
}
