# Helpers shared by the interop scripts; source it after ../lib.sh.
# Background processes started with bg_start are killed by the EXIT trap,
# which also removes $T_TMP (replacing lib.sh's trap).

T_PIDS=()
T_CLEANUP=()     # extra commands (strings) run by the EXIT trap before killing

interop_cleanup() {
    local c p
    for c in "${T_CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1; done
    for p in "${T_PIDS[@]}"; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    rm -rf "$T_TMP"
}
trap 'interop_cleanup' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# fails "what" cmd args...: passes when cmd exits non-zero.
fails() {
    local what=$1; shift
    if "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; then not_ok "$what" "succeeded but should have failed"
    else ok "$what"; fi
}

# fails_with "what" REGEX cmd args...: cmd exits non-zero and its stdout+stderr
# match REGEX (grep -E -i), so it failed for the expected reason.
fails_with() {
    local what=$1 re=$2; shift 2
    if "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; then
        not_ok "$what" "succeeded but should have failed"
    elif cat "$T_TMP/.out" "$T_TMP/.err" | grep -Eqi -- "$re"; then
        ok "$what"
        [ -n "${INTEROP_VERBOSE:-}" ] && grep -Ei -- "$re" "$T_TMP/.out" "$T_TMP/.err" | head -n 3 | sed 's/^/    # /'
        return 0
    else not_ok "$what" "failed, but output lacks /$re/: $(cat "$T_TMP/.out" "$T_TMP/.err" | head -c 400)"; fi
}

# ok_with "what" REGEX cmd args...: cmd exits 0 and its stdout+stderr match REGEX.
ok_with() {
    local what=$1 re=$2 rc=0; shift 2
    "$@" >"$T_TMP/.out" 2>"$T_TMP/.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        not_ok "$what" "exit $rc: $(cat "$T_TMP/.err" "$T_TMP/.out" | head -c 400)"
    elif cat "$T_TMP/.out" "$T_TMP/.err" | grep -Eq -- "$re"; then ok "$what"
    else not_ok "$what" "output lacks /$re/: $(cat "$T_TMP/.out" "$T_TMP/.err" | head -c 400)"; fi
}

# same "what" A B: two strings are equal and non-empty.
same() {
    if [ -n "$2" ] && [ "$2" = "$3" ]; then ok "$1"
    else not_ok "$1" "differ or empty: [$(printf %s "$2" | head -c 200)] vs [$(printf %s "$3" | head -c 200)]"; fi
}

# need CMD...: every command must exist, else record a failure (not a skip)
# and return 1.
need() {
    local c missing=
    for c in "$@"; do command -v "$c" >/dev/null 2>&1 || missing="$missing $c"; done
    if [ -n "$missing" ]; then not_ok "required tools are installed" "missing:$missing"; return 1; fi
    return 0
}

port_in_use() {
    if command -v ss >/dev/null 2>&1; then
        [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
    else
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
    fi
}

# free_port: print a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local p i py
    py=$(command -v python3 2>/dev/null)
    if [ -n "$py" ] && p=$("$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null) \
       && [ "$p" -gt 1024 ] 2>/dev/null && ! port_in_use "$p"; then
        echo "$p"; return 0
    fi
    for i in $(seq 1 200); do
        p=$((20000 + RANDOM % 40000))
        port_in_use "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# wait_listen PORT PID: wait (at most ~10 s) until PORT on 127.0.0.1 accepts,
# giving up early when PID has died. Returns 0 when listening.
wait_listen() {
    local i
    for i in $(seq 1 100); do
        kill -0 "$2" 2>/dev/null || return 1
        if command -v ss >/dev/null 2>&1; then
            [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
        else
            (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        fi
        sleep 0.1
    done
    return 1
}

# split_pem FILE PREFIX: write each certificate of FILE to PREFIX-1.pem, PREFIX-2.pem, ...
# and print how many there were.
split_pem() {
    awk -v p="$2" '/-----BEGIN CERTIFICATE-----/ {n++; f = p "-" n ".pem"}
                   f {print > f} /-----END CERTIFICATE-----/ {close(f); f = ""}
                   END {print n + 0}' "$1"
}

# start_s_server DIR LOG: mutual-TLS s_server with DIR/node.crt, requiring a client
# certificate from DIR/ca.crt. Sets SRV_PORT and SRV_PID.
start_s_server() {
    local try
    for try in 1 2 3; do
        SRV_PORT=$(free_port) || return 1
        timeout 240 openssl s_server -accept "127.0.0.1:$SRV_PORT" -cert "$1/node.crt" \
            -key "$1/node.key" -CAfile "$1/ca.crt" -Verify 1 -verify_return_error -www \
            </dev/null >"$2" 2>&1 &
        SRV_PID=$!
        T_PIDS+=("$SRV_PID")
        wait_listen "$SRV_PORT" "$SRV_PID" && return 0
        kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null
    done
    return 1
}
stop_s_server() { kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; }
