package s3backend

import (
	"context"
	"time"
)

type retainUntilKey struct{}

// WithRetainUntil returns a context under which the objects a Backend
// with Object Lock writes (Create, Replace) are retained until t, instead
// of for Config.RetainFor. The vault's Seal and Rewrap pass their context
// through to the backend, so the caller that knows the bundle's category
// (and so its retention in the policy) sets the retention per object
// without the vault knowing about categories. Backends without Object
// Lock, and the filesystem backend, ignore it.
func WithRetainUntil(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, retainUntilKey{}, t)
}

// retainUntil returns the retention WithRetainUntil set on ctx.
func retainUntil(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(retainUntilKey{}).(time.Time)
	return t, ok && !t.IsZero()
}
