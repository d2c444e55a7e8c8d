package main

import (
	"strings"
	"testing"
)

// TestCheck_BrandingAsServe: check refuses the branding defaults serve
// would refuse, not only those config's first pass catches; good ones pass.
func TestCheck_BrandingAsServe(t *testing.T) {
	for _, contact := range []string{"a@b@c", "mailto:a@b.test?bcc=c@d.test", "https://"} {
		c := newCLI(t, "studio.db", "branding:\n  support_contact: \""+contact+"\"\n")
		code, out, errOut := c.run(t, nil, "check")
		if code == 0 || !strings.Contains(errOut, "branding.support_contact") {
			t.Errorf("check with support_contact %q: exit %d, stdout %q, stderr %q; want refused", contact, code, out, errOut)
		}
	}
	c := newCLI(t, "studio.db", "branding:\n  accent_color: \"#1E90FF\"\n  support_contact: \"help@studio.example\"\n")
	if out := c.ok(t, "", "check"); !strings.Contains(out, "config      ok") {
		t.Errorf("check with good branding: %q", out)
	}
}
