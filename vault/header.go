package vault

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"filippo.io/age"
)

const (
	streamNonceSize = 16
	chunkOverhead   = 16
	encChunkSize    = 64*1024 + chunkOverhead
)

// parseHeader returns the recipient stanza types of an age header (as
// returned by age.ExtractHeader) and the header's length.
func parseHeader(prefix []byte) ([]string, int64, error) {
	hdr, err := age.ExtractHeader(bytes.NewReader(prefix))
	if err != nil {
		return nil, 0, err
	}
	var types []string
	for _, line := range strings.Split(string(hdr), "\n") {
		if rest, ok := strings.CutPrefix(line, "-> "); ok {
			t, _, _ := strings.Cut(rest, " ")
			types = append(types, t)
		}
	}
	return types, int64(len(hdr)), nil
}

// checkPayloadSize checks that an age payload of n bytes (nonce and
// chunks) is well-formed: a nonce and one or more chunks, the last of which
// holds at least one byte unless it is the only one.
func checkPayloadSize(n int64) error {
	ct := n - streamNonceSize
	if ct < chunkOverhead+1 {
		return fmt.Errorf("payload of %d bytes is too short", n)
	}
	if r := ct % encChunkSize; r != 0 && r <= chunkOverhead {
		return fmt.Errorf("payload of %d bytes ends in a partial chunk (truncated)", n)
	}
	return nil
}

// prefixRecorder keeps the first max bytes read through it.
type prefixRecorder struct {
	r   io.Reader
	buf []byte
	max int
}

func (p *prefixRecorder) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if room := p.max - len(p.buf); room > 0 {
		p.buf = append(p.buf, b[:min(n, room)]...)
	}
	return n, err
}
