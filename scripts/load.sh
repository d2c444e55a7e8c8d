#!/usr/bin/env bash
# Load-test a real inkpass over loopback, one scenario at a time.
#
#   scripts/load.sh                                  # every scenario, RS256
#   SCENARIOS="refresh userinfo" ALG=EdDSA scripts/load.sh
#   DURATION=30s CONCURRENCY=32 scripts/load.sh
#
# It builds bin/inkpass and bin/inkpass-load, makes a throwaway install in a
# temporary folder (config, database, keys, USERS users, two clients), and for
# each scenario starts a fresh `inkpass serve` on a free 127.0.0.1 port, runs
# bin/inkpass-load against it with the server's pid, and stops it. Nothing
# but the Go toolchain is needed. See docs/performance.md for what the
# figures mean.
#
#   DATABASE=postgres scripts/load.sh                # the same on PostgreSQL
#   DATABASE=postgres REPLICAS=2 scripts/load.sh     # two servers on it
#
# With DATABASE=postgres it also starts a private PostgreSQL (Debian's
# postgresql package; scripts/pg-lib.sh) in the temporary folder, and the
# install's database is on it, its signing keys in the database under a
# throw-away key-encryption key. With REPLICAS=2 two servers share it (same
# issuer, same keys): inkpass-load sends its requests to both in turn, as a
# round-robin load balancer would, and the server CPU per op is the sum over
# both pids. PostgreSQL's own CPU (postmaster and backends) is reported apart
# ("database: ... ms CPU per op", db_cpu_ms_per_op). docs/scaling.md has the
# figures.
#
# Environment (defaults in brackets):
#   SCENARIOS          [discovery jwks client_credentials refresh userinfo login login-burst mixed]
#   ALG                ID-token signing algorithm: RS256, ES256 or EdDSA [RS256]
#   DURATION           per scenario [10s]; CONCURRENCY workers [16]
#   BURST              simultaneous logins of login-burst [1000]
#   MIXED_CONCURRENCY  [200]; MIXED_DURATION [60s]
#   USERS              users the logins take turns with [64]; the server checks
#                      one password per username at a time, so a login waits
#                      for a free user rather than draw a 429. Each costs one
#                      argon2id hash to create.
#   HASHING_MEMORY_MIB password.hashing_memory_mib [256]
#   LOG_LEVEL          the server's log.level [info]
#   KEEP_TMP           set to 1 to keep the temporary folder (server logs)
#   INKPASS_BIN        a server binary to test instead of building bin/inkpass
#                      (before/after comparisons: build the old commit elsewhere)
#   PROFILE            set to 1 to write a CPU profile of the server for each
#                      scenario to bin/cpu-<scenario>.pprof (go tool pprof;
#                      of the first server when REPLICAS=2)
#   DATABASE           sqlite or postgres [sqlite]
#   REPLICAS           servers on the one database; more than 1 needs
#                      DATABASE=postgres [1]
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

GO=${GO:-go}
ALG=${ALG:-RS256}
DURATION=${DURATION:-10s}
CONCURRENCY=${CONCURRENCY:-16}
SCENARIOS=${SCENARIOS:-discovery jwks client_credentials refresh userinfo login login-burst mixed}
BURST=${BURST:-1000}
MIXED_CONCURRENCY=${MIXED_CONCURRENCY:-200}
MIXED_DURATION=${MIXED_DURATION:-60s}
USERS=${USERS:-64}
HASHING_MEMORY_MIB=${HASHING_MEMORY_MIB:-256}
LOG_LEVEL=${LOG_LEVEL:-info}
DATABASE=${DATABASE:-sqlite}
REPLICAS=${REPLICAS:-1}
case $DATABASE in
sqlite | postgres) ;;
*) echo "DATABASE=$DATABASE: want sqlite or postgres" >&2 && exit 2 ;;
esac
if ! [[ $REPLICAS =~ ^[1-9]$ ]]; then
	echo "REPLICAS=$REPLICAS: want 1 to 9" >&2 && exit 2
fi
if [[ $REPLICAS -gt 1 && $DATABASE != postgres ]]; then
	echo "REPLICAS=$REPLICAS needs DATABASE=postgres: SQLite is one server's database" >&2 && exit 2
fi

export CGO_ENABLED=1
if [[ -n ${INKPASS_BIN:-} ]]; then
	# Another build of the server, e.g. of an older commit for a before/after
	# comparison on the same machine in the same hour.
	inkpass=$(cd "$(dirname "$INKPASS_BIN")" && pwd)/$(basename "$INKPASS_BIN")
	echo "building bin/inkpass-load; the server is $inkpass"
else
	echo "building bin/inkpass and bin/inkpass-load"
	"$GO" build -o bin/inkpass ./cmd/inkpass
	inkpass=$root/bin/inkpass
fi
"$GO" build -o bin/inkpass-load ./cmd/inkpass-load
load=$root/bin/inkpass-load

tmp=$(mktemp -d "${TMPDIR:-/tmp}/inkpass-load.XXXXXX")
server_pids=()
stop_server() {
	local pid
	for pid in "${server_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${server_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	server_pids=()
}
cleanup() {
	stop_server
	if [[ $DATABASE == postgres ]]; then
		pg_stop
	fi
	if [[ -n ${KEEP_TMP:-} ]]; then
		echo "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One listen address, metrics address and config per server; all share the
# issuer (the first server's URL), the database and the keys.
ports=() metrics=() cfgs=() urls=()
for ((r = 1; r <= REPLICAS; r++)); do
	ports+=("$("$load" -free-port)")
	metrics+=("127.0.0.1:$("$load" -free-port)")
	urls+=("http://127.0.0.1:${ports[-1]}")
	cfgs+=("$tmp/config-$r.yaml")
done
profiling_listen=""
if [[ -n ${PROFILE:-} ]]; then
	profiling_listen="127.0.0.1:$("$load" -free-port)"
fi
url=${urls[0]}
cfg=${cfgs[0]}
database="inkpass.db"
keys_store=folder
db_pid_flag=()
if [[ $DATABASE == postgres ]]; then
	# shellcheck source=scripts/pg-lib.sh
	source "$root/scripts/pg-lib.sh"
	echo "starting PostgreSQL"
	chmod 711 "$tmp" # the server (user postgres when we are root) reaches its folder
	pg_start "$tmp/pg" "$("$load" -free-port)"
	pg_createdb inkpass
	database="postgres://postgres@127.0.0.1:$PG_PORT/inkpass?sslmode=disable"
	keys_store=database
	# A throw-away key-encryption key: every server needs the same one.
	INKPASS_KEY_ENCRYPTION_KEY=$(head -c 32 /dev/urandom | base64)
	export INKPASS_KEY_ENCRYPTION_KEY
	db_pid_flag=(-db-pid "$PG_PID")
	echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (postmaster pid $PG_PID); $REPLICAS server(s)"
fi
for ((r = 0; r < REPLICAS; r++)); do
	cat >"${cfgs[r]}" <<EOF
listen: "127.0.0.1:${ports[r]}"
issuer: "$url"
database: "$database"
keys_dir: "keys"
keys:
  store: $keys_store
log:
  format: text
  level: $LOG_LEVEL
password:
  target: argon2id
  hashing_memory_mib: $HASHING_MEMORY_MIB
# One machine plays every browser. inkpass-load gives each of them its own
# address in X-Forwarded-For (-client-addrs), which the server believes from
# loopback, so that the per-address sign-in limits see many clients.
throttle:
  trusted_proxies: ["127.0.0.1/32", "::1/128"]
# And a browser starts sign-ins faster than a person: lift that limit.
pending_logins:
  per_minute: 1000000
  burst: 100000
# /metrics is served only here; inkpass-load reads the group-commit counters.
metrics:
  enabled: true
  listen: "${metrics[r]}"
EOF
done
if [[ -n $profiling_listen ]]; then
	printf 'profiling:\n  listen: "%s"\n' "$profiling_listen" >>"$cfg"
fi

umask 077
printf '%s\n' "load-test-password-$RANDOM$RANDOM" >"$tmp/password"
"$inkpass" migrate --config "$cfg" >/dev/null
# loadtest1…loadtestN, all with one password (inkpass-load -users names them
# so); a single user keeps the plain name.
if [[ $USERS -le 1 ]]; then
	usernames=(loadtest)
else
	usernames=()
	for ((i = 1; i <= USERS; i++)); do usernames+=("loadtest$i"); done
fi
echo "creating ${#usernames[@]} users"
for u in "${usernames[@]}"; do
	"$inkpass" user add --config "$cfg" --username "$u" --role admin --name "Load Test" --password-stdin <"$tmp/password" >/dev/null
done
"$inkpass" client add --config "$cfg" --id load-cc --name "Load test machine client" \
	--grant client_credentials --scope profile --json |
	"$load" -extract-json-field client_secret >"$tmp/cc-secret"
# First party: no consent page, as for the studio's own apps.
"$inkpass" client add --config "$cfg" --id load-public --name "Load test app" --public --first-party \
	--id-token-alg "$ALG" --redirect-uri http://127.0.0.1:1/cb \
	--scope openid --scope profile --scope offline_access \
	--grant authorization_code --grant refresh_token >/dev/null

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); ALG=$ALG; DATABASE=$DATABASE REPLICAS=$REPLICAS"
failed=0
for scenario in $SCENARIOS; do
	c=$CONCURRENCY d=$DURATION timeout=60s
	case $scenario in
	login-burst) c=$BURST timeout=110s ;;
	mixed) c=$MIXED_CONCURRENCY d=$MIXED_DURATION ;;
	esac
	log=$tmp/server-$scenario.log
	for ((r = 0; r < REPLICAS; r++)); do
		rlog=$log
		[[ $r -gt 0 ]] && rlog=$tmp/server-$scenario-$((r + 1)).log
		"$inkpass" serve --config "${cfgs[r]}" >"$rlog" 2>&1 &
		server_pids+=($!)
		if [[ $r -eq 0 && $REPLICAS -gt 1 ]]; then
			# The first start creates the admin and the first key; let one
			# server do it before the others come up.
			"$load" -url "$url" -wait-ready 20s >/dev/null 2>&1 || true
		fi
	done
	all_urls=$(IFS=,; echo "${urls[*]}")
	all_pids=$(IFS=,; echo "${server_pids[*]}")
	if ! "$load" -url "$all_urls" -wait-ready 20s; then
		echo "the server did not start; its log:" >&2
		tail -n 20 "$log" >&2
		exit 1
	fi
	echo
	echo "== $scenario"
	profiler_pid=""
	if [[ -n $profiling_listen ]]; then
		seconds=${d%s}
		[[ $seconds =~ ^[0-9]+$ ]] || seconds=10
		# The profile covers the run after its setup (sign-ins), roughly.
		(sleep 1 && "$GO" tool pprof -proto -output "bin/cpu-$scenario.pprof" \
			"http://$profiling_listen/debug/pprof/profile?seconds=$((seconds > 2 ? seconds - 2 : 1))" 2>/dev/null) &
		profiler_pid=$!
	fi
	if ! "$load" -url "$all_urls" -scenario "$scenario" -c "$c" -d "$d" -timeout "$timeout" -pid "$all_pids" \
		"${db_pid_flag[@]}" -server-log "$log" -client-id load-cc -client-secret-file "$tmp/cc-secret" \
		-public-client-id load-public -alg "$ALG" -redirect-uri http://127.0.0.1:1/cb \
		-username loadtest -users "${#usernames[@]}" -password-file "$tmp/password" \
		-client-addrs 10.0.0.0/16 -metrics "http://${metrics[0]}/metrics" -fail-on-error | tee "$tmp/result-$scenario.txt"; then
		failed=1
		echo "-- $scenario failed; the server log ends with:" >&2
		tail -n 10 "$log" >&2
	fi
	if [[ $scenario == login-burst ]]; then
		peak=$(sed -n 's/.* peak_rss_mib=\([0-9.]*\).*/\1/p' "$tmp/result-$scenario.txt")
		limit=$((HASHING_MEMORY_MIB + 64))
		if [[ -n $peak ]] && awk -v p="$peak" -v l="$limit" 'BEGIN { exit !(p <= l) }'; then
			echo "login-burst: peak RSS $peak MiB is within hashing_memory_mib + 64 = $limit MiB"
		else
			echo "login-burst: peak RSS ${peak:-?} MiB is OVER hashing_memory_mib + 64 = $limit MiB"
			failed=1
		fi
	fi
	if [[ -n $profiler_pid ]]; then
		wait "$profiler_pid" && echo "profile: bin/cpu-$scenario.pprof (go tool pprof -top bin/inkpass bin/cpu-$scenario.pprof)" ||
			echo "profile: could not fetch one for $scenario" >&2
	fi
	stop_server
done
exit $failed
