package wa

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestWALoggerRedacts feeds whatsmeow-style log lines (formats as
// whatsmeow writes them) and checks that only warnings and errors reach
// the service log, without addresses, numbers or key material.
func TestWALoggerRedacts(t *testing.T) {
	var buf bytes.Buffer
	l := NewWALogger(slog.New(slog.NewJSONHandler(&buf, nil)), slog.LevelWarn).Sub("Client")
	l.Infof("Successfully paired %s", "4915110000001.0:7@s.whatsapp.net")
	l.Debugf("Decrypting message from %s", "200000000000002@lid")
	l.Warnf("Failed to decrypt message from %s in %s: %v", "200000000000002:3@lid", "120363000000000001@g.us", "no session")
	l.Errorf("Error sending retry receipt for %s to %s (phone +49 170 1234567): key %s", "3A00000000000000A1", "4917012345678@s.whatsapp.net",
		"q83vEjRWeJA0123456789abcdefABCDEF0123456789+/==")
	l.Warnf("Unexpected child in media_conn element: %s", strings.Repeat("<host hostname=\"mmg.whatsapp.net\"/>", 40))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("logged %d lines, want the 3 warnings and errors:\n%s", len(lines), buf.String())
	}
	for _, secret := range []string{"4915110000001", "200000000000002", "120363000000000001", "4917012345678", "170 1234567", "q83vEjRWeJA0123456789"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log holds %q:\n%s", secret, buf.String())
		}
	}
	var rec struct {
		Level, Msg, Module string
	}
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Level != "WARN" || rec.Module != "whatsmeow/Client" || rec.Msg != "Failed to decrypt message from [jid] in [jid]: no session" {
		t.Fatalf("first line = %+v", rec)
	}
	if len(lines[2]) > 2*maxLogLine {
		t.Fatalf("long protocol dump not cut: %d bytes", len(lines[2]))
	}
}
