package config_test

import (
	"net"
	"testing"

	"github.com/inkpass/inkpass/internal/config"
)

// TestLoad_MetricsNeverOnTheMainListener: /metrics counts sign-ins as they
// happen, so it is served on a listener of its own, loopback unless the
// operator names another address; the old "" (main listener) gets the
// loopback default too.
func TestLoad_MetricsNeverOnTheMainListener(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"no metrics section", "", config.DefaultMetricsListen},
		{"the old empty listen", "metrics:\n  listen: \"\"\n", config.DefaultMetricsListen},
		{"the shipped config", "", ""},
		{"a private address", "metrics:\n  listen: \"10.0.0.5:9464\"\n", "10.0.0.5:9464"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.yaml)
			if tc.name == "the shipped config" {
				path, tc.want = shippedConfig, config.DefaultMetricsListen
			}
			c, err := config.Load(path, true, noEnv)
			if err != nil {
				t.Fatal(err)
			}
			if c.Metrics.Listen != tc.want || c.Metrics.Listen == c.Listen {
				t.Errorf("metrics.listen = %q (listen %q), want %q", c.Metrics.Listen, c.Listen, tc.want)
			}
		})
	}
	host, _, err := net.SplitHostPort(config.DefaultMetricsListen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("DefaultMetricsListen %q is not a loopback address", config.DefaultMetricsListen)
	}
	if _, err := config.Load(writeConfig(t, "listen: \"127.0.0.1:8080\"\nmetrics:\n  listen: \"127.0.0.1:8080\"\n"), true, noEnv); err == nil {
		t.Error("metrics.listen equal to listen was accepted")
	}
}
