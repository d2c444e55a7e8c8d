// Package testsupport holds the small helpers several packages' tests share:
// a settable clock, a clock that is real time plus an offset, a log buffer
// safe for concurrent writers, and the studio fixture database. The server
// harness of the HTTP and browser tests is its subpackage harness.
//
// It is imported by _test.go files only. Production code must not import it:
// it exists so that tests stop copying these helpers, not to give the program
// a fake clock (time comes in through Options.Now and the like).
package testsupport
