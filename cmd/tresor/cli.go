package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"
)

// cli carries everything a command needs from the outside world, so that
// commands never reach for globals and tests can substitute each part.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	// client talks to a server ('audit cosign'); nil: a default client.
	client *http.Client
	// afterRewrapReplace, if set, runs after `vault rewrap` replaced a
	// bundle and before it records the receipt (tests: an interruption
	// there).
	afterRewrapReplace func(bundleID string) error
}

// command is one subcommand. run receives the arguments after its name.
type command struct {
	summary string
	run     func(c *cli, ctx context.Context, args []string) error
}

// errUsage marks an error caused by how the command was called; run exits 2.
var errUsage = errors.New("usage")

// usageError reports a wrong invocation; the message is shown with a hint.
func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the web service and the job worker", (*cli).cmdServe},
		"init":    {"prepare the data folder, keys, database and first admin", (*cli).cmdInit},
		"migrate": {"apply pending database migrations", (*cli).cmdMigrate},
		"user":    {"manage accounts", (*cli).cmdUser},
		"policy":  {"check or show policies", (*cli).cmdPolicy},
		"audit":   {"verify, checkpoint and export the audit log", (*cli).cmdAudit},
		"vault":   {"manage the evidence vault", (*cli).cmdVault},
		"wa":      {"link and list WhatsApp devices", (*cli).cmdWA},
		"version": {"print the version", (*cli).cmdVersion},
		"backup":  {"write a backup of the database, receipts and keys", (*cli).cmdBackup},
		"restore": {"restore a backup into an empty data folder and database", (*cli).cmdRestore},
	}
}

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return c.dispatch(ctx, args)
}

func (c *cli) dispatch(ctx context.Context, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		c.usage(cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(c.stderr, "tresor: error: unknown command %q\n", args[0])
		c.usage(cmds)
		return 2
	}
	err := cmd.run(c, ctx, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(c.stderr, "tresor %s: %v\n", args[0], err)
		fmt.Fprintf(c.stderr, "run 'tresor %s --help' for usage\n", args[0])
		return 2
	default:
		fmt.Fprintf(c.stderr, "tresor: error: %v\n", err)
		return 1
	}
}

func (c *cli) usage(cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(c.stderr, "Usage: tresor <command> [arguments]")
	fmt.Fprintln(c.stderr)
	fmt.Fprintln(c.stderr, "Commands:")
	for _, n := range names {
		fmt.Fprintf(c.stderr, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(c.stderr)
	fmt.Fprintln(c.stderr, "Run 'tresor <command> --help' for details.")
}

// flags returns a flag set whose usage prints the synopsis and the flags.
// Parse errors come back as usage errors; --help as flag.ErrHelp.
func (c *cli) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Usage: tresor %s\n", synopsis)
		var b strings.Builder
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(c.stderr)
		if b.Len() > 0 {
			fmt.Fprintf(c.stderr, "\nFlags:\n%s", b.String())
		}
	}
	return fs
}

// parse parses args with fs, turning parse failures into usage errors.
// Flags may follow positional arguments ("vault open --identity F ID -o
// DIR", as the README writes it): the standard flag package stops at the
// first positional argument, so parsing resumes after each one; after
// "--" everything is positional.
func parse(fs *flag.FlagSet, args []string) error {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	// Leave the positional arguments in fs.Args().
	return fs.Parse(append([]string{"--"}, pos...))
}

// subcommand dispatches args[0] among subs, printing their list on --help.
func (c *cli) subcommand(ctx context.Context, group string, subs map[string]command, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		names := make([]string, 0, len(subs))
		for n := range subs {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(c.stderr, "Usage: tresor %s <command> [arguments]\n\nCommands:\n", group)
		for _, n := range names {
			fmt.Fprintf(c.stderr, "  %-10s %s\n", n, subs[n].summary)
		}
		if len(args) == 0 {
			return usageError("missing %s command", group)
		}
		return flag.ErrHelp
	}
	sub, ok := subs[args[0]]
	if !ok {
		return usageError("unknown %s command %q", group, args[0])
	}
	return sub.run(c, ctx, args[1:])
}
