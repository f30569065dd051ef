package web

import (
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes: every /api/v1 route of the route table is in
// web/openapi.yaml with the same method, and the file describes no other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Servers []struct {
			URL string `yaml:"url"`
		} `yaml:"servers"`
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPISpec, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || len(doc.Servers) != 1 || doc.Servers[0].URL+"/" != apiPrefix {
		t.Fatalf("openapi %q, servers %+v", doc.OpenAPI, doc.Servers)
	}
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}
	var inSpec, inTable []string
	for p, ops := range doc.Paths {
		for m := range ops {
			if methods[m] {
				inSpec = append(inSpec, strings.ToUpper(m)+" "+p)
			}
		}
	}
	param := regexp.MustCompile(`:([a-z]+)`)
	for _, r := range routeTable() {
		if r.api != strings.HasPrefix(r.path, apiPrefix) {
			t.Errorf("%s %s: api flag and path disagree", r.method, r.path)
		}
		if r.api {
			inTable = append(inTable, r.method+" "+param.ReplaceAllString(strings.TrimPrefix(r.path, strings.TrimSuffix(apiPrefix, "/")), "{$1}"))
		}
	}
	sort.Strings(inSpec)
	sort.Strings(inTable)
	if !slices.Equal(inSpec, inTable) {
		t.Fatalf("openapi.yaml and the route table differ:\n spec  %v\n table %v", inSpec, inTable)
	}
	e := newEnv(t)
	w := e.anon().get("/api/v1/openapi.yaml")
	wantStatus(t, w, http.StatusOK)
	if w.Body.String() != string(openAPISpec) {
		t.Fatal("served description differs from the embedded one")
	}
}
