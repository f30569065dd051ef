package incident_test

import (
	"context"
	"log/slog"
	"strings"
)

// lineHandler is a slog handler that hands each record at or above min
// to out as one line, "message key=value …" with the logger's own
// attributes first, so that tests can wait for log lines as events.
type lineHandler struct {
	min   slog.Level
	attrs []slog.Attr
	out   func(line string)
}

func (h *lineHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }

func (h *lineHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &lineHandler{min: h.min, attrs: append(append([]slog.Attr(nil), h.attrs...), as...), out: h.out}
}

func (h *lineHandler) WithGroup(string) slog.Handler { return h }

func (h *lineHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.out(b.String())
	return nil
}
