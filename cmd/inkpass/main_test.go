package main

import (
	"os"
	"testing"

	"github.com/inkpass/inkpass/internal/testsupport/pgtest"
)

// TestMain stops the PostgreSQL server that the PostgreSQL tests start
// (pgtest), if any did.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
