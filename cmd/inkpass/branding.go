package main

import (
	"fmt"

	"github.com/inkpass/inkpass/internal/branding"
)

// newBranding builds the studio's look: the config's studio_name, logo_url
// and branding section as defaults, the console's overrides from the
// database over them. Build one per process and hand the same Service to
// the pages and the console, so that a change shows on the next page view;
// another process's change shows within branding.DefaultRecheck.
func newBranding(a *app) (*branding.Service, error) {
	svc, err := branding.New(a.db, branding.Defaults{
		Name:           a.cfg.StudioName,
		AccentColor:    a.cfg.Branding.AccentColor,
		SupportContact: a.cfg.Branding.SupportContact,
		LogoURL:        a.cfg.LogoURL,
	}, branding.Options{Logger: a.log})
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return svc, nil
}
