#!/usr/bin/env bash
# Interop: trust continuity through a whole CA rotation (docs/rotation.md).
# A 3-member etcd cluster (Debian's etcd-server, 127.0.0.1 only, https peer and client URLs,
# --peer-client-cert-auth and --client-cert-auth) and an openssl s_server/s_client pair keep
# connecting through every step: baseline, `ca stage`, `ca rotate`, members restarted one at a
# time (some on the old files, some on the new), `ca prune` (kept at the real time, pruned with
# PKICTL_NOW past the old leaves' expiry) and the pruned files distributed one member at a time.
# After every step: `endpoint health --cluster` (3 healthy), a put on one member read back from
# another, `member list` (3 started), the old-only and (once it exists) new-only clients, and no
# TLS handshake failure in any member's log since the previous step. After each restart the
# member's peer and client ports must serve exactly the files of its node folder.
# Negative controls prove the checks can fail: a member restarted with a leaf from an unrelated
# CA is rejected by the others (the step check reports it, logs and health), and after the prune
# the old client is refused.
# etcd, etcdctl and openssl are required: missing ones are a failure, not a skip.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/../lib.sh"
. "$HERE/interop_lib.sh"

need openssl etcd etcdctl timeout sha256sum python3 || { finish; exit 1; }
for v in $(env | sed -n 's/^\(ETCD[A-Z0-9_]*\)=.*/\1/p'); do unset "$v"; done   # etcd reads ETCD_* as flags
T0=$(date +%s)

P=$T_TMP/pki        # the cluster folder pkictl manages
S=$T_TMP/staging    # ca stage's output
TR=$T_TMP/trust     # old.pem (original ca.crt), new.pem (first certificate after rotate)
OLD=$T_TMP/old      # copies of every leaf as cluster init wrote it
CLI=$T_TMP/cli      # the etcd client's current files: ca.crt client.crt client.key
RG=$T_TMP/rogue     # an unrelated CA and a node certificate from it
mkdir -m 700 "$P" "$TR" "$OLD" "$CLI" "$RG" "$T_TMP/logs" "$T_TMP/etcd-data" "$T_TMP/x"

# --- small helpers ---------------------------------------------------------------
ncerts() { local n; n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$1" 2>/dev/null); echo "${n:-0}"; }
pems()   { awk '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/' "$1"; }
nth()    { awk -v n="$2" '/-----BEGIN CERTIFICATE-----/ {i++} i == n' "$1" | pems /dev/stdin; }
fpr()    { openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//'; }   # stdin
pubkey_crt() { nth "$1" 1 | openssl x509 -noout -pubkey 2>/dev/null; }
# leaf_chain FILE PREFIX: PREFIX.leaf (first certificate) and PREFIX.chain (the others, may be empty)
leaf_chain() {
    nth "$1" 1 >"$2.leaf"
    awk '/-----BEGIN CERTIFICATE-----/ {i++} i >= 2' "$1" | pems /dev/stdin >"$2.chain"
}
# is_eq "what" A B
is_eq() { if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got [$2], want [$3]"; fi; }

# --- the PKI ---------------------------------------------------------------------
cat >"$T_TMP/manifest.json" <<'EOF'
{
  "version": 1,
  "cas": [
    {"name": "ca", "cert": "ca.crt", "key": "ca.key", "subject": "/O=pkictl/CN=etcd test CA"}
  ],
  "leaves": [
    {"name": "member1", "ca": "ca", "cert": "member1.crt", "key": "member1.key",
     "subject": "/O=pkictl/CN=member1", "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both"},
    {"name": "member2", "ca": "ca", "cert": "member2.crt", "key": "member2.key",
     "subject": "/O=pkictl/CN=member2", "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both"},
    {"name": "member3", "ca": "ca", "cert": "member3.crt", "key": "member3.key",
     "subject": "/O=pkictl/CN=member3", "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "both"},
    {"name": "client", "ca": "ca", "cert": "client.crt", "key": "client.key",
     "subject": "/CN=root", "usage": "client"},
    {"name": "web", "ca": "ca", "cert": "web.crt", "key": "web.key",
     "subject": "/O=pkictl/CN=web", "sans": ["dns:localhost", "ip:127.0.0.1"], "usage": "server"}
  ]
}
EOF
pk_ok "cluster init --manifest (CA ca; leaves member1-3, client, web)" \
    cluster init --manifest="$T_TMP/manifest.json" --dir="$P"
for f in ca.crt member1.crt member1.key member2.crt member2.key member3.crt member3.key \
         client.crt client.key web.crt web.key; do
    [ -s "$P/$f" ] || { not_ok "cluster init wrote $f" "missing; cannot go on"; finish; exit 1; }
done
cp "$P/ca.crt" "$TR/old.pem"
for n in member1 member2 member3 client web; do cp -p "$P/$n.crt" "$P/$n.key" "$OLD/"; done
is_eq "the original ca.crt holds one certificate" "$(ncerts "$TR/old.pem")" 1
OLD_CA_FPR=$(nth "$TR/old.pem" 1 | fpr)

# The unrelated CA for the negative controls.
pk_ok "an unrelated CA (cert create-ca)" cert create-ca --certs-dir="$RG" --ca-key="$T_TMP/rogue-ca.key"
pk_ok "a node certificate from the unrelated CA (create-node localhost 127.0.0.1)" \
    cert create-node localhost 127.0.0.1 --certs-dir="$RG" --ca-key="$T_TMP/rogue-ca.key"
pk_ok "a client certificate from the unrelated CA" \
    cert create-client root --certs-dir="$RG" --ca-key="$T_TMP/rogue-ca.key"

# Node folders, like separate machines: ca.crt (trust bundle), member.crt, member.key.
# install_member I SRC_CA SRC_CRT SRC_KEY
install_member() {
    local d=$T_TMP/node$1
    [ -d "$d" ] || mkdir -m 700 "$d"
    cp "$2" "$d/ca.crt.tmp" && mv "$d/ca.crt.tmp" "$d/ca.crt"
    cp "$3" "$d/member.crt.tmp" && mv "$d/member.crt.tmp" "$d/member.crt"
    install -m 600 "$4" "$d/member.key"
}
# set_client CA CRT KEY: the etcd client's (and the s_client "current" client's) files
set_client() {
    cp "$1" "$CLI/ca.crt"; cp "$2" "$CLI/client.crt"; install -m 600 "$3" "$CLI/client.key"
    leaf_chain "$CLI/client.crt" "$CLI/client"
}
for i in 1 2 3; do install_member "$i" "$TR/old.pem" "$P/member$i.crt" "$P/member$i.key"; done
set_client "$TR/old.pem" "$P/client.crt" "$P/client.key"
leaf_chain "$OLD/client.crt" "$OLD/client"

# --- etcd --------------------------------------------------------------------------
declare -a PPORT CPORT EPID LOGOFF
PORTS=()
port_new() {   # a free port not handed out before
    local p
    for _ in $(seq 1 50); do
        p=$(free_port) || return 1
        case " ${PORTS[*]} " in *" $p "*) continue ;; esac
        PORTS+=("$p"); echo "$p"; return 0
    done
    return 1
}
for i in 1 2 3; do PPORT[$i]=$(port_new); CPORT[$i]=$(port_new); done
ep() { echo "https://127.0.0.1:${CPORT[$1]}"; }
ALL_EPS="$(ep 1),$(ep 2),$(ep 3)"
ICLUSTER="member1=https://127.0.0.1:${PPORT[1]},member2=https://127.0.0.1:${PPORT[2]},member3=https://127.0.0.1:${PPORT[3]}"
LOG_RE='rejected connection|tls: |bad certificate|unknown authority|x509'

# etcd_start I [DIR]: member I with the files of DIR (default its node folder), logging to logs/memberI.log
etcd_start() {
    local i=$1 d=${2:-$T_TMP/node$1}
    echo "### test: start member$i with the files of ${d##*/} at $(date +%T)" >>"$T_TMP/logs/member$i.log"
    timeout 400 etcd --name "member$i" --data-dir "$T_TMP/etcd-data/member$i" \
        --listen-peer-urls "https://127.0.0.1:${PPORT[$i]}" \
        --initial-advertise-peer-urls "https://127.0.0.1:${PPORT[$i]}" \
        --listen-client-urls "$(ep "$i")" --advertise-client-urls "$(ep "$i")" \
        --initial-cluster "$ICLUSTER" --initial-cluster-state new --initial-cluster-token "pkictl-ca-rotation-$$" \
        --cert-file "$d/member.crt" --key-file "$d/member.key" --trusted-ca-file "$d/ca.crt" --client-cert-auth \
        --peer-cert-file "$d/member.crt" --peer-key-file "$d/member.key" --peer-trusted-ca-file "$d/ca.crt" \
        --peer-client-cert-auth \
        --heartbeat-interval 50 --election-timeout 500 --logger zap --log-outputs stderr \
        </dev/null >>"$T_TMP/logs/member$i.log" 2>&1 &
    EPID[$i]=$!
    T_PIDS+=("$!")
}
# etcd_stop I: SIGTERM (timeout passes it on), at most 10 s, then SIGKILL to etcd and timeout
etcd_stop() {
    local pid=${EPID[$1]:-} n c
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for n in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        for c in $(ps -o pid= --ppid "$pid" 2>/dev/null); do kill -KILL "$c" 2>/dev/null; done
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
    EPID[$1]=
    echo "### test: stopped member$1 at $(date +%T)" >>"$T_TMP/logs/member$1.log"
}
T_CLEANUP+=("etcd_stop 1" "etcd_stop 2" "etcd_stop 3")

# ectl CA CRT KEY args...: etcdctl with those files, bounded
ectl() {
    local ca=$1 crt=$2 key=$3; shift 3
    timeout 15 etcdctl --dial-timeout=2s --command-timeout=5s --cacert="$ca" --cert="$crt" --key="$key" "$@"
}
ecli() { ectl "$CLI/ca.crt" "$CLI/client.crt" "$CLI/client.key" "$@"; }

# wait_ready I: member I answers a health check (a committed proposal) within 20 s
wait_ready() {
    local end=$((SECONDS + 20))
    while [ "$SECONDS" -lt "$end" ]; do
        kill -0 "${EPID[$1]}" 2>/dev/null || return 1
        timeout 3 etcdctl --dial-timeout=1s --command-timeout=2s --cacert="$CLI/ca.crt" --cert="$CLI/client.crt" \
            --key="$CLI/client.key" --endpoints="$(ep "$1")" endpoint health >/dev/null 2>&1 && return 0
        sleep 0.3
    done
    return 1
}

# skip_logs: the next log check starts here
skip_logs() { local i; for i in 1 2 3; do LOGOFF[$i]=$(stat -c %s "$T_TMP/logs/member$i.log" 2>/dev/null || echo 0); done; }
# A "rejected connection" whose error is only EOF, a reset, a broken pipe or a closed listener is
# a handshake cut short (etcdctl with several endpoints dials all of them and closes the ones it
# did not need; a member stopping closes its listeners): no certificate was judged. A peer that refuses a certificate
# sends an alert ("remote error: tls: bad certificate") and the refusing side logs the x509 error.
ABORT_RE='"msg":"rejected connection".*"error":"(EOF|[^"]*(connection reset by peer|broken pipe|use of closed network connection))"'
# log_failures I: TLS handshake failures in member I's log since the last check
log_failures() {
    tail -c +"$((${LOGOFF[$1]:-0} + 1))" "$T_TMP/logs/member$1.log" 2>/dev/null |
        grep -E -- "$LOG_RE" | grep -vE -- "$ABORT_RE"
}
# log_aborts I: how many handshakes were abandoned (see ABORT_RE) since the last check
log_aborts() {
    tail -c +"$((${LOGOFF[$1]:-0} + 1))" "$T_TMP/logs/member$1.log" 2>/dev/null | grep -cE -- "$ABORT_RE"
}

# rec ok|fail "what" [detail]: a result of a step check. Recorded as ok/not ok, or, in probe
# mode (PROBE=1, for the negative controls), collected in PROBLEMS.
PROBE=
PROBLEMS=()
rec() {
    if [ -n "$PROBE" ]; then
        [ "$1" = fail ] && PROBLEMS+=("$2: ${3:-}")
        return 0
    fi
    if [ "$1" = ok ]; then ok "$2"; else not_ok "$2" "${3:-}"; fi
}

# step_check LABEL PUT_ON GET_FROM [old] [new=I,J..]: the cluster's health after a step.
#   old: the old client (original client.crt, trusting only the original CA) must work on all 3;
#   new=LIST: a client with the new client.crt trusting only the new CA must work on those members.
KEYN=0
step_check() {
    local label=$1 a=$2 b=$3 opt out n i val
    shift 3
    ecli --endpoints="$ALL_EPS" endpoint health --cluster >"$T_TMP/x/h.out" 2>&1
    n=$(grep -c 'is healthy' "$T_TMP/x/h.out")
    if [ "$n" -eq 3 ] && ! grep -q 'is unhealthy' "$T_TMP/x/h.out"; then rec ok "$label: endpoint health --cluster: 3 healthy"
    else rec fail "$label: endpoint health --cluster: 3 healthy" "$n healthy: $(head -c 600 "$T_TMP/x/h.out")"; fi

    KEYN=$((KEYN + 1)); val="v$KEYN-$RANDOM"
    if ecli --endpoints="$(ep "$a")" put "k$KEYN" "$val" >"$T_TMP/x/p.out" 2>&1 &&
       out=$(ecli --endpoints="$(ep "$b")" get "k$KEYN" --print-value-only 2>"$T_TMP/x/p.out") &&
       [ "$out" = "$val" ]; then
        rec ok "$label: put on member$a, linearizable get on member$b"
    else rec fail "$label: put on member$a, linearizable get on member$b" "got [${out:-}]: $(head -c 400 "$T_TMP/x/p.out")"; fi

    ecli --endpoints="$ALL_EPS" member list >"$T_TMP/x/m.out" 2>&1
    n=$(grep -cE ', started, member[123], https://127\.0\.0\.1:' "$T_TMP/x/m.out")
    if [ "$n" -eq 3 ]; then rec ok "$label: member list: 3 started"
    else rec fail "$label: member list: 3 started" "$(head -c 600 "$T_TMP/x/m.out")"; fi

    for opt in "$@"; do
        case $opt in
        old)
            ectl "$TR/old.pem" "$OLD/client.crt" "$OLD/client.key" --endpoints="$ALL_EPS" endpoint health \
                >"$T_TMP/x/o.out" 2>&1
            n=$(grep -c 'is healthy' "$T_TMP/x/o.out")
            if [ "$n" -eq 3 ]; then rec ok "$label: old client (original cert, trusts only the old CA) on all 3"
            else rec fail "$label: old client (original cert, trusts only the old CA) on all 3" "$(head -c 600 "$T_TMP/x/o.out")"; fi ;;
        new=*)
            local eps=
            for i in $(echo "${opt#new=}" | tr , ' '); do eps="$eps${eps:+,}$(ep "$i")"; done
            ectl "$TR/new.pem" "$CLI/client.crt" "$CLI/client.key" --endpoints="$eps" endpoint health \
                >"$T_TMP/x/n.out" 2>&1
            n=$(grep -c 'is healthy' "$T_TMP/x/n.out")
            if [ "$n" -eq "$(echo "${opt#new=}" | tr , ' ' | wc -w)" ]; then
                rec ok "$label: new client (trusts only the new CA) on member(s) ${opt#new=}"
            else rec fail "$label: new client (trusts only the new CA) on member(s) ${opt#new=}" "$(head -c 600 "$T_TMP/x/n.out")"; fi ;;
        esac
    done

    sleep 0.3   # let the members log what the checks above may have caused
    [ -n "${INTEROP_VERBOSE:-}" ] && echo "    # $label: abandoned handshakes: $(log_aborts 1) $(log_aborts 2) $(log_aborts 3)"
    for i in 1 2 3; do
        if out=$(log_failures "$i"); then
            rec fail "$label: no TLS handshake failure in member$i's log" "$(printf '%s\n' "$out" | head -n 3 | cut -c 1-400)"
        else rec ok "$label: no TLS handshake failure in member$i's log"; fi
    done
    skip_logs
}

# chain_opt PREFIX: CHAIN_OPT=(-cert_chain PREFIX.chain) when that file holds certificates, else ()
chain_opt() { CHAIN_OPT=(); [ -s "$1.chain" ] && CHAIN_OPT=(-cert_chain "$1.chain"); return 0; }

# served_check I LABEL: member I's peer and client ports serve exactly its node folder's member.crt
served_check() {
    local i=$1 port kind got want
    want=$(pems "$T_TMP/node$i/member.crt")
    chain_opt "$CLI/client"
    for kind in peer client; do
        if [ "$kind" = peer ]; then port=${PPORT[$i]}; else port=${CPORT[$i]}; fi
        got=$(timeout 15 openssl s_client -connect "127.0.0.1:$port" -verify_return_error -verify_ip 127.0.0.1 \
                -CAfile "$CLI/ca.crt" -cert "$CLI/client.leaf" -key "$CLI/client.key" "${CHAIN_OPT[@]}" \
                -showcerts </dev/null 2>"$T_TMP/x/s.err" | pems /dev/stdin)
        if [ -n "$want" ] && [ "$got" = "$want" ]; then
            ok "$2: member$i's $kind port serves its node folder's member.crt ($(ncerts "$T_TMP/node$i/member.crt") certificate(s))"
        else
            not_ok "$2: member$i's $kind port serves its node folder's member.crt" \
                "served $(printf '%s\n' "$got" | grep -c BEGIN) certificate(s), file has $(ncerts "$T_TMP/node$i/member.crt"): $(head -c 300 "$T_TMP/x/s.err")"
        fi
    done
}

# restart I LABEL: stop member I, start it with its node folder, wait until it is healthy. If it
# does not come back, the step check shows what the members logged, and the test stops: every
# later step would fail the same way.
restart() {
    etcd_stop "$1"
    etcd_start "$1"
    if wait_listen "${CPORT[$1]}" "${EPID[$1]}" && wait_ready "$1"; then ok "$2: member$1 restarted and healthy"; return 0; fi
    not_ok "$2: member$1 restarted and healthy" "$(grep -E -- "$LOG_RE" "$T_TMP/logs/member$1.log" | tail -n 2 | cut -c 1-400)"
    step_check "$2 (member$1 not healthy)" "$1" "$1"
    finish; exit 1
}

# --- s_server / s_client -------------------------------------------------------------
# web_start NAME CRT KEY CAFILE: s_server -www requiring a client certificate; sets WPORT_NAME
declare -A WPORT WPID
web_start() {
    local name=$1 port
    leaf_chain "$2" "$T_TMP/x/web-$name"
    chain_opt "$T_TMP/x/web-$name"
    for _ in 1 2 3; do
        port=$(port_new) || return 1
        timeout 300 openssl s_server -accept "127.0.0.1:$port" -cert "$T_TMP/x/web-$name.leaf" -key "$3" \
            "${CHAIN_OPT[@]}" \
            -CAfile "$4" -Verify 1 -verify_return_error -www </dev/null >"$T_TMP/logs/web-$name.log" 2>&1 &
        WPID[$name]=$!; T_PIDS+=("$!")
        if wait_listen "$port" "${WPID[$name]}"; then WPORT[$name]=$port; return 0; fi
        kill "${WPID[$name]}" 2>/dev/null; wait "${WPID[$name]}" 2>/dev/null
    done
    return 1
}
web_stop() { kill "${WPID[$1]}" 2>/dev/null; wait "${WPID[$1]}" 2>/dev/null; }
# web_get NAME CAFILE CLIENT_PREFIX (PREFIX.leaf, PREFIX.chain, key KEY): one HTTP request over
# mutual TLS, verifying the server's chain and name; passes on "200 ok"
web_get() {
    chain_opt "$3"
    printf 'GET / HTTP/1.0\r\n\r\n' |
        timeout 15 openssl s_client -connect "127.0.0.1:${WPORT[$1]}" -verify_return_error -verify_hostname localhost \
            -CAfile "$2" -cert "$3.leaf" -key "$4" \
            "${CHAIN_OPT[@]}" -ign_eof 2>"$T_TMP/x/web.err" |
        grep -aq 'HTTP/1.0 200 ok'
}
# web_ok "what" args: web_get must pass; web_refused "what" args: must not
web_ok() {
    local w=$1; shift
    if web_get "$@"; then ok "$w"
    else not_ok "$w" "no HTTP 200 over mutual TLS: $(grep -aiE 'error|alert' "$T_TMP/x/web.err" | head -n 2 | cut -c 1-200)"; fi
}
# web_refused "what" REGEX args: web_get must fail, and s_client's stderr must match REGEX (the reason)
CLIENT_REFUSES='certificate verify failed'
SERVER_REFUSES='alert (unknown ca|bad certificate|certificate unknown)'
web_refused() {
    local w=$1 re=$2; shift 2
    if web_get "$@"; then not_ok "$w" "the handshake succeeded"
    elif grep -aqE -- "$re" "$T_TMP/x/web.err"; then ok "$w"
    else not_ok "$w" "refused, but s_client's output lacks /$re/: $(grep -aiE 'error|alert' "$T_TMP/x/web.err" | head -n 2 | cut -c 1-200)"; fi
}

# === baseline =========================================================================
for i in 1 2 3; do etcd_start "$i"; done
up=1
for i in 1 2 3; do
    wait_listen "${CPORT[$i]}" "${EPID[$i]}" && wait_listen "${PPORT[$i]}" "${EPID[$i]}" || up=
done
if [ -n "$up" ] && wait_ready 1 && wait_ready 2 && wait_ready 3; then
    ok "3 etcd members start on 127.0.0.1 with peer and client certificate authentication"
else
    not_ok "3 etcd members start on 127.0.0.1 with peer and client certificate authentication" \
        "$(for i in 1 2 3; do echo "member$i:"; tail -n 4 "$T_TMP/logs/member$i.log" | cut -c 1-300; done)"
    finish; exit 1
fi
skip_logs   # start-up noise (members dialling members not yet listening) is not a handshake
step_check "baseline" 1 2 old
for i in 1 2 3; do served_check "$i" "baseline"; done

web_start old "$P/web.crt" "$P/web.key" "$TR/old.pem" ||
    { not_ok "s_server starts with the original web.crt"; finish; exit 1; }
leaf_chain "$RG/client.root.crt" "$T_TMP/x/rogue-client"
web_ok "baseline: s_client (trusts the CA, original client cert) gets HTTP 200 from s_server (web.crt)" \
    old "$TR/old.pem" "$OLD/client" "$OLD/client.key"
web_refused "baseline: s_client trusting only an unrelated CA refuses web.crt" "$CLIENT_REFUSES" \
    old "$RG/ca.crt" "$OLD/client" "$OLD/client.key"
web_refused "baseline: s_server refuses a client certificate from an unrelated CA" "$SERVER_REFUSES" \
    old "$TR/old.pem" "$T_TMP/x/rogue-client" "$RG/client.root.key"

# === negative control: a member with a leaf from an unrelated CA =======================
mkdir -m 700 "$T_TMP/rogue-node"
cp "$TR/old.pem" "$T_TMP/rogue-node/ca.crt"      # it trusts the cluster; the cluster must not trust it
cp "$RG/node.crt" "$T_TMP/rogue-node/member.crt"
install -m 600 "$RG/node.key" "$T_TMP/rogue-node/member.key"
etcd_stop 3
skip_logs
etcd_start 3 "$T_TMP/rogue-node"
wait_listen "${CPORT[3]}" "${EPID[3]}" >/dev/null
for n in $(seq 1 40); do       # wait (at most 10 s) until member1 or member2 logs a rejection
    { log_failures 1 || log_failures 2; } >/dev/null && break
    sleep 0.25
done
PROBE=1; PROBLEMS=()
step_check "rogue member3" 1 2 old
PROBE=
if printf '%s\n' "${PROBLEMS[@]}" | grep -E "no TLS handshake failure in member[12]'s log" |
        grep -qE 'unknown authority|bad certificate'; then
    ok "negative control: member1/member2's logs show the rogue member3 rejected"
    printf '%s\n' "${PROBLEMS[@]}" | grep -E "member[12]'s log" | head -n 1 | cut -c 1-300 | sed 's/^/    # /'
else not_ok "negative control: member1/member2's logs show the rogue member3 rejected" "problems found: ${PROBLEMS[*]:-none}"; fi
if printf '%s\n' "${PROBLEMS[@]}" | grep -q 'endpoint health --cluster'; then
    ok "negative control: endpoint health --cluster fails with the rogue member3"
else not_ok "negative control: endpoint health --cluster fails with the rogue member3" "problems found: ${PROBLEMS[*]:-none}"; fi
etcd_stop 3
skip_logs
etcd_start 3
if wait_listen "${CPORT[3]}" "${EPID[3]}" && wait_ready 3; then ok "member3 restarted with its own files after the negative control"
else not_ok "member3 restarted with its own files after the negative control" "$(tail -n 5 "$T_TMP/logs/member3.log" | cut -c 1-300)"; fi
# etcd's peer prober (every 4 s) keeps the rogue's x509 error as its status until its next probe
# succeeds, and reports an unhealthy status every 30 s: let it probe the restored member3 before
# the next log check starts.
sleep 5
skip_logs
step_check "member3 restored" 3 1 old

# === ca stage ==========================================================================
snap0=$(snapshot "$P")
pk_ok "ca stage --dir=pki --out=staging" ca stage --dir="$P" --out="$S"
[ -s "$S/cross/ca.crt" ] || { not_ok "ca stage wrote staging/cross/ca.crt" "cannot go on"; finish; exit 1; }
cp "$T_TMP/.out" "$T_TMP/x/stage.out"
same "ca stage changes nothing in the cluster folder (names, modes, checksums)" "$snap0" "$(snapshot "$P")"
token=$(sed -n 's/^token: \(pkictl1:sha256:[0-9a-f]\{64\}\)$/\1/p' "$T_TMP/x/stage.out")
same "ca stage prints the token, sha256 of staging/trust-bundle.pem" "$token" \
    "pkictl1:sha256:$(sha256sum <"$S/trust-bundle.pem" 2>/dev/null | cut -d' ' -f1)"
check "the staged cross-signed certificate verifies under the old CA" \
    openssl verify -CAfile "$TR/old.pem" "$S/cross/ca.crt"
step_check "after stage" 2 3 old
web_ok "after stage: s_client (trusts the CA, original client cert) gets HTTP 200 from s_server (web.crt)" \
    old "$TR/old.pem" "$OLD/client" "$OLD/client.key"

# === ca rotate =========================================================================
pk_ok "ca rotate --dir=pki --path=staging" ca rotate --dir="$P" --path="$S" || true
if [ "$(nth "$P/ca.crt" 1 | fpr)" = "$OLD_CA_FPR" ]; then not_ok "ca rotate put a new CA first in ca.crt" "cannot go on"; finish; exit 1; fi
is_eq "after rotate ca.crt holds 2 certificates (new CA, then old)" "$(ncerts "$P/ca.crt")" 2
nth "$P/ca.crt" 1 >"$TR/new.pem"
same "after rotate ca.crt's second certificate is the old CA" "$OLD_CA_FPR" "$(nth "$P/ca.crt" 2 | fpr)"
if [ -n "$(nth "$P/ca.crt" 1 | fpr)" ] && [ "$(nth "$P/ca.crt" 1 | fpr)" != "$OLD_CA_FPR" ]; then
    ok "after rotate ca.crt's first certificate is a new CA"
else not_ok "after rotate ca.crt's first certificate is a new CA" "it is the old one or unreadable"; fi
for n in member1 member2 member3 client web; do
    leaf_chain "$P/$n.crt" "$T_TMP/x/rot-$n"
    if [ "$(ncerts "$P/$n.crt")" = 2 ] && [ "$(pems "$T_TMP/x/rot-$n.chain")" = "$(pems "$S/cross/ca.crt")" ]; then
        ok "after rotate $n.crt is the leaf and the cross-signed certificate"
    else not_ok "after rotate $n.crt is the leaf and the cross-signed certificate" "$(ncerts "$P/$n.crt") certificate(s)"; fi
    same "after rotate $n keeps its key" "$(pubkey_crt "$OLD/$n.crt")" "$(pubkey_crt "$P/$n.crt")"
    check "after rotate $n.crt verifies trusting only the old CA (through the cross-signed cert)" \
        openssl verify -CAfile "$TR/old.pem" -untrusted "$T_TMP/x/rot-$n.chain" "$T_TMP/x/rot-$n.leaf"
    check "after rotate $n.crt verifies trusting only the new CA" \
        openssl verify -CAfile "$TR/new.pem" "$T_TMP/x/rot-$n.leaf"
done
cp "$P/ca.crt" "$TR/rotated.pem"
same "after rotate pkictl-trust-bundle.pem is the staged trust-bundle.pem" \
    "$(cat "$S/trust-bundle.pem" 2>/dev/null)" "$(cat "$P/pkictl-trust-bundle.pem" 2>/dev/null)"
check "after rotate cluster status: every certificate ok" "$PKICTL" cluster status --dir="$P"
leaf_chain "$P/client.crt" "$T_TMP/x/new-client"; cp "$P/client.key" "$T_TMP/x/new-client.key"
step_check "after rotate (no member restarted)" 1 2 old

# The client and the web server take the new files; the old s_server keeps running.
set_client "$P/ca.crt" "$P/client.crt" "$P/client.key"
web_start new "$P/web.crt" "$P/web.key" "$TR/rotated.pem" ||
    not_ok "s_server starts with the rotated web.crt (leaf + cross-signed)"
# web_matrix LABEL: the s_server/s_client matrix while old and new files coexist
web_matrix() {
    local label=$1 t c cl
    for t in old new; do for c in old new; do
        if [ "$c" = old ]; then cl=$OLD/client; else cl=$T_TMP/x/new-client; fi
        web_ok "$label: s_client trusting only the $t CA, $c client cert: HTTP 200 from the rotated web.crt" \
            new "$TR/$t.pem" "$cl" "$cl.key"
    done; done
    web_ok "$label: an s_server not yet updated (old web.crt, trusts only the old CA) accepts the new client cert with its chain" \
        old "$TR/old.pem" "$T_TMP/x/new-client" "$T_TMP/x/new-client.key"
}
web_matrix "after rotate"
web_refused "after rotate: a client trusting only the new CA refuses the old web.crt (the new-only bundle is new only)" \
    "$CLIENT_REFUSES" old "$TR/new.pem" "$T_TMP/x/new-client" "$T_TMP/x/new-client.key"

# Members restarted one at a time with the new files (rotated bundle, re-issued leaf + chain).
restart_new() {
    install_member "$1" "$P/ca.crt" "$P/member$1.crt" "$P/member$1.key"
    restart "$1" "rotate: new files on member$1"
    served_check "$1" "rotate: new files on member$1"
}
restart_new 1
step_check "member1 new, member2+3 old" 1 3 old new=1
step_check "member1 new, member2+3 old (reverse)" 3 1
web_matrix "member1 new"
restart_new 2
step_check "member1+2 new, member3 old" 2 3 old new=1,2
web_matrix "member1+2 new"
restart_new 3
step_check "all members new" 3 1 old new=1,2,3
web_matrix "all members new"

# === ca prune ==========================================================================
# When the last leaf the old CA signed expires (the re-issued ones expire seconds later).
last=0
for n in member1 member2 member3 client web; do
    e=$(date -d "$(openssl x509 -in "$OLD/$n.crt" -noout -enddate | sed 's/notAfter=//')" +%s)
    [ "$e" -gt "$last" ] && last=$e
done
snap1=$(snapshot "$P")
check "ca prune at the real time (old leaves still valid)" "$PKICTL" ca prune --dir="$P"
out_has "ca prune at the real time says the old CA is kept" 'kept|keep'
out_has "ca prune at the real time names the date it can go (the old leaves' expiry)" \
    "$(date -u -d "@$last" '+%Y-%m-%d %H:%M')"
is_eq "ca prune at the real time leaves 2 certificates in ca.crt" "$(ncerts "$P/ca.crt")" 2
check "ca prune a minute before the old leaves expire" env PKICTL_NOW="$((last - 60))" "$PKICTL" ca prune --dir="$P"
out_has "ca prune a minute before the old leaves expire keeps the old CA" 'kept|keep'
same "ca prune before the old leaves expire changes nothing in the cluster folder" "$snap1" "$(snapshot "$P")"

NOWP=$((last + 1))
check "ca prune with PKICTL_NOW past the old leaves' expiry" env PKICTL_NOW="$NOWP" "$PKICTL" ca prune --dir="$P"
cp "$T_TMP/.out" "$T_TMP/x/prune2.out"
out_has "ca prune then says the old CA is pruned" 'prune|remov'
is_eq "after prune ca.crt holds 1 certificate" "$(ncerts "$P/ca.crt")" 1
same "after prune ca.crt is the new CA" "$(nth "$TR/new.pem" 1 | fpr)" "$(nth "$P/ca.crt" 1 | fpr)"
token=$(sed -n 's/^token: \(pkictl1:sha256:[0-9a-f]\{64\}\)$/\1/p' "$T_TMP/x/prune2.out")
same "ca prune prints the new token, sha256 of pkictl-trust-bundle.pem" "$token" \
    "pkictl1:sha256:$(sha256sum <"$P/pkictl-trust-bundle.pem" 2>/dev/null | cut -d' ' -f1)"
for n in member1 member2 member3 client web; do
    is_eq "after prune $n.crt no longer carries the cross-signed certificate" "$(ncerts "$P/$n.crt")" 1
    same "after prune $n.crt is still the re-issued leaf" "$(fpr <"$T_TMP/x/rot-$n.leaf")" "$(nth "$P/$n.crt" 1 | fpr)"
done
check "after prune cluster status: every certificate ok" "$PKICTL" cluster status --dir="$P"
step_check "after prune (nothing distributed yet)" 1 2 old new=1,2,3
web_matrix "after prune (nothing distributed yet)"

# The pruned files, one member at a time.
restart_pruned() {
    install_member "$1" "$P/ca.crt" "$P/member$1.crt" "$P/member$1.key"
    restart "$1" "prune: pruned files on member$1"
    served_check "$1" "prune: pruned files on member$1"
}
restart_pruned 1
step_check "member1 pruned, member2+3 rotated" 1 3 new=1,2,3
web_matrix "member1 pruned"
restart_pruned 2
step_check "member1+2 pruned, member3 rotated" 2 3 new=1,2,3
web_matrix "member1+2 pruned"
restart_pruned 3
set_client "$P/ca.crt" "$P/client.crt" "$P/client.key"
step_check "all members pruned" 3 2 new=1,2,3

web_stop old; web_stop new
web_start pruned "$P/web.crt" "$P/web.key" "$P/ca.crt" || not_ok "s_server starts with the pruned web.crt"
leaf_chain "$P/client.crt" "$T_TMP/x/pruned-client"
web_ok "after prune: s_client trusting only the new CA, pruned client cert: HTTP 200 from the pruned web.crt" \
    pruned "$TR/new.pem" "$T_TMP/x/pruned-client" "$P/client.key"
web_ok "after prune: s_client with the rotated bundle (new + old): HTTP 200 from the pruned web.crt" \
    pruned "$TR/rotated.pem" "$T_TMP/x/pruned-client" "$P/client.key"
web_refused "after prune: a client trusting only the old CA refuses the pruned web.crt (no cross-signed cert)" \
    "$CLIENT_REFUSES" pruned "$TR/old.pem" "$T_TMP/x/pruned-client" "$P/client.key"
web_refused "after prune: the pruned s_server refuses the original client cert (old CA no longer trusted)" \
    "$SERVER_REFUSES" pruned "$TR/new.pem" "$OLD/client" "$OLD/client.key"

# === negative control: after the prune, the old CA is out ================================
# refused_everywhere "what" REGEX: every member's log shows, since the last check, a handshake
# failure (as the step check sees it) matching REGEX
refused_everywhere() {
    local i bad=
    sleep 0.3
    for i in 1 2 3; do log_failures "$i" | grep -qE -- "$2" || bad="$bad member$i"; done
    if [ -z "$bad" ]; then ok "$1"; else not_ok "$1" "not in the log of:$bad"; fi
    skip_logs
}
skip_logs
fails "after prune: the old client (trusts only the old CA) cannot reach any member" \
    ectl "$TR/old.pem" "$OLD/client.crt" "$OLD/client.key" --endpoints="$ALL_EPS" endpoint health
refused_everywhere "negative control: the log check sees every member's leaf refused by the old client" \
    'remote error: tls: bad certificate'
fails "after prune: members refuse the original client cert (their bundles hold only the new CA)" \
    ectl "$TR/new.pem" "$OLD/client.crt" "$OLD/client.key" --endpoints="$ALL_EPS" endpoint health
refused_everywhere "negative control: the log check sees every member refuse the original client cert" \
    'failed to verify client certificate: x509: certificate signed by unknown authority'

for i in 1 2 3; do etcd_stop "$i"; done
web_stop pruned
echo "# runtime $(( $(date +%s) - T0 )) s"
finish
