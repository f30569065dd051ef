package web

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
)

// sseKeepAlive is how often an idle event stream sends a comment, so
// that proxies keep it open.
const sseKeepAlive = 15 * time.Second

// whatsappLinkEvents streams the worker's own linking attempt as
// Server-Sent Events: "code" with the QR code as a PNG data: URL, then
// "success", "timeout", "unreachable" or "error"; "idle" when no attempt runs (or
// WhatsApp is not available). The stream ends after the outcome; the page
// then reloads to show it.
func (s *Server) whatsappLinkEvents(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	c.Writer.Flush()
	ctx := c.Request.Context()
	if s.wa == nil {
		writeEvent(c, "idle", "")
		return
	}
	worker := actor(c).ID
	deadline := time.NewTimer(linkMaxDuration + time.Minute)
	defer deadline.Stop()
	ping := time.NewTicker(sseKeepAlive)
	defer ping.Stop()
	last := 0
	for {
		_, snap, changed := s.links.run(worker)
		if changed == nil || snap.State == linkNone {
			writeEvent(c, "idle", "")
			return
		}
		if snap.Seq != last {
			last = snap.Seq
			switch snap.State {
			case linkShowing:
				writeEvent(c, "code", string(snap.QR))
			case linkLinked, linkTimedOut, linkFailed, linkUnreachable:
				writeEvent(c, string(snap.State), "")
				return
			}
		}
		select {
		case <-changed:
		case <-ping.C:
			_, _ = fmt.Fprint(c.Writer, ": keep-alive\n\n")
			c.Writer.Flush()
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		case <-s.streams.done:
			// The service is shutting down: the browser's EventSource
			// reconnects by itself and finds the restarted service.
			return
		}
	}
}

// writeEvent writes one event whose data is a single line.
func writeEvent(c *gin.Context, name, data string) {
	_, _ = fmt.Fprintf(c.Writer, "event: %s\ndata: %s\n\n", name, data)
	c.Writer.Flush()
}

// streamsEnd ends the open event streams when the service shuts down:
// http.Server.Shutdown waits for every request, and a stream would
// otherwise hold it for the whole shutdown grace.
type streamsEnd struct {
	once sync.Once
	done chan struct{}
}

func newStreamsEnd() *streamsEnd { return &streamsEnd{done: make(chan struct{})} }

// EndStreams ends every open event stream now and any opened later at
// once; register it with http.Server.RegisterOnShutdown. It is safe to
// call more than once.
func (s *Server) EndStreams() { s.streams.once.Do(func() { close(s.streams.done) }) }
