#!/usr/bin/env bash
# The reliability suite, as `make reliability` runs it (a few minutes on two
# cores):
#
#   1. the scenarios in internal/reliability (build tag `reliability`): the
#      real inkpass binary as separate processes, real SQLite files, HTTP on
#      127.0.0.1 only;
#   2. each fuzz target of a parser that takes untrusted input, for FUZZTIME.
#
# It runs everything, prints each scenario's FIGURE line at the end, and exits
# non-zero if anything failed. A fuzz failure leaves its input under the
# package's testdata/fuzz/ folder, where `go test` replays it.
#
# Environment: GO [go], FUZZTIME per fuzz target [10s].
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-10s}
export CGO_ENABLED=1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/inkpass-reliability.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

echo "== scenarios: go test -tags reliability ./internal/reliability/"
if ! "$GO" test -tags reliability -count=1 -v -timeout 10m ./internal/reliability/ 2>&1 | tee "$tmp/scenarios.log"; then
	failed=1
fi

# One target per invocation: go test allows a single -fuzz pattern at a time.
fuzz_targets=(
	"internal/oidc FuzzParseAuthorize"
	"internal/oidc FuzzTokenForm"
	"internal/oidc FuzzBasicAuth"
	"internal/oidc FuzzIDTokenHint"
	"internal/password FuzzVerify"
	"internal/config FuzzLoad"
)
: >"$tmp/fuzz-figures"
for entry in "${fuzz_targets[@]}"; do
	read -r pkg target <<<"$entry"
	echo
	echo "== fuzz $target ($pkg, $FUZZTIME)"
	if "$GO" test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "./$pkg/" >"$tmp/$target.log" 2>&1; then
		execs=$(grep -o 'execs: [0-9]*' "$tmp/$target.log" | tail -n 1 | cut -d' ' -f2)
		echo "FIGURE fuzz $target: ${execs:-?} inputs in $FUZZTIME, no panic, no failed property" | tee -a "$tmp/fuzz-figures"
	else
		failed=1
		tail -n 30 "$tmp/$target.log"
		echo "FIGURE fuzz $target: FAILED (the input is under $pkg/testdata/fuzz/$target/)" | tee -a "$tmp/fuzz-figures"
	fi
done

echo
echo "== reliability figures"
sed -n 's/.*FIGURE //p' "$tmp/scenarios.log" "$tmp/fuzz-figures"
grep -E '^\s*--- SKIP' -A1 "$tmp/scenarios.log" | sed -n 's/^ *[a-z_]*\.go:[0-9]*: /skipped: /p'
echo
echo "== results"
grep -E '^(--- (PASS|FAIL|SKIP)|ok|FAIL)' "$tmp/scenarios.log"
if [[ $failed -ne 0 ]]; then
	echo "reliability: FAILED"
	exit 1
fi
echo "reliability: all passed"
