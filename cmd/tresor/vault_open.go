package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tresor-evidence/tresor/vault"
)

// openStaging is the folder inside the output directory where `vault
// open` writes decrypted parts until the whole bundle is verified. Its
// presence marks a run that did not finish: one killed (SIGKILL, power
// loss) leaves decrypted evidence there, which the next run into the same
// directory removes, saying so.
const openStaging = ".tresor-open-partial"

func (c *cli) cmdVaultOpen(ctx context.Context, args []string) (retErr error) {
	fs := c.flags("vault open", "vault open --identity FILE [--identity FILE…] --operator USERNAME [--offline] [-o DIR] [--data DIR] ID\n\n"+
		"Decrypted parts are written into DIR/"+openStaging+" and get their names in DIR only once\n"+
		"the whole bundle is verified. A run that was killed leaves that folder behind: the next run\n"+
		"into DIR removes it first and says so.")
	var identities multiFlag
	fs.Var(&identities, "identity", "decrypt with the identity in `FILE`; repeat it for each holder of a threshold key")
	out := fs.String("o", "", "write manifest.json and the parts into `DIR` (default ./ID)")
	// Every opening is recorded (vault_open_record.go).
	operator := fs.String("operator", "", "your Tresor `USERNAME`, recorded in the audit log")
	offline := fs.Bool("offline", false, "open without the database and print an opening record for 'tresor audit import-opening'")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := needIDs(fs, 1, 1)
	if err != nil {
		return err
	}
	id := ids[0]
	idents, keys, err := c.readIdentities(identities)
	if err != nil {
		return err
	}
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	rec, err := c.newOpeningRecorder(ctx, vf, *offline, *operator, keys)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rec.close(); retErr == nil {
			retErr = cerr
		}
	}()
	dir := *out
	if dir == "" {
		dir = id
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create output directory: %w", err)
	}
	unlock, err := lockOpenDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := c.removeOpenLeftovers(dir); err != nil {
		return err
	}
	staging := filepath.Join(dir, openStaging)
	if err := os.Mkdir(staging, 0o700); err != nil {
		return fmt.Errorf("failed to create %s: %w", staging, err)
	}
	cleanup := func() error {
		if err := os.RemoveAll(staging); err != nil {
			return fmt.Errorf("failed to remove decrypted parts in %s (remove it by hand): %w", staging, err)
		}
		return nil
	}
	type written struct{ tmp, final string }
	var files []written
	m, err := v.Open(ctx, id, idents, func(p vault.PartInfo, r io.Reader) error {
		final, err := safeJoin(dir, p.Name)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(final); err == nil {
			return fmt.Errorf("%s already exists", final)
		}
		tmp := filepath.Join(staging, fmt.Sprintf("part-%d", len(files)))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		files = append(files, written{tmp, final})
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	if err != nil {
		return errors.Join(err, cleanup())
	}
	// The verified manifest, in the bundle's own manifest.json format.
	manifest, err := vault.MarshalManifest(m)
	if err != nil {
		return errors.Join(err, cleanup())
	}
	if err := rec.record(ctx, id, m.IncidentID); err != nil {
		return errors.Join(err, cleanup())
	}
	mpath := filepath.Join(dir, "manifest.json")
	if err := writeNewFile(mpath, string(manifest)); err != nil {
		return errors.Join(fmt.Errorf("failed to write manifest: %w", err), cleanup())
	}
	for _, f := range files {
		// Link, not rename: it never replaces a file of that name.
		if err := os.Link(f.tmp, f.final); err != nil {
			return errors.Join(fmt.Errorf("failed to write part: %w", err), cleanup())
		}
	}
	if err := cleanup(); err != nil {
		return err
	}
	if *offline {
		fmt.Fprintf(c.stderr, "%s: %d part(s) verified and written to %s\n", id, len(m.Parts), dir)
		return rec.finish(id, m.IncidentID)
	}
	fmt.Fprintf(c.stdout, "%s: %d part(s) verified and written to %s\n", id, len(m.Parts), dir)
	return nil
}

// removeOpenLeftovers removes what an interrupted `vault open` left in
// dir: the staging folder, and the temporary files earlier versions wrote
// into dir itself (.tresor-open-*). It says what it removed.
func (c *cli) removeOpenLeftovers(dir string) error {
	n := 0
	staging := filepath.Join(dir, openStaging)
	if _, err := os.Lstat(staging); err == nil {
		err := filepath.WalkDir(staging, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return err
		})
		if err == nil {
			err = os.RemoveAll(staging)
		}
		if err != nil {
			return fmt.Errorf("failed to remove the leftovers of an interrupted 'vault open' in %s (remove it by hand): %w", staging, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("failed to read output directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tresor-open-") && e.Type().IsRegular() {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("failed to remove the leftover %s of an interrupted 'vault open': %w", e.Name(), err)
			}
			n++
		}
	}
	if n > 0 {
		fmt.Fprintf(c.stderr, "tresor: removed %d file(s) of decrypted evidence that an interrupted 'vault open' left in %s\n", n, dir)
	}
	return nil
}

// safeJoin joins a part name to dir, refusing anything that could leave it.
func safeJoin(dir, name string) (string, error) {
	if !filepath.IsLocal(name) || filepath.Base(name) != name || name == openStaging {
		return "", fmt.Errorf("%w: part name %q would leave %s", vault.ErrIntegrity, name, dir)
	}
	return filepath.Join(dir, name), nil
}

func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", data)
	return err
}
