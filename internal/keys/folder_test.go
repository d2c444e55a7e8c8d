package keys_test

import (
	"testing"

	"github.com/inkpass/inkpass/internal/keys"
	"github.com/inkpass/inkpass/internal/keys/keystoretest"
)

// TestFolderStore runs the key store contract on the key folder.
func TestFolderStore(t *testing.T) {
	keystoretest.Run(t, func(t *testing.T) keystoretest.Backing {
		dir := t.TempDir()
		return func(t *testing.T) keys.Store { return keys.NewFolderStore(dir) }
	})
}
