package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

func toolVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func (c *cli) cmdVersion(ctx context.Context, args []string) error {
	fs := c.flags("version", "version")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "tresor %s %s\n", toolVersion(), runtime.Version())
	return nil
}
