# shellcheck shell=bash
# Helpers for the tests that run the real `pkictl server` (source after
# common.sh). The server listens on 127.0.0.1 with port 0; its URL is read
# from DATA/server.addr. Every wait is bounded.
#
#   srv_start DIR [FLAGS...]  start in the background; sets SRV_PID, SRV_URL, SRV_DIR
#   srv_stop                  SIGTERM and wait
#   api METHOD PATH [TOKEN] [BODY_FILE]  sets API_CODE, API_BODY (file) and API_HDR
#   jget FILE PY_EXPR         evaluates a Python expression on the JSON in FILE (as d)

SRV_PID=
# The server's clock: a file the tests rewrite (PKICTL_NOW=@FILE). It starts
# at the real time, since curl checks the API certificate against the real
# clock; after a jump, api_k skips that check (the jump is what is tested).
NOWS=$(date +%s)
SRV_CLOCK="$T_TMP/clock"
echo "$NOWS" >"$SRV_CLOCK"
export PKICTL_NOW="@$SRV_CLOCK"
API_INSECURE=

set_clock() { echo "$1" >"$SRV_CLOCK.tmp" && mv "$SRV_CLOCK.tmp" "$SRV_CLOCK"; }

srv_start() {
    SRV_DIR=$1; shift
    rm -f "$SRV_DIR/server.addr"
    "$PKICTL" server --data-dir="$SRV_DIR" --listen=127.0.0.1:0 "$@" \
        >"$T_TMP/server.out" 2>"$T_TMP/server.err" &
    SRV_PID=$!
    local i
    for i in $(seq 1 200); do
        [ -s "$SRV_DIR/server.addr" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    SRV_URL=$(cat "$SRV_DIR/server.addr" 2>/dev/null)
    [ -n "$SRV_URL" ]
}

srv_stop() {
    [ -n "$SRV_PID" ] || return 0
    kill -TERM "$SRV_PID" 2>/dev/null
    local i
    for i in $(seq 1 200); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SRV_PID" 2>/dev/null
    wait "$SRV_PID" 2>/dev/null
    SRV_RC=$?
    SRV_PID=
}
trap 'srv_stop; rm -rf "$T_TMP"' EXIT

api() {
    local method=$1 path=$2 token=${3:-} body=${4:-}
    local args=(-sS -o "$T_TMP/api.body" -D "$T_TMP/api.hdr" -w '%{http_code}' -X "$method"
                --max-time 20)
    case "$SRV_URL" in https:*) args+=(--cacert "$SRV_DIR/ca.pem") ;; esac
    [ -n "$API_INSECURE" ] && args+=(-k)
    [ -n "$token" ] && args+=(-H "X-Consul-Token: $token")
    [ -n "$body" ] && args+=(--data-binary "@$body")
    API_CODE=$(curl "${args[@]}" "$SRV_URL$path" 2>"$T_TMP/api.err")
    API_BODY="$T_TMP/api.body"
    API_HDR="$T_TMP/api.hdr"
}

jget() {
    python3 - "$1" "$2" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d, "len": len})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
PY
}
