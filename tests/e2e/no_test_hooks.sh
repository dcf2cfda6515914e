#!/usr/bin/env bash
# A build without test hooks (a release build, or meson -Dtest_hooks=disabled):
# PKICTL_NOW and PKICTL_TEST_KILL_AT are refused with exit 2 and nothing on
# disk, never silently ignored; without them the CLI and the server work.
# Registered only in such builds (tests/e2e/meson.build).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/server_lib.sh"
unset PKICTL_NOW   # server_lib.sh's test clock: a hook this build does not have

pk_ok "--version exits 0" --version
lacks "--version does not say 'with test hooks'" "$(cat "$T_TMP/.out")" "test hooks"

C="$T_TMP/certs"
D="$T_TMP/data"
mkdir -p "$C"
for v in PKICTL_NOW=1700000000 PKICTL_NOW=@/etc/hostname PKICTL_TEST_KILL_AT=rotate:stored; do
    name=${v%%=*}
    export "${v?}"
    pk_fails "$v: cert create-ca refused" 2 cert create-ca --certs-dir="$C" --ca-key="$T_TMP/ca.key"
    err_has "... it names $name and the build" "$name is set, but this pkictl is built without test hooks"
    absent "... no CA key written" "$T_TMP/ca.key"
    absent "... no ca.crt written" "$C/ca.crt"
    pk_fails "$v: server refused" 2 server --data-dir="$D" --listen=127.0.0.1:0
    absent "... no data dir made" "$D"
    unset "$name"
done
export PKICTL_NOW=
pk_ok "an empty PKICTL_NOW is no hook: create-ca works" cert create-ca --certs-dir="$C" --ca-key="$T_TMP/ca.key"
unset PKICTL_NOW
check "... the CA is valid now" openssl x509 -in "$C/ca.crt" -noout -checkend 0

# The server, unhooked: starts, serves the roots over TLS, stops cleanly.
check "server: starts" srv_start "$D"
has "server: listening on https://" "$SRV_URL" '^https://127\.0\.0\.1:[0-9]+$'
api GET /v1/connect/ca/roots
is_eq "server: roots 200 over TLS" "$API_CODE" 200
srv_stop
is_eq "server: SIGTERM, exit 0" "$SRV_RC" 0
finish
