package policies

import (
	"fmt"
	"slices"
	"strings"
)

// Platform is a device type the deletion walkthrough is written for: a key
// of the policy's walkthrough, such as "android", "iphone" or "web". The
// policy, not the code, decides which platforms exist, so a provider adds
// one in YAML alone.
type Platform string

// PlatformGuide is one platform's walkthrough: its name as people read it
// and its deletion steps, in order.
type PlatformGuide struct {
	ID    Platform
	Name  Text
	Steps []Step
}

// Platforms returns every platform of the walkthrough, in display order
// (the order of the files, an override's new platform last). The guides
// are copies.
func (p *Policy) Platforms() []PlatformGuide {
	out := slices.Clone(p.Walkthrough)
	for i := range out {
		out[i].Steps = slices.Clone(out[i].Steps)
	}
	return out
}

// ParsePlatform returns the platform named s (a walkthrough key,
// case-insensitive, surrounding spaces ignored). The error for any other
// value wraps [ErrInvalid] and lists the platforms there are.
func (p *Policy) ParsePlatform(s string) (Platform, error) {
	pl := Platform(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := p.guide(pl); !ok {
		return "", fmt.Errorf("unknown platform %q (want one of %s): %w", clip(s), p.platformList(), ErrInvalid)
	}
	return pl, nil
}

// Guide returns the walkthrough of pl. The error for an unknown platform
// wraps [ErrInvalid].
func (p *Policy) Guide(pl Platform) (PlatformGuide, error) {
	g, ok := p.guide(pl)
	if !ok {
		return PlatformGuide{}, fmt.Errorf("unknown platform %q: %w", clip(string(pl)), ErrInvalid)
	}
	g.Steps = slices.Clone(g.Steps)
	return g, nil
}

func (p *Policy) guide(pl Platform) (PlatformGuide, bool) {
	i := slices.IndexFunc(p.Walkthrough, func(g PlatformGuide) bool { return g.ID == pl })
	if i < 0 || pl == "" {
		return PlatformGuide{}, false
	}
	return p.Walkthrough[i], true
}

func (p *Policy) platformList() string {
	ids := make([]string, len(p.Walkthrough))
	for i, g := range p.Walkthrough {
		ids[i] = string(g.ID)
	}
	return strings.Join(ids, ", ")
}
