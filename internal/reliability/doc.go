// Package reliability is the reliability suite behind `make reliability`. It
// holds no production code: its tests, built only with the `reliability` build
// tag, build the real inkpass binary and drive it as separate processes
// against real SQLite files, over HTTP on 127.0.0.1 only.
//
// The scenarios are: kill -9 under mixed write load (integrity and
// acknowledged writes after each restart); concurrent admin CLI writes while
// the server runs (no lost update, the last admin survives); a second process
// holding write transactions on the same file (no 500s, 503s only beyond the
// busy budget, no lost writes); an adopted studio database with odd rows; and
// a full disk on a small tmpfs, where the machine allows mounting one. Each
// scenario logs one "FIGURE" line that `make reliability` prints at the end.
//
// `make test` does not run it: without the build tag the package has no tests.
// The fuzz targets of the parsers that take untrusted input live next to those
// parsers (fuzz_test.go in internal/oidc, internal/password, internal/config);
// `make reliability` runs each of them briefly.
package reliability
