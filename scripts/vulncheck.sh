#!/usr/bin/env bash
# govulncheck for `make lint`: the online vulnerability database when it can
# be reached, otherwise an offline copy built from the golang.org/x/vulndb
# module (its data/osv folder, indexed by its own cmd/indexdb), otherwise a
# clear message and no failure: an unreachable database is not a finding.
#
# Environment (defaults in brackets):
#   GO              the go command [go]
#   GOVULNCHECK     [golang.org/x/vuln/cmd/govulncheck@v1.9.0]
#   VULNDB_VERSION  the golang.org/x/vulndb version to index offline
#                   [v0.0.0-20261105234957-e22db6528018]
#   VULNDB_DIR      where the offline database is kept
#                   [${XDG_CACHE_HOME:-$HOME/.cache}/inkpass/vulndb-$VULNDB_VERSION]
#
# Exit status: govulncheck's (0 clean, 3 vulnerabilities found) or 0 when it
# had to be skipped.
set -u

GO=${GO:-go}
GOVULNCHECK=${GOVULNCHECK:-golang.org/x/vuln/cmd/govulncheck@v1.9.0}
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
VULNDB_DIR=${VULNDB_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/inkpass/vulndb-$VULNDB_VERSION}

out=$("$GO" run "$GOVULNCHECK" ./... 2>&1)
rc=$?
if [ $rc -eq 0 ] || ! grep -q "fetching vulnerabilities" <<<"$out"; then
	printf '%s\n' "$out"
	exit $rc
fi

echo "govulncheck: the online vulnerability database cannot be reached:"
grep "fetching vulnerabilities" <<<"$out" | head -1 | sed 's/^/  /'
if [ ! -f "$VULNDB_DIR/index/db.json" ]; then
	echo "govulncheck: building an offline database from golang.org/x/vulndb@$VULNDB_VERSION in $VULNDB_DIR"
	src=$("$GO" mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" 2>/dev/null | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	if [ -z "$src" ] || [ ! -d "$src/data/osv" ]; then
		echo "govulncheck: SKIPPED: golang.org/x/vulndb@$VULNDB_VERSION could not be downloaded either; no vulnerability check was made."
		exit 0
	fi
	tmp="$VULNDB_DIR.tmp.$$"
	rm -rf "$tmp"
	if ! "$GO" run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$tmp"; then
		rm -rf "$tmp"
		echo "govulncheck: SKIPPED: the offline database could not be built; no vulnerability check was made."
		exit 0
	fi
	mkdir -p "$(dirname "$VULNDB_DIR")" && rm -rf "$VULNDB_DIR" && mv "$tmp" "$VULNDB_DIR"
fi
echo "govulncheck: using the offline database of golang.org/x/vulndb@$VULNDB_VERSION (findings published after it are missed)"
exec "$GO" run "$GOVULNCHECK" -db "file://$VULNDB_DIR" ./...
