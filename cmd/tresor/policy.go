package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/tresor-evidence/tresor/policies"
)

func (c *cli) cmdPolicy(ctx context.Context, args []string) error {
	return c.subcommand(ctx, "policy", map[string]command{
		"check":  {"validate a policy override folder", (*cli).cmdPolicyCheck},
		"show":   {"print the embedded default policy", (*cli).cmdPolicyShow},
		"record": {"print the record of processing activities (Art. 30 GDPR)", (*cli).cmdPolicyRecord},
	}, args)
}

func (c *cli) cmdPolicyCheck(ctx context.Context, args []string) error {
	fs := c.flags("policy check", "policy check [DIR]\n\nLoads the embedded defaults with the YAML files in DIR (default: TRESOR_POLICY_DIR)\n"+
		"applied on top, and reports every error with file and line.")
	if err := parse(fs, args); err != nil {
		return err
	}
	p, dir, err := c.loadPolicy(fs)
	if err != nil {
		return err
	}
	src := "embedded defaults"
	if dir != "" {
		src += " + " + dir
	}
	fmt.Fprintf(c.stdout, "policy ok (%s): %d categories, %d emergency contacts, walkthroughs for %d platforms\n",
		src, len(p.Categories), len(p.EmergencyContacts), len(p.Walkthrough))
	return nil
}

func (c *cli) cmdPolicyShow(ctx context.Context, args []string) error {
	fs := c.flags("policy show", "policy show")
	if err := parse(fs, args); err != nil {
		return err
	}
	_, err := c.stdout.Write(policies.DefaultYAML())
	return err
}

// loadPolicy loads the embedded defaults with the folder named by the
// command's one optional argument, else by TRESOR_POLICY_DIR, applied on
// top; it returns the folder used ("" for none).
func (c *cli) loadPolicy(fs *flag.FlagSet) (*policies.Policy, string, error) {
	dir := c.getenv("TRESOR_POLICY_DIR")
	switch fs.NArg() {
	case 0:
	case 1:
		dir = fs.Arg(0)
	default:
		return nil, "", usageError("want at most one DIR")
	}
	p, err := policies.Load(dir)
	return p, dir, err
}
