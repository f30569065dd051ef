package wa

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// TestLogsCarryNoMessageIDs: the sender's app chooses a message's id, so
// a capture that is lost is logged with the id's hash, and with the
// error's class instead of its text (which names the id too).
func TestLogsCarryNoMessageIDs(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	e.ad.opts.Log = slog.New(slog.NewTextHandler(&buf, nil))
	loseCaptures(t, e)
	const id = "3AHOSTILE7F3AMARKER"
	if e.ad.Handle(received(id, textMessage(secretText))) {
		t.Fatal("Handle reported a lost capture as kept")
	}
	log := buf.String()
	if !strings.Contains(log, "whatsapp capture lost") || !strings.Contains(log, logRef(id)) {
		t.Fatalf("the loss is not logged with the id's hash %s:\n%s", logRef(id), log)
	}
	for _, bad := range []string{id, "HOSTILE", secretText} {
		if strings.Contains(log, bad) {
			t.Errorf("the log carries %q:\n%s", bad, log)
		}
	}
}
