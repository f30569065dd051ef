package vault_test

import (
	"testing"

	"github.com/tresor-evidence/tresor/vault"
	"github.com/tresor-evidence/tresor/vault/vaulttest"
)

func TestFSBackend(t *testing.T) {
	vaulttest.TestBackend(t, func(t *testing.T) vault.Backend {
		b, err := vault.NewFSBackend(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}

func TestMemBackend(t *testing.T) {
	vaulttest.TestBackend(t, func(t *testing.T) vault.Backend { return vaulttest.NewMemBackend() })
}
