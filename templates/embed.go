// Package templates holds inkpass's server-rendered HTML pages and the one
// stylesheet they share. They are embedded in the binary, so a studio deploys a
// single file; internal/web parses them once at start-up.
//
// layout.html defines the document every page shares ("layout"); each other
// *.html file is one page named after its file (login.html is page "login") and
// defines "title" and "content". static/ is served under /static/.
//
// Pages load nothing from another origin and use no inline script, handler or
// style: the Content-Security-Policy set by internal/web forbids all three. The
// one script, static/webauthn.js (the passkey ceremonies of the second factor's
// page and the account page), is a file of our own; every page works without it.
//
// console/ holds the studio console's pages (internal/console parses them):
// console/layout.html is their shared document, each other file one page.
package templates

import "embed"

// FS holds every page template and the static assets.
//
//go:embed *.html static console
var FS embed.FS
