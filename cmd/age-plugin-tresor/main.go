// Command age-plugin-tresor lets the standard age command open (and seal
// to) Tresor's threshold recipients, so that bundles stay readable
// without Tresor:
//
//	age -d -i <(tresor vault combine --identity A --identity B) BUNDLE | tar -x
//
// The age CLI starts one plugin session per identity, so two holder files
// given as two -i flags never meet in one plugin process: each alone is
// one holder short. `tresor vault combine` joins K holders into one
// identity, on standard output only. The plugin keeps nothing on disk.
//
// Guarantees: the same as package vault/threshold (K holders open, K−1
// never; a changed share stanza is refused; a substituted share fails
// age's header MAC), since the plugin is a thin shell around it.
package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"filippo.io/age"
	"filippo.io/age/plugin"

	"github.com/tresor-evidence/tresor/vault/threshold"
)

func main() {
	os.Exit(run())
}

func run() int {
	p, err := plugin.New(threshold.PluginName)
	if err != nil {
		os.Stderr.WriteString("age-plugin-tresor: " + err.Error() + "\n")
		return 1
	}
	p.HandleRecipient(func(data []byte) (age.Recipient, error) {
		return threshold.ParseRecipientData(data, rand.Reader)
	})
	p.HandleIdentity(func(data []byte) (age.Identity, error) {
		id, err := threshold.ParseIdentityData(data)
		if err != nil {
			return nil, err
		}
		return hinted{id}, nil
	})
	return p.Main()
}

// hinted adds to a shortage of holders how to give them together.
type hinted struct{ *threshold.Identity }

func (h hinted) Unwrap(stanzas []*age.Stanza) ([]byte, error) {
	key, err := h.Identity.Unwrap(stanzas)
	if errors.Is(err, threshold.ErrNotEnoughHolders) {
		return nil, fmt.Errorf("%w; age gives each -i file to the plugin alone, so join the holders into one identity: age -d -i <(tresor vault combine --identity A --identity B) FILE", err)
	}
	return key, err
}
