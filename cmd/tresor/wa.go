package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skip2/go-qrcode"

	"github.com/tresor-evidence/tresor/incident"
	"github.com/tresor-evidence/tresor/incident/sqlstore"
	"github.com/tresor-evidence/tresor/wa"
)

func (c *cli) cmdWA(ctx context.Context, args []string) error {
	return c.subcommand(ctx, "wa", map[string]command{
		"link":    {"link a worker's WhatsApp Business account in this terminal", (*cli).cmdWALink},
		"devices": {"list linked devices and their status", (*cli).cmdWADevices},
		"unlink":  {"unlink a worker's device and delete its keys", (*cli).cmdWAUnlink},
	}, args)
}

// withWhatsApp runs fn with the workflow service and the device manager,
// wired as serve wires them, but without connecting stored devices.
func (c *cli) withWhatsApp(ctx context.Context, fn func(svc *incident.Service, mgr *wa.Manager) error) error {
	return c.withStore(ctx, true, func(s *sqlstore.Store, cfg config) error {
		pol, err := loadPolicy(cfg)
		if err != nil {
			return err
		}
		mgr, err := openWhatsApp(ctx, cfg, s, slog.New(slog.NewTextHandler(c.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
		if err != nil {
			return err
		}
		defer mgr.Close()
		svc := incident.NewService(s, pol, nil, mgr, incident.WithClock(c.now))
		mgr.SetFlagger(svc)
		return fn(svc, mgr)
	})
}

// workerID resolves a worker's username.
func workerID(ctx context.Context, svc *incident.Service, username string) (string, error) {
	users, err := svc.Users(ctx, incident.System)
	if err != nil {
		return "", err
	}
	for _, u := range users {
		if u.Username == strings.ToLower(strings.TrimSpace(username)) {
			if u.Role != incident.RoleWorker && u.Role != incident.RoleSupervisor {
				return "", fmt.Errorf("%w: %s is %s; only workers and supervisors link WhatsApp", incident.ErrInvalidInput, u.Username, u.Role)
			}
			return u.ID, nil
		}
	}
	return "", fmt.Errorf("user %q: %w", username, incident.ErrNotFound)
}

func (c *cli) cmdWALink(ctx context.Context, args []string) error {
	fs := c.flags("wa link", "wa link --worker USERNAME [--phone NUMBER]\n\n"+
		"Links the worker's WhatsApp Business account to Tresor as a companion device. Without\n"+
		"--phone it shows rotating QR codes to scan with the phone (WhatsApp → Linked devices);\n"+
		"with --phone (international, digits only) it prints a pairing code to type on the phone.\n"+
		"The code is sensitive: whoever scans it links their account to this worker's device.\n"+
		"Tresor then receives the worker's incoming messages and keeps them encrypted for the\n"+
		"policy's capture window; WhatsApp does not allow unofficial clients, which puts the\n"+
		"account at some risk.")
	worker := fs.String("worker", "", "username of the worker whose account is linked")
	phone := fs.String("phone", "", "link with a pairing code for this phone number instead of a QR code")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *worker == "" {
		return usageError("--worker is required")
	}
	return c.withWhatsApp(ctx, func(svc *incident.Service, mgr *wa.Manager) error {
		id, err := workerID(ctx, svc, *worker)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		events, err := mgr.Link(ctx, id)
		if err != nil {
			return err
		}
		var pair func() error
		if *phone != "" {
			// whatsmeow: request the pairing code only once the first QR
			// event came, i.e. the connection is established.
			pair = func() error {
				code, err := mgr.PairPhone(ctx, id, *phone)
				if err != nil {
					return err
				}
				fmt.Fprintf(c.stdout, "On the phone: WhatsApp → Linked devices → Link with phone number, then enter: %s\n", code)
				return nil
			}
		}
		return c.followLink(events, pair)
	})
}

// followLink prints QR codes until the link succeeds or fails; with
// pair set it calls pair at the first code instead (pairing code).
func (c *cli) followLink(events <-chan wa.LinkEvent, pair func() error) error {
	for ev := range events {
		switch ev.Kind {
		case wa.LinkCode:
			if pair != nil {
				if err := pair(); err != nil {
					return err
				}
				pair = func() error { return nil }
				continue
			}
			q, err := qrcode.New(ev.Code, qrcode.Low)
			if err != nil {
				return fmt.Errorf("failed to draw QR code: %w", err)
			}
			fmt.Fprintf(c.stdout, "%s\nScan within %s (WhatsApp → Linked devices → Link a device).\n", q.ToSmallString(false), ev.Timeout.Round(time.Second))
		case wa.LinkSuccess:
			fmt.Fprintln(c.stdout, "linked")
			return nil
		case wa.LinkTimeout:
			return errors.New("no code was scanned in time; run the command again")
		case wa.LinkUnreachable:
			return fmt.Errorf("%w: check the server's internet connection and firewall, then run the command again", ev.Err)
		case wa.LinkError:
			return fmt.Errorf("linking failed: %w", ev.Err)
		}
	}
	return errors.New("linking ended without an answer from WhatsApp")
}

func (c *cli) cmdWADevices(ctx context.Context, args []string) error {
	fs := c.flags("wa devices", "wa devices")
	if err := parse(fs, args); err != nil {
		return err
	}
	return c.withWhatsApp(ctx, func(svc *incident.Service, mgr *wa.Manager) error {
		users, err := svc.Users(ctx, incident.System)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, u := range users {
			names[u.ID] = u.Username
		}
		devices, err := mgr.Devices(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "WORKER\tSTATUS\tPHONE SEEN\tNOTE")
		for _, d := range devices {
			seen, note := "-", d.Detail
			if !d.PhoneSeenAt.IsZero() {
				seen = d.PhoneSeenAt.UTC().Format("2006-01-02 15:04")
			}
			if d.PhoneWarning {
				note = strings.TrimSpace("phone not seen for 12 days: open WhatsApp on it soon. " + note)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", names[d.WorkerID], d.Status, seen, note)
		}
		return tw.Flush()
	})
}

func (c *cli) cmdWAUnlink(ctx context.Context, args []string) error {
	fs := c.flags("wa unlink", "wa unlink --worker USERNAME")
	worker := fs.String("worker", "", "username of the worker whose device is unlinked")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *worker == "" {
		return usageError("--worker is required")
	}
	return c.withWhatsApp(ctx, func(svc *incident.Service, mgr *wa.Manager) error {
		id, err := workerID(ctx, svc, *worker)
		if err != nil {
			return err
		}
		err = mgr.Unlink(ctx, id)
		if errors.Is(err, wa.ErrUnlinkPending) {
			fmt.Fprintf(c.stdout, "the running Tresor service holds the WhatsApp device of %q; it unlinks it within a minute (see tresor wa devices)\n", *worker)
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "unlinked the WhatsApp device of %q\n", *worker)
		return nil
	})
}
