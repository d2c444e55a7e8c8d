package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/inkpass/inkpass/internal/config"
)

// TestLoad_DatabaseWaits covers database_busy_timeout and
// database_write_budget: the shipped file shows the defaults, the file and
// the environment set them, and bad values are refused by name.
func TestLoad_DatabaseWaits(t *testing.T) {
	t.Run("the shipped config shows the defaults", func(t *testing.T) {
		c, err := config.Load(shippedConfig, true, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		d := config.Default()
		if c.DatabaseBusyTimeout != d.DatabaseBusyTimeout || c.DatabaseWriteBudget != d.DatabaseWriteBudget {
			t.Errorf("shipped = %v %v, defaults %v %v", c.DatabaseBusyTimeout.D(), c.DatabaseWriteBudget.D(), d.DatabaseBusyTimeout.D(), d.DatabaseWriteBudget.D())
		}
		if d.DatabaseBusyTimeout.D() != 5*time.Second || d.DatabaseWriteBudget.D() != 10*time.Second {
			t.Errorf("defaults = %v %v, want 5s 10s", d.DatabaseBusyTimeout.D(), d.DatabaseWriteBudget.D())
		}
	})
	t.Run("the file sets them and the environment overrides the file", func(t *testing.T) {
		path := writeConfig(t, "database_busy_timeout: 2s\ndatabase_write_budget: 20s\n")
		c, err := config.Load(path, true, noEnv)
		if err != nil {
			t.Fatal(err)
		}
		if c.DatabaseBusyTimeout.D() != 2*time.Second || c.DatabaseWriteBudget.D() != 20*time.Second {
			t.Errorf("from the file: %v %v, want 2s 20s", c.DatabaseBusyTimeout.D(), c.DatabaseWriteBudget.D())
		}
		c, err = config.Load(path, true, envMap(map[string]string{
			config.EnvDatabaseBusyTimeout: "50ms", config.EnvDatabaseWriteBudget: "300ms",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.DatabaseBusyTimeout.D() != 50*time.Millisecond || c.DatabaseWriteBudget.D() != 300*time.Millisecond {
			t.Errorf("from the environment: %v %v, want 50ms 300ms", c.DatabaseBusyTimeout.D(), c.DatabaseWriteBudget.D())
		}
	})
	for _, tc := range []struct {
		name, yaml string
		env        map[string]string
		options    []string
	}{
		{"a zero busy timeout", "database_busy_timeout: 0s", nil, []string{"database_busy_timeout"}},
		{"a write budget of a minute, past the login page's wait", "database_write_budget: 1m", nil, []string{"database_write_budget"}},
		{"an environment value that is not a duration", "", map[string]string{config.EnvDatabaseWriteBudget: "ten"}, []string{"database_write_budget (INKPASS_DATABASE_WRITE_BUDGET)"}},
	} {
		t.Run(tc.name+" is refused by name", func(t *testing.T) {
			_, err := config.Load(writeConfig(t, tc.yaml+"\n"), true, envMap(tc.env))
			if err == nil {
				t.Fatal("Load accepted the value")
			}
			if got := problemsOf(t, err); !reflect.DeepEqual(got, tc.options) {
				t.Errorf("problems name %q, want %q", got, tc.options)
			}
		})
	}
}

// A PostgreSQL URL is kept as written (a SQLite path is resolved against the
// config's folder), its password comes from the environment or a file
// beside the config, and a URL without a host is refused by name.
func TestLoad_PostgresDatabase(t *testing.T) {
	const url = "postgres://inkpass@db.internal:5432/studio?sslmode=verify-full"
	path := writeConfig(t, "database: "+url+"\ndatabase_password_file: db.pw\n")
	c, err := config.Load(path, true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Database != url || !config.IsPostgresURL(c.Database) {
		t.Errorf("database = %q, want the URL unchanged", c.Database)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "db.pw"), []byte("from-file\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if pw, err := c.DatabasePassword(noEnv); err != nil || pw != "from-file" {
		t.Errorf("password from file = %q, %v; want its first line", pw, err)
	}
	env := envMap(map[string]string{config.EnvDatabasePassword: "from-env"})
	if pw, err := c.DatabasePassword(env); err != nil || pw != "from-env" {
		t.Errorf("password with the variable set = %q, %v; want the variable's", pw, err)
	}

	sqlite := writeConfig(t, "database: data/inkpass.db\n")
	c, err = config.Load(sqlite, true, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(sqlite), "data", "inkpass.db"); c.Database != want || config.IsPostgresURL(c.Database) {
		t.Errorf("database = %q, want %q", c.Database, want)
	}

	_, err = config.Load(writeConfig(t, "database: postgres:///studio\n"), true, noEnv)
	if err == nil || !strings.Contains(err.Error(), "database: a PostgreSQL URL must read") {
		t.Errorf("a URL without a host: err = %v", err)
	}
}
