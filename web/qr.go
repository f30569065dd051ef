package web

import (
	"encoding/base64"
	"fmt"
	"html/template"

	"github.com/skip2/go-qrcode"
)

// qrPixels is the side of a QR code image.
const qrPixels = 320

// qrDataURL draws text as a QR code on the server and returns it as a
// data:image/png URL for an <img> element, so that no page needs a script
// (or a third party) to show a code. Pages that show one must send
// cspDataImages. The WhatsApp linking page and the second-factor set-up
// both draw their codes here.
func qrDataURL(text string) (template.URL, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, qrPixels)
	if err != nil {
		return "", fmt.Errorf("failed to draw a QR code: %w", err)
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}
