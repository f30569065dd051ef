package main

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/tresor-evidence/tresor/vault/threshold"
)

// thresholdVaultCommands are the vault subcommands of threshold custody.
func thresholdVaultCommands() map[string]command {
	return map[string]command{
		"combine":        {"join K holders' keys for the standard age command (stdout only)", (*cli).cmdVaultCombine},
		"key-from-paper": {"turn a typed paper backup back into a holder file", (*cli).cmdVaultKeyFromPaper},
	}
}

// cmdVaultCombine prints K holders' keys as one identity for the standard
// age command and the age-plugin-tresor plugin, which sees one identity
// per plugin session and so cannot join holders given as separate -i
// flags. The combined identity opens bundles alone: it goes to standard
// output only, never to a file.
func (c *cli) cmdVaultCombine(ctx context.Context, args []string) error {
	var identities multiFlag
	fs := c.flags("vault combine", "vault combine --identity A --identity B [...]\n\n"+
		"Writes the holders' keys as one identity to standard output for the moment of\n"+
		"opening, never to a file:\n\n"+
		"  age -d -i <(tresor vault combine --identity A --identity B) BUNDLE | tar -x\n\n"+
		"(needs age-plugin-tresor on PATH). Passphrases of protected holder files are\n"+
		"asked for on the terminal, or read one line per file from standard input.")
	fs.Var(&identities, "identity", "a holder's identity `FILE` (repeat for each holder)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError("no arguments expected; give each holder with --identity")
	}
	if f, ok := c.stdout.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			return fmt.Errorf("refusing to write a combined key into a file: it alone opens every bundle; use it directly, as in age -d -i <(tresor vault combine …)")
		}
		// On screen it would stay in the scrollback and be seen.
		if term.IsTerminal(int(f.Fd())) {
			return fmt.Errorf("refusing to show a combined key on the screen: pass it straight to age, as in age -d -i <(tresor vault combine …)")
		}
	}
	ids, _, err := c.readIdentities(identities)
	if err != nil {
		return err
	}
	var holders []*threshold.Identity
	for _, id := range ids {
		t, ok := id.(*threshold.Identity)
		if !ok {
			return fmt.Errorf("only holder keys (AGE-PLUGIN-TRESOR-1…) can be combined")
		}
		holders = append(holders, t)
	}
	combined, err := threshold.Combine(holders...)
	if err != nil {
		return err
	}
	if err := combined.Complete(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, combined)
	return nil
}
