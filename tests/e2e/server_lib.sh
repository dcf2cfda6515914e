# shellcheck shell=bash
# Helpers for the tests that run the real `pkictl server` (source after
# common.sh). The server listens on 127.0.0.1 with port 0; its URL is read
# from DATA/server.addr. Every wait is bounded.
#
#   srv_start DIR [FLAGS...]  start in the background; sets SRV_PID, SRV_URL, SRV_DIR
#   srv_stop                  SIGTERM and wait
#   api METHOD PATH [TOKEN] [BODY_FILE]  sets API_CODE, API_BODY (file) and API_HDR
#   csr_req NAME SAN          a CSR and its sign body in $W
#   jget FILE PY_EXPR         evaluates a Python expression on the JSON in FILE (as d)

SRV_PID=
# The server's clock: a file the tests rewrite (PKICTL_NOW=@FILE). It starts
# at the real time, since curl checks the API certificate against the real
# clock; after a jump, api_k skips that check (the jump is what is tested).
NOWS=$(date +%s)
mkdir -p "$T_TMP/clock.d"  # a folder of its own: a confined worker may read only it
SRV_CLOCK="$T_TMP/clock.d/clock"
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

# csr_req NAME SAN: a new P-256 key W/NAME.key, its CSR W/NAME.csr (CN=NAME, subjectAltName
# SAN) and W/NAME.req, the sign body {"CSR": PEM}
csr_req() {
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/$1.key" \
        -subj "/CN=$1" -addext "subjectAltName=$2" -out "$W/$1.csr" 2>/dev/null
    python3 -c 'import json,sys; print(json.dumps({"CSR": open(sys.argv[1]).read()}))' "$W/$1.csr" >"$W/$1.req"
}

jget() {
    python3 - "$1" "$2" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d, "len": len})
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)
PY
}

# ---- helpers for the fault tests (server_faults.sh, server_client.sh)
#   srv_port                   the port in SRV_URL
#   srv_wait_exit SECS         waits (bounded) for the server to exit by itself; sets
#                              SRV_RC and clears SRV_PID; returns 1 if it still runs
#   srv_worker_pids            the worker processes' pids, one a line
#   srv_signer_pids            the signer processes' pids (the workers' children)
#   srv_signer_pid             the first of them (empty if none)
#   raw_http OUT REQ [opt=val...]  sends the bytes of file REQ over a raw socket to
#                              SRV_URL's port and writes what came back to OUT as JSON
#                              (see the python below for the options and fields)
#   rget OUT PY_EXPR           jget on a raw_http result
#   raw_load OUT               the summary of a raw_http result in RAW_* variables

srv_port() { printf '%s\n' "${SRV_URL##*:}"; }

srv_wait_exit() {
    local secs=$1 i
    for i in $(seq 1 $((secs * 20))); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$SRV_PID" 2>/dev/null && return 1
    wait "$SRV_PID"
    SRV_RC=$?
    SRV_PID=
    return 0
} 2>/dev/null   # not bash's "Killed" notice: a killed server is what is tested

# The supervisor (SRV_PID) forks the workers; each worker forks its signer.
srv_worker_pids() { [ -n "$SRV_PID" ] && pgrep -P "$SRV_PID"; }
srv_signer_pids() {
    local w
    for w in $(srv_worker_pids); do pgrep -P "$w"; done
}
srv_signer_pid() { srv_signer_pids | head -n1; }

# Options: tls=CAFILE (TLS, verifying the server with CAFILE), trickle=SECS (one byte
# at a time, this long apart; stops sending once an answer arrives), send=N (only the
# first N bytes), after=read|fin|close|rst (after sending: read the answer (default),
# shut the write side then read, close without reading, or abort with an RST
# (SO_LINGER 0)), wait=SECS (give up reading this long after the connection opened;
# default 5). Fields of OUT: status (0: no answer), reason, headers (lower-case
# names), body, cl_ok (Content-Length is the body's length), eof (the server closed),
# t_answer / t_eof (seconds from the first byte sent; -1: never), send_error.
raw_http() {
    local out=$1 reqf=$2; shift 2
    python3 - "$out" "$reqf" "$(srv_port)" "$@" <<'PY'
import json, socket, ssl, struct, sys, time
out, reqf, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
opt = dict(a.split("=", 1) for a in sys.argv[4:])
req = open(reqf, "rb").read()
req = req[: int(opt.get("send", len(req)))]
trickle = float(opt.get("trickle", 0))
after = opt.get("after", "read")
res = {"status": 0, "reason": "", "headers": {}, "body": "", "cl_ok": False, "eof": False,
       "t_answer": -1, "t_eof": -1, "send_error": ""}
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if "tls" in opt:
    ctx = ssl.create_default_context(cafile=opt["tls"])
    s = ctx.wrap_socket(s, server_hostname="127.0.0.1")
t0 = time.monotonic()
deadline = t0 + float(opt.get("wait", 5))
got = b""

def read_some(limit):
    """Reads what comes within limit seconds; False at EOF or a reset."""
    global got
    s.settimeout(max(limit, 0.001))
    try:
        b = s.recv(65536)
    except (socket.timeout, TimeoutError, ssl.SSLWantReadError):
        return True
    except (ConnectionResetError, ssl.SSLError, OSError) as e:
        res["eof"], res["t_eof"], res["read_error"] = True, time.monotonic() - t0, str(e)
        return False
    if not b:
        res["eof"], res["t_eof"] = True, time.monotonic() - t0
        return False
    if not got:
        res["t_answer"] = time.monotonic() - t0
    got += b
    return True

open_ = True
try:
    if trickle > 0:
        for i in range(len(req)):
            if time.monotonic() > deadline or got or not open_:
                break
            s.sendall(req[i:i + 1])
            open_ = read_some(trickle)
    else:
        s.sendall(req)
except OSError as e:
    res["send_error"] = str(e)
if after == "rst":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    open_ = False
elif after == "close":
    s.close()
    open_ = False
elif after == "fin":
    s.shutdown(socket.SHUT_WR)
while open_ and time.monotonic() < deadline:
    open_ = read_some(deadline - time.monotonic())
head, sep, body = got.partition(b"\r\n\r\n")
if sep:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) >= 2 and parts[0] == "HTTP/1.1" and parts[1].isdigit():
        res["status"], res["reason"] = int(parts[1]), parts[2] if len(parts) > 2 else ""
    for l in lines[1:]:
        k, _, v = l.partition(":")
        res["headers"][k.strip().lower()] = v.strip()
    cl = res["headers"].get("content-length", "")
    res["cl_ok"] = cl.isdigit() and int(cl) == len(body)
    res["body"] = body.decode("utf-8", "replace")
json.dump(res, open(out, "w"))
try:
    ej = isinstance(json.loads(res["body"]).get("error"), str)
except (ValueError, AttributeError):
    ej = False
open(out + ".body", "w").write(res["body"])
open(out + ".sum", "w").write("%d %d %d %d %.3f %.3f\n" % (res["status"], ej, res["cl_ok"], res["eof"],
                                                         res["t_answer"], res["t_eof"]))
PY
}

rget() { jget "$1" "$2"; }
# raw_load OUT: a raw_http result into RAW_STATUS, RAW_ERRJSON (1: the body is
# {"error": "..."}), RAW_CLOK, RAW_EOF (1/0), RAW_TANSWER, RAW_TEOF and RAW_BODY (a file)
raw_load() {
    RAW_STATUS=0 RAW_ERRJSON=0 RAW_CLOK=0 RAW_EOF=0 RAW_TANSWER=-1 RAW_TEOF=-1
    read -r RAW_STATUS RAW_ERRJSON RAW_CLOK RAW_EOF RAW_TANSWER RAW_TEOF <"$1.sum"
    RAW_BODY="$1.body"
}

# srv_san_clean "what" [FILE]: FILE (default: the last server's stderr) holds no
# sanitizer report (ASan/LSan/UBSan builds; always passes on a normal build).
srv_san_clean() {
    local f=${2:-$T_TMP/server.err}
    local re='ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
    if grep -Eq "$re" "$f" 2>/dev/null; then not_ok "$1: no sanitizer report" "$(grep -E -m 3 "$re" "$f")"
    else ok "$1: no sanitizer report"; fi
}
# srv_stop_clean "what": srv_stop, and the server exited 0 with no sanitizer report
srv_stop_clean() {
    srv_stop
    is_eq "$1: clean stop (exit 0)" "$SRV_RC" 0
    srv_san_clean "$1"
}
