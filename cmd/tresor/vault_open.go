package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/tresor-evidence/tresor/vault"
)

func (c *cli) cmdVaultOpen(ctx context.Context, args []string) error {
	fs := c.flags("vault open", "vault open --identity FILE [-o DIR] [--data DIR] ID")
	identity := fs.String("identity", "", "decrypt with the identity in `FILE`")
	out := fs.String("o", "", "write manifest.json and the parts into `DIR` (default ./ID)")
	vf := c.vaultFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	ids, err := needIDs(fs, 1, 1)
	if err != nil {
		return err
	}
	id := ids[0]
	idents, err := readIdentity(*identity)
	if err != nil {
		return err
	}
	v, err := c.openVault(ctx, vf, false)
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = id
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("failed to create output directory: %w", err)
	}
	// Parts go to temporary files and get their names only once the whole
	// bundle is verified; on any error every temporary file is removed.
	type written struct{ tmp, final string }
	var files []written
	cleanup := func() error {
		var errs []error
		for _, f := range files {
			if err := os.Remove(f.tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	m, err := v.Open(ctx, id, idents, func(p vault.PartInfo, r io.Reader) error {
		final, err := safeJoin(dir, p.Name)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(final); err == nil {
			return fmt.Errorf("%s already exists", final)
		}
		f, err := os.CreateTemp(dir, ".tresor-open-*")
		if err != nil {
			return err
		}
		files = append(files, written{f.Name(), final})
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
	mpath := filepath.Join(dir, "manifest.json")
	if err := writeNewFile(mpath, string(manifest)); err != nil {
		return errors.Join(fmt.Errorf("failed to write manifest: %w", err), cleanup())
	}
	for i, f := range files {
		if err := os.Link(f.tmp, f.final); err != nil {
			return errors.Join(fmt.Errorf("failed to write part: %w", err), cleanup())
		}
		files[i].final = ""
	}
	if err := cleanup(); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "%s: %d part(s) verified and written to %s\n", id, len(m.Parts), dir)
	return nil
}

// safeJoin joins a part name to dir, refusing anything that could leave it.
func safeJoin(dir, name string) (string, error) {
	if !filepath.IsLocal(name) || filepath.Base(name) != name {
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
