#!/bin/bash
# Interop: real mutual TLS with PostgreSQL. A private PostgreSQL server uses pkictl's
# node.crt/node.key and trusts pkictl's ca.crt; pg_hba allows only `hostssl ... cert`,
# so a login works only with a client certificate from that CA whose CN is the role.
# psql checks the server with sslmode=verify-full (DNS and IP SANs).
# PostgreSQL binaries are required: missing ones are a failure, not a skip.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/interop_lib.sh"

need timeout || { finish; exit 1; }

# Clear libpq settings from the environment so only our connection strings count.
for v in $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

# --- PostgreSQL binaries ---------------------------------------------------------
PGBIN=
for d in "${PG_BINDIR:-}" /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then PGBIN=$d; break; fi
done
if [ -z "$PGBIN" ] && command -v initdb >/dev/null && command -v pg_ctl >/dev/null && command -v postgres >/dev/null; then
    PGBIN=$(dirname "$(command -v initdb)")
fi
if [ -z "$PGBIN" ]; then
    not_ok "PostgreSQL server binaries (initdb, pg_ctl, postgres) are installed" \
        "not found in \$PG_BINDIR, /usr/lib/postgresql/*/bin or PATH; on Debian: apt-get install postgresql-15"
    finish; exit 1
fi
if [ -x "$PGBIN/psql" ]; then PSQL=$PGBIN/psql
elif command -v psql >/dev/null; then PSQL=$(command -v psql)
else not_ok "psql is installed" "no psql in $PGBIN or PATH; on Debian: apt-get install postgresql-client-15"; finish; exit 1
fi
ok "PostgreSQL binaries found in $PGBIN"

# postgres refuses to run as root: then the server runs as the `postgres` user.
if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
        not_ok "a 'postgres' system user exists (needed to run the server as root)" \
            "create it, or run this test as a normal user"
        finish; exit 1
    fi
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi

# --- certificates ----------------------------------------------------------------
D=$T_TMP/certs
O=$T_TMP/other
mkdir -p "$D" "$O"
K=(--key-type=ecdsa --key-size=256)
pk_ok "create-ca" cert create-ca --certs-dir="$D" --ca-key="$T_TMP/ca.key" "${K[@]}"
pk_ok "create-node localhost 127.0.0.1" cert create-node localhost 127.0.0.1 --certs-dir="$D" \
    --ca-key="$T_TMP/ca.key" "${K[@]}"
pk_ok "create-client root" cert create-client root --certs-dir="$D" --ca-key="$T_TMP/ca.key" "${K[@]}"
pk_ok "create-client alice" cert create-client alice --certs-dir="$D" --ca-key="$T_TMP/ca.key" "${K[@]}"
pk_ok "create-ca (a different CA)" cert create-ca --certs-dir="$O" --ca-key="$T_TMP/other.key" "${K[@]}"
pk_ok "create-client root (different CA)" cert create-client root --certs-dir="$O" \
    --ca-key="$T_TMP/other.key" "${K[@]}"
for f in "$D/node.crt" "$D/node.key" "$D/ca.crt" "$D/client.root.crt" "$D/client.root.key"; do
    [ -s "$f" ] || { not_ok "pkictl wrote $f" "missing; cannot start the server"; finish; exit 1; }
done

# --- the server ------------------------------------------------------------------
PGBASE=$(mktemp -d "${TMPDIR:-/tmp}/pkictl-pg.XXXXXX")
PGDATA_DIR=$PGBASE/data
PGLOG=$PGBASE/server.log
mkdir -p "$PGBASE/ssl" "$PGBASE/sock"
cp "$D/node.crt" "$D/ca.crt" "$D/node.key" "$PGBASE/ssl/"
chmod 0600 "$PGBASE/ssl/node.key"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$PGBASE"

pg_stop() {
    [ -f "$PGDATA_DIR/postmaster.pid" ] || return 0
    local pid
    pid=$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null)
    as_pg timeout 30 "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 20 stop >/dev/null 2>&1
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -QUIT "$pid" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
    fi
}
T_CLEANUP+=("pg_stop" "rm -rf '$PGBASE'")

if as_pg timeout 120 "$PGBIN/initdb" -D "$PGDATA_DIR" -U root -A trust --no-locale -E UTF8 --no-sync \
        >"$T_TMP/initdb.log" 2>&1; then
    ok "initdb (superuser root)"
else
    not_ok "initdb (superuser root)" "$(tail -c 600 "$T_TMP/initdb.log")"; finish; exit 1
fi

cat >>"$PGDATA_DIR/postgresql.conf" <<EOF
# pkictl interop test
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGBASE/sock'
ssl = on
ssl_cert_file = '$PGBASE/ssl/node.crt'
ssl_key_file = '$PGBASE/ssl/node.key'
ssl_ca_file = '$PGBASE/ssl/ca.crt'
fsync = off
shared_buffers = 16MB
max_connections = 20
log_connections = on
EOF
cat >"$PGDATA_DIR/pg_hba.conf" <<EOF
local   all  all                 trust
hostssl all  all  127.0.0.1/32   cert
EOF

started=
for try in 1 2 3; do
    PORT=$(free_port) || break
    if as_pg timeout 60 "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -o "-p $PORT" -w -t 30 start \
            >"$T_TMP/pg_ctl.log" 2>&1; then
        started=1; break
    fi
    pg_stop
    grep -qiE 'could not bind|could not create any TCP|address already in use' "$PGLOG" 2>/dev/null || break
done
if [ -n "$started" ]; then
    ok "PostgreSQL starts with ssl=on and pkictl's node.crt/node.key/ca.crt (port $PORT)"
else
    not_ok "PostgreSQL starts with ssl=on and pkictl's node.crt/node.key/ca.crt" \
        "$(tail -c 400 "$T_TMP/pg_ctl.log"; tail -c 800 "$PGLOG" 2>/dev/null)"
    finish; exit 1
fi

# --- clients ---------------------------------------------------------------------
# q CONNINFO SQL: run SQL with psql as the invoking user, bounded.
q() {
    PGCONNECT_TIMEOUT=10 timeout 30 "$PSQL" -X -A -t -v ON_ERROR_STOP=1 "$1" -c "$2"
}
# conn HOST USER CERT KEY [ROOTCERT] [extra]: a verify-full TLS connection string.
conn() {
    echo "host=$1 port=$PORT user=$2 dbname=postgres sslmode=verify-full sslrootcert=${5:-$D/ca.crt} sslcert=$3 sslkey=$4 ${6:-}"
}
SOCK="host=$PGBASE/sock port=$PORT user=root dbname=postgres"

check "setup over the unix socket works" q "$SOCK" 'select 1'

ok_with "psql verify-full host=localhost as root with client.root cert: select 1" '^1$' \
    q "$(conn localhost root "$D/client.root.crt" "$D/client.root.key")" 'select 1'
ok_with "the session is TLS and the server saw the client cert CN=root" '^t\|.*CN=root' \
    q "$(conn localhost root "$D/client.root.crt" "$D/client.root.key")" \
    'select ssl, client_dn from pg_stat_ssl where pid = pg_backend_pid()'
ok_with "psql verify-full host=127.0.0.1 (IP SAN) as root: select 1" '^1$' \
    q "$(conn 127.0.0.1 root "$D/client.root.crt" "$D/client.root.key")" 'select 1'

fails_with "psql refuses the server for a name not in node.crt (verify-full)" 'does not match|match host name' \
    q "$(conn other.example.org root "$D/client.root.crt" "$D/client.root.key" "" hostaddr=127.0.0.1)" 'select 1'
fails_with "psql refuses the server when trusting a different pkictl CA" 'certificate verify failed' \
    q "$(conn localhost root "$D/client.root.crt" "$D/client.root.key" "$O/ca.crt")" 'select 1'
fails_with "server rejects a root client cert from a different pkictl CA" 'unknown ca|certificate verify failed' \
    q "$(conn localhost root "$O/client.root.crt" "$O/client.root.key")" 'select 1'
fails_with "server rejects a connection without a client certificate" 'requires a valid client certificate' \
    q "$(conn localhost root "$T_TMP/none.crt" "$T_TMP/none.key")" 'select 1'
fails_with "server rejects client.alice cert for user alice (no such role)" 'role "alice" does not exist' \
    q "$(conn localhost alice "$D/client.alice.crt" "$D/client.alice.key")" 'select 1'
fails_with "server rejects client.alice cert for user root (CN mismatch)" 'certificate authentication failed for user' \
    q "$(conn localhost root "$D/client.alice.crt" "$D/client.alice.key")" 'select 1'

check "create role alice over the unix socket" q "$SOCK" 'create role alice login'
ok_with "client.alice cert logs in as alice once the role exists" '^alice$' \
    q "$(conn localhost alice "$D/client.alice.crt" "$D/client.alice.key")" 'select current_user'
fails_with "client.root cert still cannot log in as alice (CN mismatch)" 'certificate authentication failed for user' \
    q "$(conn localhost alice "$D/client.root.crt" "$D/client.root.key")" 'select 1'
fails_with "client.alice cert still cannot log in as root (CN mismatch)" 'certificate authentication failed for user' \
    q "$(conn localhost root "$D/client.alice.crt" "$D/client.alice.key")" 'select 1'

pg_stop
if [ -f "$PGDATA_DIR/postmaster.pid" ]; then not_ok "PostgreSQL stopped"; else ok "PostgreSQL stopped"; fi

finish
