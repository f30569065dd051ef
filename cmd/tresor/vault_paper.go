package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"

	"filippo.io/age/armor"
	"github.com/skip2/go-qrcode"

	"github.com/tresor-evidence/tresor/vault/threshold"
)

// paperTemplate is the printable page of one holder: the key as groups of
// four characters to type back (the Bech32 checksum catches typing
// errors) and as a QR code for phones.
var paperTemplate = template.Must(template.New("paper").Parse(`<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Tresor – Schlüsselanteil {{.Index}} von {{.Holders}}</title>
<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em}
pre{font-size:1.15em;line-height:1.6;white-space:pre-wrap;word-break:break-all;border:1px solid #333;padding:1em}
img{width:16em;height:16em;image-rendering:pixelated}</style></head><body>
<h1>Tresor – Schlüsselanteil {{.Index}} von {{.Holders}}</h1>
<p>Mit {{.Needed}} der {{.Holders}} Schlüsselanteile lassen sich gesicherte Beweise öffnen, mit weniger nie.
Bewahren Sie dieses Blatt im Safe auf. Geben Sie es nicht weiter und fotografieren Sie es nicht.</p>
{{if .Protected}}<p>Dieser Anteil ist mit einer Passphrase geschützt; Sie brauchen sie zusätzlich zum Blatt.</p>{{end}}
<h2>Zum Abtippen</h2>
<pre>{{.Text}}</pre>
<p>Wiederherstellen: <code>tresor vault key-from-paper -o holder-{{.Index}}.txt</code> und den Text eintippen
(Leerzeichen und Zeilenumbrüche sind egal). Ein Tippfehler wird erkannt.</p>
<h2>QR-Code</h2>
<img alt="QR-Code mit demselben Text" src="data:image/png;base64,{{.QR}}">
<p>Öffentlicher Schlüssel der Gruppe (für vault-recipients.txt):</p>
<pre>{{.Recipient}}</pre>
</body></html>
`))

// paperPage renders a holder's printable page from the holder file's
// content (the plain identity, or the passphrase-protected armor).
func paperPage(index, holders, needed int, recipient, content string, protected bool) (string, error) {
	payload := paperPayload(content)
	png, err := qrcode.Encode(payload, qrcode.Medium, 512)
	if err != nil {
		return "", fmt.Errorf("failed to draw QR code: %w", err)
	}
	var buf bytes.Buffer
	err = paperTemplate.Execute(&buf, map[string]any{
		"Index": index, "Holders": holders, "Needed": needed, "Protected": protected,
		"Text": groupForTyping(payload, protected), "QR": base64.StdEncoding.EncodeToString(png),
		"Recipient": recipient,
	})
	if err != nil {
		return "", err
	}
	return buf.String(), nil
}

// paperPayload is what the paper carries: the identity line of a plain
// holder file, or the whole armored file of a protected one.
func paperPayload(content string) string {
	if isAgeEncrypted([]byte(content)) {
		return strings.TrimSpace(content)
	}
	for _, line := range strings.Split(content, "\n") {
		if strings.HasPrefix(line, "AGE-PLUGIN-") {
			return line
		}
	}
	return strings.TrimSpace(content)
}

// groupForTyping splits the key into groups of four, eight per line.
func groupForTyping(payload string, protected bool) string {
	if protected {
		return payload
	}
	var b strings.Builder
	for i := 0; i < len(payload); i += 4 {
		end := min(i+4, len(payload))
		b.WriteString(payload[i:end])
		switch {
		case end == len(payload):
		case (i/4)%8 == 7:
			b.WriteByte('\n')
		default:
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// cmdVaultKeyFromPaper reads a typed paper backup from standard input and
// writes the holder file again.
func (c *cli) cmdVaultKeyFromPaper(ctx context.Context, args []string) error {
	fs := c.flags("vault key-from-paper", "vault key-from-paper -o FILE < typed.txt\n\n"+
		"Reads the text of a paper backup (spaces, line breaks and case do not matter)\n"+
		"from standard input, checks it, and writes the holder file (0600, never\n"+
		"overwritten). A typing error is reported, never written.")
	out := fs.String("o", "", "write the holder file to `FILE`")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError("need -o FILE and no arguments; type the text on standard input")
	}
	typed, err := io.ReadAll(io.LimitReader(c.stdin, 1<<16))
	if err != nil {
		return fmt.Errorf("failed to read the typed text: %w", err)
	}
	content, err := keyFromPaper(string(typed))
	if err != nil {
		return err
	}
	if err := writeNewFile(*out, content); err != nil {
		return fmt.Errorf("failed to write holder file: %w", err)
	}
	fmt.Fprintf(c.stderr, "tresor: the typed key is complete and correct; wrote %s\n", *out)
	return nil
}

// keyFromPaper turns typed paper text into a holder file's content.
func keyFromPaper(typed string) (string, error) {
	if strings.Contains(typed, "BEGIN AGE ENCRYPTED FILE") {
		return protectedFromPaper(typed)
	}
	s := strings.ToUpper(strings.Join(strings.Fields(typed), ""))
	if s == "" {
		return "", usageError("no text given: type the key from the paper on standard input")
	}
	id, err := threshold.ParseIdentity(s)
	if err != nil {
		return "", fmt.Errorf("the typed key is not right, nothing was written: %w; compare it group by group with the paper", err)
	}
	fps := id.Fingerprints()
	return fmt.Sprintf("# Tresor vault key restored from paper: %s\n%s\n", strings.Join(fps, ", "), id), nil
}

// protectedFromPaper rebuilds a passphrase-protected holder file: the
// armor's base64 body in lines of 64 characters between its two markers.
func protectedFromPaper(typed string) (string, error) {
	const footer = "-----END AGE ENCRYPTED FILE-----"
	i := strings.Index(typed, "BEGIN AGE ENCRYPTED FILE-----")
	j := strings.Index(typed, "-----END")
	if j < i {
		return "", fmt.Errorf("the typed text lacks its last line (%s); nothing was written", footer)
	}
	body := strings.Join(strings.Fields(typed[i+len("BEGIN AGE ENCRYPTED FILE-----"):j]), "")
	var b strings.Builder
	b.WriteString(armor.Header + "\n")
	for k := 0; k < len(body); k += 64 {
		b.WriteString(body[k:min(k+64, len(body))] + "\n")
	}
	b.WriteString(footer + "\n")
	// The armor must decode; the passphrase and age's MAC check the rest
	// when the holder opens a bundle.
	if _, err := io.ReadAll(armor.NewReader(strings.NewReader(b.String()))); err != nil {
		return "", fmt.Errorf("the typed text is not right, nothing was written: %v; compare it line by line with the paper", err)
	}
	return b.String(), nil
}
