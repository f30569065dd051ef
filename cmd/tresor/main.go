// Command tresor runs the Tresor service and its administrative commands.
//
// Every subcommand prints its usage with --help. Secrets (passwords, keys)
// are read from files or standard input, never from the command line.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
