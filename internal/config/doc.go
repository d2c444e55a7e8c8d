// Package config reads config.yaml and the INKPASS_* environment overrides into
// one Config, and validates it, reporting every bad option by name at once.
//
// It knows nothing of the other packages: cmd/inkpass turns a Config into each
// component's own options.
package config
