package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
)

func (c *cli) cmdUser(ctx context.Context, args []string) error {
	return c.subcommand(ctx, "user", map[string]command{
		"add":            {"create an account (password from stdin or --password-file)", (*cli).cmdUserAdd},
		"list":           {"list accounts", (*cli).cmdUserList},
		"email":          {"set or clear (\"\") an account's e-mail address for notifications", (*cli).cmdUserEmail},
		"disable":        {"disable an account", func(c *cli, ctx context.Context, args []string) error { return c.setDisabled(ctx, args, true) }},
		"enable":         {"enable a disabled account", func(c *cli, ctx context.Context, args []string) error { return c.setDisabled(ctx, args, false) }},
		"unlock":         {"end an account's lock after many failed sign-ins", (*cli).cmdUserUnlock},
		"reset-password": {"set a one-time password, printed once; the next sign-in must change it", (*cli).cmdUserResetPassword},
	}, args)
}

// cmdUserResetPassword resets a password at the server's console, which
// is trusted as set-up: it applies at once, also for an account that
// approves (on the web that needs a second person).
func (c *cli) cmdUserResetPassword(ctx context.Context, args []string) error {
	fs := c.flags("user reset-password", "user reset-password USERNAME")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one USERNAME")
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		ch, err := svc.ResetPassword(ctx, incident.System, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "one-time password for %q (shown once; to be changed at the next sign-in): %s\n", ch.User.Username, ch.Password)
		return nil
	})
}

func (c *cli) cmdUserUnlock(ctx context.Context, args []string) error {
	fs := c.flags("user unlock", "user unlock USERNAME")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one USERNAME")
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		locked, err := svc.UnlockAccount(ctx, incident.System, fs.Arg(0))
		if err != nil {
			return err
		}
		if !locked {
			fmt.Fprintf(c.stdout, "%q was not locked\n", strings.ToLower(strings.TrimSpace(fs.Arg(0))))
			return nil
		}
		fmt.Fprintf(c.stdout, "unlocked %q\n", strings.ToLower(strings.TrimSpace(fs.Arg(0))))
		return nil
	})
}

func (c *cli) cmdUserAdd(ctx context.Context, args []string) error {
	fs := c.flags("user add", "user add --role ROLE [--name DISPLAY] [--email ADDR] [--password-file FILE] USERNAME < password\n\n"+
		"Roles: worker, supervisor, auditor, admin. The password is read from --password-file\n"+
		"or the first line of standard input, never from the command line.")
	role := fs.String("role", "", "worker, supervisor, auditor or admin")
	name := fs.String("name", "", "display name")
	email := fs.String("email", "", "e-mail address for notifications")
	pwFile := fs.String("password-file", "", "file holding the password")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one USERNAME")
	}
	r, err := incident.ParseRole(*role)
	if err != nil {
		return usageError("%v", err)
	}
	pw, err := c.readSecret(*pwFile, "password")
	if err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		u, err := svc.AddUser(ctx, incident.System, incident.NewUser{Username: fs.Arg(0), DisplayName: *name, Role: r, Password: pw, Email: *email})
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %s %q\n", u.Role, u.Username)
		return nil
	})
}

func (c *cli) cmdUserList(ctx context.Context, args []string) error {
	fs := c.flags("user list", "user list")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		users, err := svc.Users(ctx, incident.System)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tROLE\tSTATUS\tE-MAIL\tNAME")
		for _, u := range users {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			addr := u.Email
			if addr == "" {
				addr = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Username, u.Role, status, addr, u.DisplayName)
		}
		return tw.Flush()
	})
}

func (c *cli) setDisabled(ctx context.Context, args []string, disabled bool) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	fs := c.flags("user "+verb, "user "+verb+" USERNAME")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("want exactly one USERNAME")
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		u, err := svc.SetUserDisabled(ctx, incident.System, fs.Arg(0), disabled)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "%sd %q\n", verb, u.Username)
		return nil
	})
}

func (c *cli) cmdUserEmail(ctx context.Context, args []string) error {
	fs := c.flags("user email", "user email USERNAME ADDR\n\nSets where USERNAME's notifications go; an empty ADDR (\"\") clears it.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageError("want USERNAME and ADDR")
	}
	return c.withService(ctx, func(svc *incident.Service, _ *sqlstore.Store, _ config) error {
		u, err := svc.SetUserEmail(ctx, incident.System, fs.Arg(0), fs.Arg(1))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "e-mail address of %q set\n", u.Username)
		return nil
	})
}
