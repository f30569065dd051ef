package wa

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"

	waLog "go.mau.fi/whatsmeow/util/log"
)

// maxLogLine bounds a whatsmeow log line: long lines carry dumped
// protocol nodes, which are no operator's business.
const maxLogLine = 300

var (
	// jidRE matches addresses: phone-number, LID, group, newsletter and
	// broadcast JIDs, with device and agent parts.
	jidRE = regexp.MustCompile(`[0-9A-Za-z._-]+(?:[.:][0-9]+)*@(?:s\.whatsapp\.net|c\.us|lid|g\.us|newsletter|broadcast|hosted(?:\.lid)?|msgr|bot)`)
	// digitsRE matches phone numbers and other long digit runs left
	// outside an address ("+49 170 1234567" is caught piecewise).
	digitsRE = regexp.MustCompile(`\+?[0-9][0-9 ()/-]{6,}[0-9]`)
	// blobRE matches hex or base64 runs: keys, hashes, ciphertext.
	blobRE = regexp.MustCompile(`[A-Za-z0-9+/=_-]{40,}`)
)

// Redact removes from a whatsmeow log line what must not reach the
// service log: addresses (JIDs), phone numbers and long binary-looking
// runs; it cuts the line at maxLogLine characters.
func Redact(s string) string {
	s = jidRE.ReplaceAllString(s, "[jid]")
	s = blobRE.ReplaceAllString(s, "[data]")
	s = digitsRE.ReplaceAllString(s, "[number]")
	if len(s) > maxLogLine {
		s = s[:maxLogLine] + "…"
	}
	return s
}

// slogLogger is whatsmeow's waLog.Logger writing to the service's slog
// logger: only lines at or above min, redacted (Redact), with the
// whatsmeow module as an attribute. whatsmeow's warnings and errors name
// failures, not message content; its info and debug lines carry
// addresses and protocol dumps, hence the redaction and the default of
// warnings. The bridge routes whatsmeow's log the same way into its own
// (mautrix-whatsapp, pkg/connector/client.go: waLog.Zerolog).
type slogLogger struct {
	l      *slog.Logger
	min    slog.Level
	module string
}

// NewWALogger returns whatsmeow's logger (Config.WALog) writing into l
// from level min up (slog.LevelWarn: warnings and errors).
func NewWALogger(l *slog.Logger, min slog.Level) waLog.Logger {
	return &slogLogger{l: l, min: min, module: "whatsmeow"}
}

// Sub names a whatsmeow module (Client, Socket, Database …).
func (s *slogLogger) Sub(module string) waLog.Logger {
	return &slogLogger{l: s.l, min: s.min, module: s.module + "/" + module}
}

func (s *slogLogger) log(level slog.Level, format string, args []any) {
	if level < s.min || !s.l.Enabled(context.Background(), level) {
		return
	}
	s.l.Log(context.Background(), level, Redact(fmt.Sprintf(format, args...)), "module", s.module)
}

func (s *slogLogger) Warnf(msg string, args ...any)  { s.log(slog.LevelWarn, msg, args) }
func (s *slogLogger) Errorf(msg string, args ...any) { s.log(slog.LevelError, msg, args) }
func (s *slogLogger) Infof(msg string, args ...any)  { s.log(slog.LevelInfo, msg, args) }
func (s *slogLogger) Debugf(msg string, args ...any) { s.log(slog.LevelDebug, msg, args) }
