// Package interop is the interoperability suite behind `make interop`. It
// holds no production code: its tests, built only with the `interop` build
// tag, build the real inkpass binary, start it on 127.0.0.1 with a throw-away
// config, database and keys, and drive relying parties that nobody here wrote
// through inkpass's real HTML login form:
//
//   - the README's Flask + Authlib example, extracted from README.md and run
//     verbatim;
//   - Apache httpd with mod_auth_openidc (`Require claim role:artist`, claims
//     passed to a backend as headers, back-channel logout);
//   - the openid-client npm package (testdata/openid-client);
//   - oauth2-proxy v7 with `--oidc-groups-claim=role`.
//
// Each relying party signs an artist in, validates the ID token itself, shows
// the `role`, `artist_id` and `artist_name` claims, refreshes, and signs out,
// for an RS256 client and an ES256 one. TestMain prints a table of relying
// party × flow × algorithm at the end.
//
// A relying party that is not installed is skipped with a message, except
// under CI=true, where it fails: scripts/interop-setup.sh installs them.
// `make test` does not run this package: without the build tag it has no tests.
package interop
