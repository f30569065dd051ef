package wa

import (
	"crypto/sha256"
	"encoding/hex"
)

// logRef stands for a WhatsApp message id in the service log. The sender's
// app chooses message ids, so the log carries a short hash of the id
// instead: enough to match lines about one message with each other and,
// for whoever holds the incident, with its id; nothing a sender could
// write into the log.
func logRef(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "m:" + hex.EncodeToString(sum[:6])
}
