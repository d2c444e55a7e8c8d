package config_test

import (
	"reflect"
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
