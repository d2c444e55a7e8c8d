# shellcheck shell=bash
# A private PostgreSQL for scripts/load.sh and scripts/run-ha.sh: Debian's
# server binaries (/usr/lib/postgresql/*/bin, the newest; or INKPASS_PG_BIN),
# initdb in a folder of the caller's, pg_ctl on 127.0.0.1 and a free port,
# no Unix socket. initdb refuses to run as root, so as root the server runs as
# the user postgres (runuser), as internal/testsupport/pgtest does. Source
# it, then:
#
#   pg_start DIR PORT [PASSWORD_FILE]   # sets PG_BIN, PG_DATA, PG_PORT, PG_PID
#   pg_stop                             # fast shutdown; safe to call twice
#
# With PASSWORD_FILE, connections over TCP need that password (SCRAM) for the
# user postgres; without it they are trusted (a throw-away load-test server).

pg_find_bin() {
	if [[ -n ${INKPASS_PG_BIN:-} ]]; then
		PG_BIN=$INKPASS_PG_BIN
	else
		PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
		if [[ -z $PG_BIN ]] && command -v initdb >/dev/null; then
			PG_BIN=$(dirname "$(command -v initdb)")
		fi
	fi
	if [[ -z ${PG_BIN:-} || ! -x $PG_BIN/initdb ]]; then
		echo "PostgreSQL's server binaries are missing: apt-get install postgresql (or set INKPASS_PG_BIN)" >&2
		return 1
	fi
}

# pg_as runs a server binary, as postgres when we are root.
pg_as() {
	local tool=$1
	shift
	if [[ $(id -u) == 0 ]]; then
		runuser -u postgres -- "$PG_BIN/$tool" "$@"
	else
		"$PG_BIN/$tool" "$@"
	fi
}

pg_start() {
	local dir=$1 port=$2 pwfile=${3:-}
	pg_find_bin || return 1
	PG_DATA=$dir/pgdata
	PG_PORT=$port
	mkdir -p "$dir"
	if [[ $(id -u) == 0 ]]; then
		if ! id postgres >/dev/null 2>&1; then
			echo "running as root and there is no user postgres to run PostgreSQL as" >&2
			return 1
		fi
		# postgres must reach the data folder through the caller's.
		chmod 755 "$dir"
		mkdir -p "$PG_DATA"
		chown postgres: "$PG_DATA"
		chmod 700 "$PG_DATA"
	fi
	if [[ ! -s $PG_DATA/PG_VERSION ]]; then
		local auth=(--auth=trust)
		if [[ -n $pwfile ]]; then
			# initdb reads the superuser's password from a file postgres can
			# read: a copy, removed right after.
			local copy=$PG_DATA.pw
			install -m 600 "$pwfile" "$copy"
			[[ $(id -u) == 0 ]] && chown postgres: "$copy"
			auth=(--auth-local=trust --auth-host=scram-sha-256 --pwfile="$copy")
		fi
		if ! pg_as initdb -D "$PG_DATA" -U postgres "${auth[@]}" --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
			rm -f "$PG_DATA.pw"
			echo "initdb failed; see $dir/initdb.log" >&2
			return 1
		fi
		rm -f "$PG_DATA.pw"
	fi
	if ! pg_as pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=''" start >/dev/null; then
		echo "PostgreSQL did not start; its log:" >&2
		tail -n 20 "$PG_DATA/server.log" >&2
		return 1
	fi
	PG_PID=$(head -n 1 "$PG_DATA/postmaster.pid")
}

pg_stop() {
	if [[ -n ${PG_DATA:-} && -f $PG_DATA/postmaster.pid ]]; then
		pg_as pg_ctl -D "$PG_DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
	fi
}

# pg_createdb NAME: a database on the running server (as the user postgres,
# over TCP; PGPASSWORD must be set when the server wants a password).
pg_createdb() {
	pg_as createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres "$1"
}
