#!/bin/sh
# pg-cluster.sh — a throwaway PostgreSQL cluster for Shoal's tests.
#
#   tests/pg-cluster.sh start DIR          start (creating if needed) a cluster in DIR;
#                                          prints the URL of database shoal_test
#   tests/pg-cluster.sh createdb DIR NAME  (re)creates an empty database NAME; prints its URL
#   tests/pg-cluster.sh stop DIR           stops the cluster and removes DIR
#
# The cluster listens only on a Unix socket inside DIR (no TCP port, so any
# number of clusters can run side by side) and trusts every local user.
# fsync stays on because the tests check durability. Output is the URL alone;
# the server log is DIR/log. Every command may be repeated safely.
#
# initdb and postgres refuse to run as root, and tests usually run as root in
# containers, so as root the cluster belongs to the "postgres" system user
# (made by Debian's postgresql package) and DIR is handed to that user.
# PG_BINDIR may name the directory holding initdb and pg_ctl; otherwise the
# newest /usr/lib/postgresql/*/bin is used.
set -eu

prog=pg-cluster.sh
superuser=postgres
main_db=shoal_test

die() {
	echo "$prog: $*" >&2
	exit 1
}

usage() {
	echo "usage: $prog start DIR | stop DIR | createdb DIR NAME" >&2
	exit 2
}

find_bindir() {
	if [ -n "${PG_BINDIR:-}" ]; then
		bindir=$PG_BINDIR
	else
		bindir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin 2>/dev/null |
			sort -V | tail -n 1)
	fi
	for tool in initdb pg_ctl psql; do
		if [ -z "$bindir" ] || [ ! -x "$bindir/$tool" ]; then
			die "cannot find PostgreSQL's $tool (install the postgresql package, or set PG_BINDIR)"
		fi
	done
}

# Runs a command as the cluster's owner: ourselves, or postgres when we are root.
as_owner() {
	if [ "$(id -u)" -ne 0 ]; then
		"$@"
	elif command -v runuser >/dev/null 2>&1; then
		runuser -u postgres -- "$@"
	else
		# su needs one command string; quote each argument for the shell.
		cmd=
		for a in "$@"; do
			cmd="$cmd '$(printf '%s' "$a" | sed "s/'/'\\\\''/g")'"
		done
		su postgres -s /bin/sh -c "$cmd"
	fi
}

# DIR goes into postgresql.conf and into a URL, so keep it to plain characters,
# and absolute: the server resolves relative paths against its data directory.
resolve_dir() {
	case $1 in
	*[!A-Za-z0-9/._-]*) die "DIR may hold only letters, digits and / . _ - (got '$1')" ;;
	esac
	mkdir -p "$1"
	dir=$(cd "$1" && pwd -P)
	# A Unix socket path is at most 107 bytes on Linux.
	[ ${#dir} -le 90 ] || die "DIR is too long for a Unix socket path: $dir"
}

url_for() {
	echo "postgresql:///$1?host=$dir&user=$superuser"
}

psql_admin() {
	"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -U "$superuser" -d postgres "$@"
}

running() {
	[ -f "$dir/data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# Serialises commands on one DIR: test files started in parallel may all call start.
lock_dir() {
	exec 9>"$dir/.lock"
	if command -v flock >/dev/null 2>&1; then
		flock 9
	fi
}

cmd_start() {
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 ||
			die "running as root, and there is no 'postgres' user to own the cluster (install postgresql)"
		# The server writes its log as postgres, so the file must be theirs too.
		touch "$dir/log"
		chown postgres: "$dir" "$dir/log"
		as_owner test -w "$dir" ||
			die "user postgres cannot write to $dir (a parent directory is closed to it?)"
	fi
	chmod 755 "$dir"
	touch "$dir/.shoal-pg-cluster"

	if [ ! -f "$dir/data/PG_VERSION" ]; then
		rm -rf "$dir/data" # a half-made data directory from an interrupted start
		locale=C
		if locale -a 2>/dev/null | grep -qix 'c.utf-\{0,1\}8'; then
			locale=C.UTF-8
		fi
		# --no-sync: initdb's own files need no durability, which saves a second.
		as_owner "$bindir/initdb" -D "$dir/data" -U "$superuser" -E UTF8 --locale="$locale" \
			--auth=trust --no-sync >"$dir/log" 2>&1 ||
			die "initdb failed; see $dir/log"
		# Local socket connections only; with listen_addresses='' nothing else can arrive.
		echo "local all all trust" >"$dir/data/pg_hba.conf"
		cat >>"$dir/data/postgresql.conf" <<EOF

# Added by tests/pg-cluster.sh
listen_addresses = ''
unix_socket_directories = '$dir'
port = 5432
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 32MB
timezone = 'UTC'
log_timezone = 'UTC'
EOF
	fi

	if ! running; then
		# cd /: as root the server runs as postgres, who may not enter our cwd.
		# 9>&-: the server must not inherit the lock, or it would hold it forever.
		(cd / && as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 start) \
			>/dev/null 2>&1 9>&- || die "the server did not start; see $dir/log"
	fi

	exists=$(psql_admin -Atc "SELECT 1 FROM pg_database WHERE datname = '$main_db'") ||
		die "cannot connect to the cluster in $dir"
	if [ "$exists" != 1 ]; then
		psql_admin -c "CREATE DATABASE $main_db" >/dev/null ||
			die "cannot create database $main_db"
	fi
	url_for "$main_db"
}

cmd_createdb() {
	case $1 in
	'' | [0-9]* | *[!A-Za-z0-9_]*) die "database NAME must be letters, digits and _ (got '$1')" ;;
	esac
	# PostgreSQL would silently cut a longer name, and the URL would miss it.
	[ ${#1} -le 63 ] || die "database NAME is longer than 63 characters: $1"
	case $1 in
	postgres | template0 | template1) die "will not recreate system database $1" ;;
	esac
	running || die "no cluster is running in $dir (run: $prog start $dir)"
	# A fresh database every time, so a test never sees a previous run's rows.
	# Names are folded to lower case by PostgreSQL; the URL must match.
	name=$(printf '%s' "$1" | tr '[:upper:]' '[:lower:]')
	psql_admin -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" -c "CREATE DATABASE $name" \
		>/dev/null 2>&1 || die "cannot create database $name"
	url_for "$name"
}

cmd_stop() {
	if running; then
		(cd / && as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop) \
			>/dev/null 2>&1 || die "the server in $dir did not stop; see $dir/log"
	fi
	rm -rf "$dir"
}

[ $# -ge 2 ] || usage
command=$1
find_bindir
case $command in
start)
	[ $# -eq 2 ] || usage
	resolve_dir "$2"
	lock_dir
	cmd_start
	;;
createdb)
	[ $# -eq 3 ] || usage
	[ -d "$2" ] || die "no cluster in $2 (run: $prog start $2)"
	resolve_dir "$2"
	lock_dir
	cmd_createdb "$3"
	;;
stop)
	[ $# -eq 2 ] || usage
	[ -d "$2" ] || exit 0
	resolve_dir "$2"
	# Refuse to delete a directory this script did not make.
	if [ ! -f "$dir/.shoal-pg-cluster" ] && [ -n "$(ls -A "$dir")" ]; then
		die "$dir is not a cluster made by $prog; not removing it"
	fi
	lock_dir
	cmd_stop
	;;
*)
	usage
	;;
esac
