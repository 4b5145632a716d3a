#!/bin/sh
# A PostgreSQL server for the tests (tests/plugins/store.py), started only when none answers.
#
#   tests/support/pg_cluster.sh start   prints the server's base URL (postgresql://postgres@127.0.0.1:PORT)
#   tests/support/pg_cluster.sh stop    stops the cluster this script started (none other)
#
# start: a server on 127.0.0.1:5432 that lets user postgres in without a password (the machine's,
# trust auth) is used as it is.  Otherwise a throwaway cluster is made in $ROBOPULSE_PG_DIR (default
# ${TMPDIR:-/tmp}/robopulse-pg) with initdb (trust auth, user postgres) and started with pg_ctl on
# 127.0.0.1:$ROBOPULSE_PG_PORT (default 5432, or 5433 when 5432 is taken by a server that asks for a
# password; a port given is the only one tried).  initdb refuses to run as root: as root the cluster is made and run by the user
# "postgres" (the distribution package creates it).  Nothing is printed on stdout but the URL.
set -eu

DIR=${ROBOPULSE_PG_DIR:-${TMPDIR:-/tmp}/robopulse-pg}
say() { echo "pg_cluster: $*" >&2; }

bindir() {  # where initdb and pg_ctl are: PATH, else the newest /usr/lib/postgresql/*/bin
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"; return
    fi
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
    done
    say "no initdb/pg_ctl found (install the distribution's postgresql package: make system-deps)"; exit 1
}

answers() {  # answers PORT: does a server there let postgres in without a password?
    PGCONNECT_TIMEOUT=3 psql -h 127.0.0.1 -p "$1" -U postgres -w -d postgres -Atc 'select 1' >/dev/null 2>&1
}

listening() { pg_isready -q -h 127.0.0.1 -p "$1" >/dev/null 2>&1; }

as_owner() {  # run a command as the cluster's owner (root cannot own a cluster)
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
start)
    PORT=${ROBOPULSE_PG_PORT:-}
    if [ -z "$PORT" ]; then
        if answers 5432; then echo "postgresql://postgres@127.0.0.1:5432"; exit 0; fi
        if listening 5432; then PORT=5433; else PORT=5432; fi
    fi
    if answers "$PORT"; then echo "postgresql://postgres@127.0.0.1:$PORT"; exit 0; fi
    BIN=$(bindir)
    mkdir -p "$DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$DIR"
    if [ ! -f "$DIR/PG_VERSION" ]; then
        say "initdb in $DIR"
        as_owner "$BIN/initdb" -D "$DIR" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    say "starting a cluster in $DIR on 127.0.0.1:$PORT"
    as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >/dev/null
    answers "$PORT" || { say "the cluster started but does not answer (see $DIR/server.log)"; exit 1; }
    echo "postgresql://postgres@127.0.0.1:$PORT"
    ;;
stop)
    if [ -f "$DIR/postmaster.pid" ]; then as_owner "$(bindir)/pg_ctl" -D "$DIR" -m fast -w stop >/dev/null; fi
    ;;
*)
    say "usage: $0 start|stop"; exit 2
    ;;
esac
