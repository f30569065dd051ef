package mailtest

import (
	"testing"
)

func TestMemoryConformance(t *testing.T) {
	m := &Memory{}
	Run(t, m, func(*testing.T) []Received {
		var out []Received
		for _, s := range m.Sent() {
			out = append(out, Received{To: []string{s.To}, Subject: s.Subject, Text: s.Text})
		}
		return out
	})
}
