package policies

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// defaultName is the file name reported in errors about the embedded default.
const defaultName = "default.yaml"

// DefaultYAML returns a copy of the embedded default policy file.
func DefaultYAML() []byte {
	return slices.Clone(defaultYAML)
}

// Default returns the embedded default policy, validated.
func Default() (*Policy, error) {
	return build()
}

// Parse returns the embedded default policy with the single YAML document
// data applied on top of it. name is used in error messages.
func Parse(name string, data []byte) (*Policy, error) {
	return build(source{name, data})
}

// Load returns the embedded default policy with every *.yaml and *.yml file
// in dir applied on top of it, in lexical order of the file names. Hidden
// files (starting with ".") and directories are skipped. If dir is "", Load
// returns the default policy.
//
// Errors reading the directory or a file are returned wrapped; errors in a
// file's content are *Error values that name the file and line.
func Load(dir string) (*Policy, error) {
	if dir == "" {
		return Default()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("failed to read policy directory: %w", err)
	}
	var sources []source
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if ext := filepath.Ext(name); ext != ".yaml" && ext != ".yml" {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path) // follows symlinks, as in Kubernetes ConfigMaps
		if err != nil {
			return nil, fmt.Errorf("failed to read policy file: %w", err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("failed to read policy file: %w", err)
		}
		sources = append(sources, source{path, data})
	}
	return build(sources...)
}

type source struct {
	name string
	data []byte
}

// builtin holds the defaults for settings that default.yaml might omit.
func builtin() *Policy {
	return &Policy{
		FourEyes:       FourEyes{Approvals: 1, RequestTTL: 24 * time.Hour, DownloadLinks: 1},
		StepDeadline:   48 * time.Hour,
		CaptureWindow:  72 * time.Hour,
		UploadMaxBytes: 100 << 20,

		MediaHashMismatch: MediaMismatchSeal,
		TimeZone:          mustLocation(DefaultTimeZone),
		Processing:        defaultProcessing(),
	}
}

// defaultPolicy parses the embedded default once; build clones it.
var defaultPolicy = sync.OnceValues(func() (*Policy, error) {
	p := builtin()
	if err := apply(p, source{defaultName, defaultYAML}); err != nil {
		return nil, err
	}
	return p, nil
})

func build(overrides ...source) (*Policy, error) {
	def, err := defaultPolicy()
	if err != nil {
		return nil, err
	}
	p := def.clone()
	for _, s := range overrides {
		if err := apply(p, s); err != nil {
			return nil, err
		}
	}
	if err := p.checkComplete(); err != nil {
		return nil, err
	}
	return p, nil
}

// apply decodes the single YAML document in s and applies it on top of p.
// p is left partially modified on error.
func apply(p *Policy, s source) error {
	doc, err := parseYAML(s)
	if err != nil {
		return err
	}
	d := &decoder{file: s.name}
	return d.policy(p, doc)
}

// parseYAML parses the single YAML document in s into a node tree; an
// empty file gives an empty node, which changes nothing. A panic in the
// YAML library becomes an error; panics in this package's own code are
// not hidden, so that fuzzing finds them.
func parseYAML(s source) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, &Error{File: s.name, Msg: fmt.Sprintf("malformed yaml: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(s.data))
	doc = new(yaml.Node)
	if err := dec.Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{}, nil // empty file or only comments
		}
		return nil, syntaxError(s.name, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		return nil, &Error{File: s.name, Line: extra.Line, Msg: "more than one YAML document"}
	case !errors.Is(err, io.EOF):
		return nil, syntaxError(s.name, err)
	}
	return doc, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)

// syntaxError turns a yaml.v3 parser error into an *Error with the line
// the parser reported, if any.
func syntaxError(name string, err error) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, err := strconv.Atoi(m[1])
		if err != nil {
			line = 0 // out of range: report without a line
		}
		return &Error{File: name, Line: line, Msg: "malformed yaml: " + m[2]}
	}
	return &Error{File: name, Msg: "malformed yaml: " + strings.TrimPrefix(msg, "yaml: ")}
}

// checkComplete checks what only the merged result can show. Overrides
// cannot remove anything, so only a broken embedded default fails here.
func (p *Policy) checkComplete() error {
	fail := func(format string, args ...any) error {
		return &Error{File: defaultName, Msg: fmt.Sprintf(format, args...)}
	}
	if len(p.Walkthrough) == 0 {
		return fail("walkthrough has no platform")
	}
	if len(p.Categories) == 0 {
		return fail("no categories")
	}
	if c, err := p.Category("csam"); err != nil || !c.Restricted {
		return fail(`category "csam" is missing or not restricted`)
	}
	if len(p.EmergencyContacts) == 0 {
		return fail("no emergency contacts")
	}
	return nil
}

// clone returns a deep copy of p that shares no slices or maps with it.
func (p *Policy) clone() *Policy {
	c := *p
	c.Categories = slices.Clone(p.Categories)
	for i := range c.Categories {
		c.Categories[i].ExtraSteps = slices.Clone(c.Categories[i].ExtraSteps)
	}
	c.EmergencyContacts = slices.Clone(p.EmergencyContacts)
	c.UploadTypes = slices.Clone(p.UploadTypes)
	c.Processing = p.Processing.clone()
	c.OIDC = p.OIDC.clone()
	c.Walkthrough = p.Platforms()
	return &c
}
