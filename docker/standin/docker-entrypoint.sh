#!/bin/bash
# Entrypoint of the stand-in image (docker/build-standin): the part of the official
# postgres and supabase/postgres images' contract that dbtasks relies on.
#
#   - the first start initialises $PGDATA from POSTGRES_PASSWORD (superuser `postgres`,
#     scram-sha-256 over TCP from anywhere, trust on the container's own Unix socket) and
#     POSTGRES_DB, and installs the Supabase baseline in template1 and postgres, so every
#     database created later (POSTGRES_DB, dbtasks' snapshots) has it too;
#   - then postgres runs in the foreground as the postgres user, as PID 1, with the
#     arguments the container was given (`postgres -c ...`, or only `-c ...`);
#   - any other command (`bash`, `psql ...`) runs as given.
set -Eeuo pipefail

PGDATA=${PGDATA:-/var/lib/postgresql/data}
BASELINE=/usr/share/dbtasks/supabase_baseline.sql
SOCKETS=/var/run/postgresql

say() { printf 'stand-in entrypoint: %s\n' "$*" >&2; }

init_cluster() {
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        # The official image refuses too: a superuser without a password over TCP is unsafe.
        say "POSTGRES_PASSWORD is not set; set it (dbtasks passes DB_PASS as it)"
        exit 1
    fi
    local pwfile
    pwfile=$(mktemp)
    # The password goes through a private file, never a command line.
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    # --no-sync: like the server's settings (postgresql.conf), a development database
    # trades crash safety of the machine for speed.
    initdb --username=postgres --pwfile="$pwfile" --auth-local=trust --no-sync \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    printf '\n# Any client address, with the password (the port is published on loopback only).\n'\
'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"

    # A private server on the Unix socket only: no client sees a half-initialised database.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=$SOCKETS" \
        -w -s start
    # The baseline is idempotent: its notices ("already a member") are noise here.
    local psql=(env PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1
        -h "$SOCKETS" -U postgres)
    "${psql[@]}" -d template1 -f "$BASELINE" >/dev/null
    "${psql[@]}" -d postgres -f "$BASELINE" >/dev/null
    if [ "${POSTGRES_DB:-postgres}" != postgres ]; then
        # psql quotes the name itself (:"db"), whatever characters it holds.
        "${psql[@]}" -d postgres -v db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
    fi
    pg_ctl -D "$PGDATA" -m fast -w -s stop
    say "initialised $PGDATA (database ${POSTGRES_DB:-postgres}, Supabase baseline installed)"
}

# `docker run IMAGE -c x=y` means `postgres -c x=y`, as in the official image.
first=${1:-postgres}
if [ "${first:0:1}" = "-" ] || [ $# -eq 0 ]; then
    set -- postgres "$@"
fi
if [ "${1:-}" != postgres ]; then
    exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
    # A fresh named volume is owned by root: hand it to postgres, then run as postgres.
    mkdir -p "$PGDATA" "$SOCKETS"
    chown postgres:postgres "$PGDATA" "$SOCKETS"
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    init_cluster
fi
exec "$@"
