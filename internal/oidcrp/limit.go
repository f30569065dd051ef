package oidcrp

import (
	"errors"
	"io"
	"net/http"
)

// maxProviderAnswer bounds every answer of the identity provider Tresor
// reads (discovery document, key set, token endpoint, userinfo). go-oidc
// reads discovery and key-set answers whole; a provider — or whoever
// answers at its address — must not be able to make Tresor hold an
// answer of any size in memory. Real answers are a few kilobytes.
const maxProviderAnswer = 1 << 20

// errAnswerTooLarge: the provider's answer exceeded maxProviderAnswer.
var errAnswerTooLarge = errors.New("the identity provider's answer is larger than 1 MiB")

// limitedTransport cuts every response body off at maxProviderAnswer,
// with an error instead of a silently shortened answer.
type limitedTransport struct{ next http.RoundTripper }

func (t limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: maxProviderAnswer}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, _ := b.ReadCloser.Read(one[:]); n > 0 {
			return 0, errAnswerTooLarge
		}
		return b.ReadCloser.Read(p)
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// limitAnswers returns c with its transport wrapped by limitedTransport
// (a copy: c itself is left as it is).
func limitAnswers(c *http.Client) *http.Client {
	out := *c
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = limitedTransport{next: next}
	return &out
}
