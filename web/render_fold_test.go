package web

import (
	"bytes"
	"html/template"
	"testing"
)

// TestFoldTexts: constant translations are folded into the template and
// still escaped for their context; everything else is left to run.
func TestFoldTexts(t *testing.T) {
	msgs := map[string]string{"k": `Tom & "Jerry" <b>`, "fmt": "%d Einträge"}
	src := `<p title="{{.L.T "k"}}">{{.L.T "k"}}</p>` +
		`{{range .Items}}<i>{{$.L.T "k"}}</i>{{end}}` +
		`{{if true}}{{.L.T "missing"}}{{end}}` +
		`<a href="/x?q={{.L.T "k"}}">{{.L.T "fmt" 3}}</a>`
	tmpl := template.Must(template.New("t").Parse(src))
	foldTexts(tmpl.Tree.Root, msgs)
	var buf bytes.Buffer
	data := struct {
		L     *localizer
		Items []int
	}{L: &localizer{lang: "de", msgs: map[string]string{"fmt": "%d Einträge"}}, Items: []int{1}}
	if err := tmpl.Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	want := `<p title="Tom &amp; &#34;Jerry&#34; &lt;b&gt;">Tom &amp; &#34;Jerry&#34; &lt;b&gt;</p>` +
		`<i>Tom &amp; &#34;Jerry&#34; &lt;b&gt;</i>` +
		`missing` +
		`<a href="/x?q=Tom%20%26%20%22Jerry%22%20%3cb%3e">3 Einträge</a>`
	if got := buf.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
