// Package templates holds inkpass's server-rendered HTML pages and the one
// stylesheet they share. They are embedded in the binary, so a studio deploys a
// single file; internal/web parses them once at start-up.
//
// layout.html defines the document every page shares ("layout"); each other
// *.html file is one page named after its file (login.html is page "login") and
// defines "title" and "content". static/ is served under /static/.
//
// Pages run no JavaScript, load nothing from another origin and use no inline
// style: the Content-Security-Policy set by internal/web forbids all three.
package templates

import "embed"

// FS holds every page template and the static assets.
//
//go:embed *.html static
var FS embed.FS
