package main

import (
	"io"
	"log/slog"
	"os"

	"golang.org/x/term"
)

// logger is the one structured log of the process: the web service, the
// job worker, the database (GORM) and the WhatsApp devices write into it.
// It goes to stderr as JSON, or as text when stderr is a terminal (a
// person reading along); TRESOR_LOG_FORMAT chooses explicitly.
func (c *cli) logger(cfg config) *slog.Logger {
	return newLogger(c.stderr, cfg.LogFormat)
}

func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}
