package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// errGraceRanOut: requests were still running when the shutdown grace
// ended and were cut off; serve then exits non-zero.
var errGraceRanOut = errors.New("shutdown grace ran out with requests still running; they were cut off (a longer TRESOR_SHUTDOWN_GRACE lets them finish)")

// drain stops srv from taking new connections and waits up to grace for
// the requests in flight — an upload of a large video may take a while —
// to finish. When the grace runs out the remaining connections are
// closed and the clients see their request fail.
func drain(srv *http.Server, grace time.Duration, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err == nil {
		logger.Info("shutdown: every request in flight finished")
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		return errors.Join(fmt.Errorf("failed to shut down the web service: %w", err), srv.Close())
	}
	logger.Error("shutdown grace ran out: closing connections of requests still running", "grace", grace.String())
	if cerr := srv.Close(); cerr != nil {
		return errors.Join(errGraceRanOut, cerr)
	}
	return errGraceRanOut
}
