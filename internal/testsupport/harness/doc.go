// Package harness is the one test harness of the HTTP and browser tests:
// the real server stack wired as cmd/inkpass/wire.go wires it (Wire, or
// NewServer on httptest at 127.0.0.1) over a real SQLite file, with options
// for clients, the second factor, passkeys, logs, limits, metrics, the
// single-use links' mail outbox and the branding service; a
// relying party on go-oidc and golang.org/x/oauth2 that verifies signatures
// (RP, Flow); an HTTP user agent with a cookie jar and form helpers
// (Browser); headless Chromium through chromedp (Chrome, ChromeEnv), which
// fails under CI=true when Chromium is missing and skips elsewhere; the
// clock (testsupport.OffsetClock) and log capture (Options.LogTo).
//
// Like its parent testsupport, it is imported by _test.go files only; a test
// of package web cannot import it (it imports web), so the tests that use it
// are external (package web_test).
package harness
