#!/usr/bin/env bash
# Installs the relying parties that `make interop` drives (internal/interop),
# where they are missing:
#
#   1. Debian packages: python3-flask, python3-authlib (the README's Flask
#      example), apache2 and libapache2-mod-auth-openidc, and nodejs + npm
#      when there is no node. Only under CI=true (or INTEROP_APT=1): on a
#      developer's machine it names what is missing and leaves the system
#      alone, and the suite skips those relying parties with a message;
#   2. `npm ci` in internal/interop/testdata/openid-client (openid-client as
#      pinned by its package-lock.json), when node_modules is older than the
#      lock file;
#   3. oauth2-proxy OAUTH2_PROXY_VERSION, built with `go install` into
#      bin/interop/ (git-ignored) once, and rebuilt only for another version.
#
# Under CI=true a step that fails fails the script; elsewhere it warns.
# Environment: GO [go], CI, INTEROP_APT.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
OAUTH2_PROXY_VERSION=v7.15.6
ci=${CI:-}
failed=0

fail() {
	echo "interop-setup: $*" >&2
	if [[ $ci == true ]]; then
		failed=1
	fi
}

# 1. Debian packages.
pkgs=()
/usr/bin/python3 -c 'import flask, authlib' >/dev/null 2>&1 || pkgs+=(python3-flask python3-authlib)
command -v apache2 >/dev/null 2>&1 || [[ -x /usr/sbin/apache2 ]] || pkgs+=(apache2)
[[ -f /usr/lib/apache2/modules/mod_auth_openidc.so ]] || pkgs+=(libapache2-mod-auth-openidc)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
if ! command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
	pkgs+=(npm)
fi
if [[ ${#pkgs[@]} -gt 0 ]]; then
	if [[ $ci == true || ${INTEROP_APT:-} == 1 ]]; then
		echo "interop-setup: apt-get install ${pkgs[*]}"
		sudo=""
		[[ $(id -u) -eq 0 ]] || sudo="sudo"
		if ! { $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
			$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${pkgs[@]}" >/dev/null; }; then
			fail "apt-get install ${pkgs[*]} failed"
		fi
	else
		echo "interop-setup: not installed: ${pkgs[*]} (the suite skips what needs them; INTEROP_APT=1 or CI=true installs them with apt-get)"
	fi
fi

# 2. openid-client, pinned by package-lock.json.
rp=internal/interop/testdata/openid-client
if command -v npm >/dev/null 2>&1; then
	if [[ ! -f $rp/node_modules/.package-lock.json || $rp/package-lock.json -nt $rp/node_modules/.package-lock.json ]]; then
		echo "interop-setup: npm ci in $rp"
		(cd "$rp" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in $rp failed"
	fi
else
	fail "npm is missing, so openid-client is not installed"
fi

# 3. oauth2-proxy, built once into bin/interop/.
bin=bin/interop/oauth2-proxy
if ! "$GO" version -m "$bin" 2>/dev/null | grep -q "oauth2-proxy/v7[[:space:]]*$OAUTH2_PROXY_VERSION"; then
	echo "interop-setup: building oauth2-proxy $OAUTH2_PROXY_VERSION into bin/interop/ (once; a minute or two)"
	mkdir -p bin/interop
	GOBIN="$root/bin/interop" CGO_ENABLED=0 "$GO" install "github.com/oauth2-proxy/oauth2-proxy/v7@$OAUTH2_PROXY_VERSION" ||
		fail "go install oauth2-proxy $OAUTH2_PROXY_VERSION failed"
fi

exit $failed
