#!/usr/bin/env bash
# inkpass as several servers would run it, on one machine: a private
# PostgreSQL, two `inkpass serve` replicas on it and haproxy in front of them,
# round-robin, each replica checked on /readyz. For trying it out; see
# docs/scaling.md for a real deployment.
#
#   make run-ha                       # or: bash scripts/run-ha.sh
#   open http://localhost:8080/admin  # the studio console, through haproxy
#   Ctrl-C                            # stops all of it
#
#   127.0.0.1:8080   haproxy (the issuer is http://localhost:8080)
#   127.0.0.1:8081   replica a          127.0.0.1:8082   replica b
#   127.0.0.1:8404   haproxy's status page (both replicas UP?)
#   PostgreSQL       127.0.0.1, a free port; data in ./run-ha/pg
#
# Its state stays in ./run-ha/ between runs (PostgreSQL's data, the database
# password, the key-encryption key, configs and logs): the second run starts
# where the first stopped. rm -rf run-ha to start over.
#
# It installs haproxy when it is missing (Debian's package: apt-get, through
# sudo when not root), needs Debian's postgresql package (the same way), and
# builds bin/inkpass. As root, PostgreSQL runs as the user postgres.
#
# Environment:
#   HA_PORT                 haproxy's port; the replicas take the next two [8080]
#   INKPASS_ADMIN_PASSWORD  the first admin's password, instead of a random one
#                           printed once
#   SMOKE=1                 check it and stop: in a temporary folder, on free
#                           ports, discovery and sign-ins through haproxy
#                           (cmd/inkpass-load), both replicas answering, no 5xx
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
GO=${GO:-go}
export CGO_ENABLED=1
export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}

say() { printf 'run-ha: %s\n' "$*"; }
die() {
	printf 'run-ha: %s\n' "$*" >&2
	exit 1
}

# --- what it needs --------------------------------------------------------
need=()
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || [[ -n ${INKPASS_PG_BIN:-} ]] || need+=(postgresql)
if [[ ${#need[@]} -gt 0 ]]; then
	say "installing ${need[*]} (Debian packages)"
	sudo=""
	if [[ $(id -u) -ne 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "${need[*]} missing and no sudo: apt-get install ${need[*]} as root"
		sudo=sudo
	fi
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${need[@]}" >/dev/null
fi
# Debian starts a cluster and a haproxy service on installation; ours are
# private and on other ports, so those do not matter here.

say "building bin/inkpass"
"$GO" build -o bin/inkpass ./cmd/inkpass
"$GO" build -o bin/inkpass-load ./cmd/inkpass-load
inkpass=$root/bin/inkpass
load=$root/bin/inkpass-load

# shellcheck source=scripts/pg-lib.sh
source "$root/scripts/pg-lib.sh"

# --- where, and on which ports --------------------------------------------
if [[ -n ${SMOKE:-} ]]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/inkpass-run-ha.XXXXXX")
	lb_port=$("$load" -free-port) a_port=$("$load" -free-port) b_port=$("$load" -free-port) stats_port=$("$load" -free-port)
	export INKPASS_ADMIN_PASSWORD="smoke-$RANDOM-$RANDOM-$RANDOM"
else
	dir=$root/run-ha
	lb_port=${HA_PORT:-8080}
	a_port=$((lb_port + 1)) b_port=$((lb_port + 2)) stats_port=8404
fi
for p in "$lb_port" "$a_port" "$b_port" "$stats_port"; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
		die "something already listens on 127.0.0.1:$p (make run?); stop it or set HA_PORT"
	fi
done
mkdir -p "$dir"
# As root, the user postgres must reach its data folder inside this one.
chmod 711 "$dir"
issuer=http://localhost:$lb_port

# --- stopping everything, however we leave --------------------------------
pids=()
stopping=""
cleanup() {
	[[ -n $stopping ]] && return
	stopping=1
	trap - INT TERM
	if [[ ${#pids[@]} -gt 0 ]]; then
		say "stopping haproxy and the replicas"
		kill -TERM "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
	fi
	say "stopping PostgreSQL"
	pg_stop
	if [[ -n ${SMOKE:-} ]]; then
		rm -rf "$dir"
	else
		say "its data stays in $dir (rm -rf run-ha to start over)"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- secrets, made once ---------------------------------------------------
umask 077
# The database password (PostgreSQL's superuser here; in production a role of
# its own) and the key-encryption key that seals the signing keys in the
# database. The KEK is never in the database: every replica gets it, and it
# is backed up apart from the database's backups.
[[ -s $dir/db.password ]] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$dir/db.password"
[[ -s $dir/kek ]] || head -c 32 /dev/urandom | base64 >"$dir/kek"
INKPASS_KEY_ENCRYPTION_KEY=$(cat "$dir/kek")
export INKPASS_KEY_ENCRYPTION_KEY

# --- PostgreSQL -----------------------------------------------------------
pg_port=$("$load" -free-port)
fresh_db=""
[[ -s $dir/pg/pgdata/PG_VERSION ]] || fresh_db=1
say "starting PostgreSQL on 127.0.0.1:$pg_port (data in $dir/pg/pgdata)"
pg_start "$dir/pg" "$pg_port" "$dir/db.password"
if [[ -n $fresh_db ]]; then
	PGPASSWORD=$(cat "$dir/db.password") pg_createdb inkpass
fi

# --- the two replicas -----------------------------------------------------
# The same issuer, database, password file and KEK; their own listen port.
# haproxy is the trusted proxy whose X-Forwarded-For names the client.
for r in a b; do
	port=$a_port
	[[ $r == b ]] && port=$b_port
	cat >"$dir/config-$r.yaml" <<EOF
# Written by scripts/run-ha.sh on each start.
listen: "127.0.0.1:$port"
issuer: "$issuer"
database: "postgres://postgres@127.0.0.1:$pg_port/inkpass?sslmode=disable"
database_password_file: "$dir/db.password"
keys_dir: "$dir/keys-$r"
keys:
  store: database
throttle:
  trusted_proxies: ["127.0.0.1/32"]
log:
  format: text
  level: info
EOF
done
start_replica() {
	local r=$1 port=$2
	"$inkpass" serve --config "$dir/config-$r.yaml" >"$dir/inkpass-$r.log" 2>&1 &
	pids+=($!)
	"$load" -url "http://127.0.0.1:$port" -wait-ready 60s >/dev/null 2>&1 ||
		{ tail -n 20 "$dir/inkpass-$r.log" >&2; die "replica $r did not get ready; its log is $dir/inkpass-$r.log"; }
}
say "starting replica a on 127.0.0.1:$a_port"
# a alone first: on a fresh database it creates the schema, the first
# signing key and the first admin.
start_replica a "$a_port"
say "starting replica b on 127.0.0.1:$b_port"
start_replica b "$b_port"

# --- haproxy --------------------------------------------------------------
cat >"$dir/haproxy.cfg" <<EOF
# Written by scripts/run-ha.sh on each start.
global
    maxconn 2000
defaults
    mode http
    option forwardfor
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend inkpass
    bind 127.0.0.1:$lb_port
    default_backend replicas
backend replicas
    balance roundrobin
    # A replica whose /readyz fails (database unreachable, shutting down)
    # gets no traffic until it answers 200 again.
    option httpchk GET /readyz
    http-check expect status 200
    server a 127.0.0.1:$a_port check inter 2s fall 2 rise 1
    server b 127.0.0.1:$b_port check inter 2s fall 2 rise 1
listen status
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /
    stats refresh 5s
EOF
haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy refused $dir/haproxy.cfg"
say "starting haproxy on 127.0.0.1:$lb_port"
haproxy -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
pids+=($!)
"$load" -url "http://127.0.0.1:$lb_port" -wait-ready 30s >/dev/null 2>&1 ||
	{ tail -n 20 "$dir/haproxy.log" >&2; die "haproxy does not answer; its log is $dir/haproxy.log"; }

# --- the smoke test -------------------------------------------------------
if [[ -n ${SMOKE:-} ]]; then
	say "smoke test: discovery and sign-ins through haproxy"
	cfg=$dir/config-a.yaml
	"$inkpass" client add --config "$cfg" --id smoke --name "run-ha smoke test" --public --first-party \
		--redirect-uri http://127.0.0.1:1/cb --scope openid --scope profile --scope offline_access \
		--grant authorization_code --grant refresh_token >/dev/null
	printf '%s\n' "$INKPASS_ADMIN_PASSWORD" >"$dir/admin.password"
	a_before=$(grep -c 'route=' "$dir/inkpass-a.log" || true)
	b_before=$(grep -c 'route=' "$dir/inkpass-b.log" || true)
	ok=1
	"$load" -url "http://127.0.0.1:$lb_port" -scenario discovery -c 2 -n 20 -fail-on-error | grep '^RESULT' || ok=""
	"$load" -url "http://127.0.0.1:$lb_port" -scenario login -c 2 -n 6 -ref=false -public-client-id smoke \
		-redirect-uri http://127.0.0.1:1/cb -username admin -password-file "$dir/admin.password" -fail-on-error | grep '^RESULT' || ok=""
	"$load" -url "http://127.0.0.1:$lb_port" -scenario refresh -c 2 -n 20 -ref=false -public-client-id smoke \
		-redirect-uri http://127.0.0.1:1/cb -username admin -password-file "$dir/admin.password" -fail-on-error | grep '^RESULT' || ok=""
	a_after=$(grep -c 'route=' "$dir/inkpass-a.log" || true)
	b_after=$(grep -c 'route=' "$dir/inkpass-b.log" || true)
	say "replica a answered $((a_after - a_before)) requests, replica b $((b_after - b_before))"
	if [[ $((a_after - a_before)) -lt 5 || $((b_after - b_before)) -lt 5 ]]; then
		say "haproxy did not spread the requests over both replicas"
		ok=""
	fi
	if ! grep -q 'created the first admin' "$dir/inkpass-a.log"; then
		say "replica a did not create the first admin"
		ok=""
	fi
	[[ -n $ok ]] || die "smoke test FAILED (logs in $dir are removed on exit; rerun without SMOKE to keep them)"
	say "smoke test passed"
	exit 0
fi

# --- tell the newcomer ----------------------------------------------------
echo
echo "  inkpass on PostgreSQL, two replicas behind haproxy:"
echo
echo "    issuer      $issuer   (discovery: $issuer/.well-known/openid-configuration)"
echo "    console     $issuer/admin"
echo "    replicas    a 127.0.0.1:$a_port (pid ${pids[0]}), b 127.0.0.1:$b_port (pid ${pids[1]}); logs $dir/inkpass-{a,b}.log"
echo "    haproxy     127.0.0.1:$lb_port round-robin, health check GET /readyz; status http://127.0.0.1:$stats_port/"
echo "    PostgreSQL  127.0.0.1:$pg_port database inkpass (pid $PG_PID); password in $dir/db.password"
echo "    KEK         $dir/kek (seals the signing keys in the database; back it up apart from the database)"
echo
pw=$(grep -A2 'one-time password' "$dir/inkpass-a.log" | tail -n 1 | tr -d ' ' || true)
if grep -q 'from INKPASS_ADMIN_PASSWORD' "$dir/inkpass-a.log"; then
	echo "    admin       user \"admin\", the password from INKPASS_ADMIN_PASSWORD"
elif [[ -n $pw ]]; then
	echo "    admin       user \"admin\", one-time password: $pw"
	echo "                (shown on the first start only; change it at $issuer/account)"
else
	echo "    admin       user \"admin\" (created on an earlier run; inkpass user passwd admin --config $dir/config-a.yaml to reset)"
fi
echo
echo "  Try: stop one replica (kill ${pids[1]}) and sign in again; haproxy sends everything to the other."
echo "  Ctrl-C stops it all."
echo
# Until Ctrl-C, or until haproxy ends by itself. A replica may stop (try it):
# haproxy's health check takes it out of the rotation.
set +e
wait "${pids[2]}"
say "haproxy ended by itself; stopping the rest (logs in $dir)"
exit 1
