#!/usr/bin/env bash
# pkictl server under faults and bad input, the real binary on 127.0.0.1:
#  1. a slow client (a byte every 0.5 s) gets 408 at the request deadline and is
#     closed, while other clients are served at once (plain HTTP and TLS);
#  2. clients that vanish mid-request (FIN or RST) do not stop the server;
#  3. bad bodies and framing (malformed JSON, unknown fields, > 64 KiB, short body,
#     chunked, > 8 KiB of headers, bare LF, garbage, a TLS ClientHello): a JSON 4xx;
#  4. tokens: missing, unknown, conflicting, a service token out of its service;
#  5. the issuance rate limit (429 + Retry-After), and unlimited;
#  6. kill -9 in the middle of a rotation, before and after the store transaction;
#  7. a rotation racing with ~200 leaf requests: no leaf signed by a rotated-out root;
#  8. the signer process killed;
#  9. bootstrap safety: restarts, data dir / store key modes, lost key, corrupt store.
# Waits are bounded; the server's clock is the test clock file (server_lib.sh).
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/server_lib.sh"

W="$T_TMP/work"
mkdir -p "$W"
BG_PIDS=()
trap 'for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done; srv_stop; rm -rf "$T_TMP"' EXIT

# mkreq FILE METHOD PATH [TOKEN] [BODY] [EXTRA-HEADER-LINES]: a well-formed request
# (Connection: close, so a handler's error answer ends the connection too).
mkreq() {
    local f=$1 m=$2 p=$3 tok=${4:-} body=${5:-} extra=${6:-}
    {
        printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' "$m" "$p"
        [ -n "$tok" ] && printf 'X-Consul-Token: %s\r\n' "$tok"
        printf '%s' "$extra"
        [ -n "$body" ] && printf 'Content-Length: %d\r\n' "${#body}"
        printf '\r\n%s' "$body"
    } >"$f"
}
# raw_f RESULT FIELD: status, eof (true/false), t_answer or t_eof of a raw_http result
raw_f() {
    raw_load "$1"
    case $2 in
        status) echo "$RAW_STATUS" ;;
        eof) [ "$RAW_EOF" = 1 ] && echo true || echo false ;;
        t_answer) echo "$RAW_TANSWER" ;;
        t_eof) echo "$RAW_TEOF" ;;
    esac
}
# raw_err "what" RESULT STATUS [REGEX]: the answer is STATUS with a JSON
# {"error": "..."} body (matching REGEX), a right Content-Length, and the server
# closed the connection.
raw_err() {
    local what=$1 r=$2 want=$3 re=${4:-.}
    raw_load "$r"
    is_eq "$what: $want" "$RAW_STATUS" "$want"
    is_eq "$what: error body is JSON {\"error\": ...}" "$RAW_ERRJSON" 1
    has "$what: the error says why" "$(cat "$RAW_BODY")" "$re"
    is_eq "$what: Content-Length is right" "$RAW_CLOK" 1
    is_eq "$what: connection closed after the error" "$RAW_EOF" 1
}
# alive "what": the server process runs and answers a new request with 200
alive() {
    api GET /v1/connect/ca/roots
    if [ "$API_CODE" = 200 ] && kill -0 "$SRV_PID" 2>/dev/null; then ok "$1: server still serves"
    else not_ok "$1: server still serves" "code [$API_CODE], pid $SRV_PID $(kill -0 "$SRV_PID" 2>&1)"; fi
}
# timed_roots: "CODE SECONDS" of one GET roots on a new connection
timed_roots() {
    local args=(-sS -o /dev/null -w '%{http_code} %{time_total}' --max-time 5)
    case "$SRV_URL" in https:*) args+=(--cacert "$SRV_DIR/ca.pem") ;; esac
    curl "${args[@]}" "$SRV_URL/v1/connect/ca/roots" 2>/dev/null
}
between() { # "what" VALUE LO HI: LO <= VALUE < HI (decimals)
    if awk -v v="$2" -v lo="$3" -v hi="$4" 'BEGIN { exit !(v ~ /^-?[0-9.]+$/ && v + 0 >= lo && v + 0 < hi) }'
    then ok "$1"; else not_ok "$1" "[$2] not in ($3, $4)"; fi
}
cfg_put() { # TOKEN JSON-TEXT
    printf '%s' "$2" >"$W/cfg.json"
    api PUT /v1/connect/ca/configuration "$1" "$W/cfg.json"
}
leaf_split() { # JSON PREFIX: PREFIX.crt (leaf), PREFIX.chain (the rest of CertPEM)
    jget "$1" 'd["CertPEM"]' >"$2.all"
    awk -v a="$2.crt" -v b="$2.chain" '/BEGIN CERT/{n++} {print > (n==1 ? a : b)}' "$2.all"
}
# procs_gone PID...: none of them runs (waits up to 5 s)
procs_gone() {
    local i p alive
    for i in $(seq 1 100); do
        alive=""
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
        [ -z "$alive" ] && return 0
        sleep 0.05
    done
    echo "still running:$alive" >&2
    return 1
}
# pem_has_fpr FILE FPR: some certificate in the bundle FILE has SHA-1 fingerprint FPR
pem_has_fpr() {
    local i n; n=$(ncerts "$1")
    for i in $(seq 1 "$n"); do
        [ "$(nth_cert "$1" "$i" | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)" == "$2" ] && return 0
    done
    return 1
}

# ====================================================================== plain HTTP server
DA="$T_TMP/a"
# One worker, so "another client is served meanwhile" proves the event loop is not
# held by the slow client (with more, another worker could answer).
check "setup: plain-HTTP server, one worker, --request-timeout=2" srv_start "$DA" --insecure-http --request-timeout=2 --workers=1
is_eq "setup: one worker" "$(srv_worker_pids | wc -l)" 1
OPA=$(cat "$DA/operator.token")
has "setup: it listens on http://" "$SRV_URL" '^http://127\.0\.0\.1:[0-9]+$'

# ---------------------------------------------------------------- 1. slow client
printf 'GET /v1/connect/ca/roots HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris-test\r\n\r\n' >"$W/slow.req"
raw_http "$W/slow.json" "$W/slow.req" trickle=0.5 wait=6 &
SLOW=$!; BG_PIDS+=("$SLOW")
sleep 0.6   # network timing: the slow client is mid-request now
read -r c1 t1 < <(timed_roots)
sleep 0.7
read -r c2 t2 < <(timed_roots)
wait "$SLOW"
is_eq "slow client: another client is served meanwhile (200)" "$c1" 200
between "slow client: ... at once (< 0.8 s; the 408 is 1.4 s away)" "${t1:-9}" 0 0.8
is_eq "slow client: a second one later too" "$c2" 200
between "slow client: ... at once (< 0.8 s) " "${t2:-9}" 0 0.8
raw_err "slow client" "$W/slow.json" 408 "not complete in time"
between "slow client: 408 at the 2 s whole-request deadline" "$(raw_f "$W/slow.json" t_answer)" 1.5 3.5
between "slow client: closed within 4 s" "$(raw_f "$W/slow.json" t_eof)" 1.5 4.0
alive "after the slow client"
# A client that connects and sends nothing is dropped at the deadline too.
: >"$W/empty.req"
raw_http "$W/silent.json" "$W/empty.req" wait=6
is_eq "silent client: closed" "$(raw_f "$W/silent.json" eof)" true
between "silent client: closed at the deadline (2 s from accept)" "$(raw_f "$W/silent.json" t_eof)" 1.5 4.0

# ---------------------------------------------------------------- 2. clients that vanish
BODY='{"Provider":"consul","Config":{"LeafCertTTL":"48h"}}'
api GET /v1/connect/ca/configuration "$OPA"
MI0=$(jget "$API_BODY" 'd["ModifyIndex"]')
mkreq "$W/put.req" PUT /v1/connect/ca/configuration "$OPA" "$BODY"
HDRLEN=$(($(wc -c <"$W/put.req") - ${#BODY}))
raw_http "$W/half.json" "$W/put.req" send=$((HDRLEN + 20)) after=close
is_eq "headers + half a body, then FIN: no answer" "$(raw_f "$W/half.json" status)" 0
alive "after a half body and FIN"
raw_http "$W/half.json" "$W/put.req" send=$((HDRLEN + 20)) after=rst
alive "after a half body and RST"
raw_http "$W/half.json" "$W/put.req" send=30 after=rst
alive "after half a request line and RST"
mkreq "$W/leafa.req" GET /v1/agent/connect/ca/leaf/web "$OPA"
raw_http "$W/half.json" "$W/leafa.req" after=rst
alive "after a whole leaf request and an RST before the answer"
for i in 1 2 3 4 5; do raw_http "$W/half.json" "$W/leafa.req" after=close; done
alive "after five leaf requests whose answers nobody reads"
api GET /v1/connect/ca/configuration "$OPA"
is_eq "the cut-off configuration PUTs changed nothing" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$MI0"
api GET /v1/agent/connect/ca/leaf/web "$OPA"
is_eq "a leaf after the vanished clients: 200" "$API_CODE" 200

# ---------------------------------------------------------------- 3. bodies and framing
mkreq "$W/r.req" PUT /v1/connect/ca/configuration "$OPA" '{"Provider":'
raw_http "$W/r.json" "$W/r.req"
raw_err "config PUT with malformed JSON" "$W/r.json" 400
alive "after malformed JSON"
mkreq "$W/r.req" PUT /v1/connect/ca/configuration "$OPA" '{"Provider":"consul","Config":{},"Bogus":1}'
raw_http "$W/r.json" "$W/r.req"
raw_err "config PUT with an unknown top-level field" "$W/r.json" 400 "Bogus"
mkreq "$W/r.req" PUT /v1/connect/ca/configuration "$OPA" '{"Provider":"consul","Config":{"LeafTTL":"1h"}}'
raw_http "$W/r.json" "$W/r.req"
raw_err "config PUT with an unknown Config field" "$W/r.json" 400 "LeafTTL"
mkreq "$W/r.req" PUT /v1/acl/token "$OPA" '{"Description":"x","Policies":[{"Name":"operator"}],"Extra":true}'
raw_http "$W/r.json" "$W/r.req"
raw_err "token PUT with an unknown field" "$W/r.json" 400 "Extra"
mkreq "$W/r.req" POST /v1/connect/ca/sign "$OPA" '[1,2,3]'
raw_http "$W/r.json" "$W/r.req"
raw_err "sign with a JSON array" "$W/r.json" 400
mkreq "$W/r.req" PUT /v1/connect/ca/configuration "$OPA" "$(printf '{"Provider":"consul\xff\xfe"}')"
raw_http "$W/r.json" "$W/r.req"
raw_err "config PUT that is not UTF-8" "$W/r.json" 400
alive "after unknown fields"
api GET /v1/connect/ca/configuration "$OPA"
is_eq "refused bodies changed nothing" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$MI0"

mkreq "$W/r.req" POST /v1/connect/ca/sign "$OPA" "$(head -c 70000 /dev/zero | tr '\0' a)"
raw_http "$W/r.json" "$W/r.req"
raw_err "a 70,000-byte body" "$W/r.json" 413 "65536"
printf 'POST /v1/connect/ca/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Consul-Token: %s\r\nContent-Length: 999999999999\r\n\r\n' "$OPA" >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "Content-Length 999999999999 with no body" "$W/r.json" 413
between "... refused at once, without waiting for the body" "$(raw_f "$W/r.json" t_answer)" 0 1
mkreq "$W/r.req" POST /v1/connect/ca/sign "$OPA" "$(head -c 65536 /dev/zero | tr '\0' ' ')"
raw_http "$W/r.json" "$W/r.req"
is_eq "a body of exactly 64 KiB is read (400 for its content, not 413)" "$(raw_f "$W/r.json" status)" 400
alive "after the body limits"

printf 'PUT /v1/connect/ca/configuration HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Consul-Token: %s\r\nContent-Length: 200\r\n\r\n%s' \
    "$OPA" "$BODY" >"$W/short.req"
raw_http "$W/r.json" "$W/short.req" after=fin wait=5
is_eq "Content-Length 200, ${#BODY} bytes sent, then FIN: no answer" "$(raw_f "$W/r.json" status)" 0
is_eq "... the server closes" "$(raw_f "$W/r.json" eof)" true
between "... at once on the FIN (before the 2 s deadline)" "$(raw_f "$W/r.json" t_eof)" 0 1.5
raw_http "$W/r.json" "$W/short.req" wait=6
raw_err "Content-Length 200, ${#BODY} bytes sent, then silence" "$W/r.json" 408
api GET /v1/connect/ca/configuration "$OPA"
is_eq "the short-body PUTs were not applied" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$MI0"
alive "after short bodies"

printf 'POST /v1/connect/ca/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Consul-Token: %s\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' "$OPA" >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "a chunked body" "$W/r.json" 411 "Content-Length"
printf 'POST /v1/connect/ca/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "Transfer-Encoding and Content-Length together" "$W/r.json" 400
printf 'POST /v1/connect/ca/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "two different Content-Lengths" "$W/r.json" 400
printf 'POST /v1/connect/ca/sign HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "a negative Content-Length" "$W/r.json" 400
alive "after framing errors"

mkreq "$W/r.req" GET /v1/connect/ca/roots "" "" "X-Pad: $(head -c 9000 /dev/zero | tr '\0' p)"$'\r\n'
raw_http "$W/r.json" "$W/r.req"
raw_err "headers over 8 KiB" "$W/r.json" 431
python3 -c 'import sys; sys.stdout.write("GET /v1/connect/ca/roots HTTP/1.1\r\nHost: x\r\n" + "".join("X-H%d: v\r\n" % i for i in range(70)) + "\r\n")' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "70 header fields" "$W/r.json" 431 "64"
python3 -c 'import sys; sys.stdout.write("GET /" + "a" * 9000 + " HTTP/1.1\r\nHost: x\r\n\r\n")' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "a 9,000-byte request line" "$W/r.json" 431
alive "after oversized headers"

printf 'GET /v1/connect/ca/roots HTTP/1.1\nHost: 127.0.0.1\n\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "bare LF line endings" "$W/r.json" 400 "CRLF"
printf 'GET /v1/connect/ca/roots HTTP/1.1\r\nHost: 127.0.0.1\r\n folded\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "an obs-fold header line" "$W/r.json" 400
printf 'GET /v1/connect/ca/roots HTTP/1.1\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "HTTP/1.1 without Host" "$W/r.json" 400 "Host"
printf '\x00\x01\x02\xff\xfegarbage bytes\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "garbage bytes" "$W/r.json" 400
head -c 64 /dev/zero >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "64 NUL bytes" "$W/r.json" 400
between "... refused at once (not at the deadline)" "$(raw_f "$W/r.json" t_answer)" 0 1
python3 - >"$W/hello.bin" <<'PY'
import ssl, sys
ctx = ssl.create_default_context()
i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
t = ctx.wrap_bio(i, o, server_hostname="localhost")
try:
    t.do_handshake()
except ssl.SSLWantReadError:
    pass
sys.stdout.buffer.write(o.read())
PY
is_eq "setup: a TLS ClientHello (handshake record)" "$(head -c 1 "$W/hello.bin" | od -An -tx1 | tr -d ' ')" 16
raw_http "$W/r.json" "$W/hello.bin"
raw_err "a TLS ClientHello on the plain-HTTP port" "$W/r.json" 400
between "... refused at once (not at the deadline)" "$(raw_f "$W/r.json" t_answer)" 0 1
printf 'BREW /v1/connect/ca/roots HTTP/1.1\r\nHost: x\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
is_eq "an unknown method: 501" "$(raw_f "$W/r.json" status)" 501
printf 'GET /v1/connect/ca/../ca/roots HTTP/1.1\r\nHost: x\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
raw_err "a dot-dot path" "$W/r.json" 400
alive "after garbage"
# A keep-alive client's second request is served on the same connection.
printf 'GET /v1/connect/ca/roots HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/connect/ca/roots HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
is_eq "two pipelined requests: two 200 answers" "$(raw_f "$W/r.json" status) $(grep -o 'HTTP/1.1 200 ' "$W/r.json.body" | wc -l)" "200 1"
api GET /v1/metrics "$OPA"
has "metrics count the bad requests" "$(cat "$API_BODY")" '^pkictl_errors_total\{kind="bad_request"\} [1-9]'

# ---------------------------------------------------------------- 4. tokens
api GET /v1/connect/ca/configuration
is_eq "no token: 401" "$API_CODE" 401
has "no token: says so" "$(cat "$API_BODY")" '"error": *"missing token'
api GET /v1/connect/ca/configuration 11111111-2222-4333-8444-555555555555
is_eq "unknown token: 403" "$API_CODE" 403
has "unknown token: ACL not found" "$(cat "$API_BODY")" '"error": *"ACL not found'
both() { # X-TOKEN BEARER: code of GET config with both headers
    curl -sS -o "$W/both.json" -w '%{http_code}' --max-time 10 -H "X-Consul-Token: $1" \
        -H "Authorization: Bearer $2" "$SRV_URL/v1/connect/ca/configuration"
}
is_eq "X-Consul-Token and Bearer with different values: 400" "$(both "$OPA" 11111111-2222-4333-8444-555555555555)" 400
has "... says they differ" "$(cat "$W/both.json")" '"error": *".*different'
is_eq "... the operator token in either position is not enough" "$(both 11111111-2222-4333-8444-555555555555 "$OPA")" 400
is_eq "the same token in both headers: 200" "$(both "$OPA" "$OPA")" 200
code=$(curl -sS -o "$W/t.json" -w '%{http_code}' -H "X-Consul-Token: $OPA" -H "X-Consul-Token: $OPA" "$SRV_URL/v1/connect/ca/configuration")
is_eq "two X-Consul-Token headers: 400" "$code" 400
code=$(curl -sS -o "$W/t.json" -w '%{http_code}' -H "Authorization: Basic $(printf 'a:%s' "$OPA" | base64 -w0)" "$SRV_URL/v1/connect/ca/configuration")
is_eq "Authorization: Basic is not a token (401 or 400)" "$(case $code in 400|401) echo refused ;; *) echo "$code" ;; esac)" refused
code=$(curl -sS -o "$W/t.json" -w '%{http_code}' -H "X-Consul-Token: $(head -c 200 /dev/zero | tr '\0' a)" "$SRV_URL/v1/connect/ca/configuration")
is_eq "a 200-byte token: 400" "$code" 400

printf '{"Description":"web only","ServiceIdentities":[{"ServiceName":"web"}]}' >"$W/tok.json"
api PUT /v1/acl/token "$OPA" "$W/tok.json"
is_eq "setup: web token" "$API_CODE" 200
WEB=$(jget "$API_BODY" 'd["SecretID"]'); WEB_ACC=$(jget "$API_BODY" 'd["AccessorID"]')
api GET /v1/agent/connect/ca/leaf/web "$WEB"
is_eq "web token: leaf for web" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/db "$WEB"
is_eq "web token: leaf for db 403" "$API_CODE" 403
has "... Permission denied" "$(cat "$API_BODY")" '"error": *"Permission denied'
api GET /v1/agent/connect/ca/leaf/web2 "$WEB"
is_eq "web token: leaf for web2 (a prefix match would allow it) 403" "$API_CODE" 403
api GET /v1/agent/connect/ca/leaf/we "$WEB"
is_eq "web token: leaf for we 403" "$API_CODE" 403
TDA=$(api GET /v1/connect/ca/roots; jget "$API_BODY" 'd["TrustDomain"]')
csr_req dbcsr "URI:spiffe://$TDA/ns/default/dc/dc1/svc/db"
api POST /v1/connect/ca/sign "$WEB" "$W/dbcsr.req"
is_eq "web token: CSR for db 403" "$API_CODE" 403
has "... Permission denied" "$(cat "$API_BODY")" 'Permission denied'
csr_req webcsr "URI:spiffe://$TDA/ns/default/dc/dc1/svc/web"
api POST /v1/connect/ca/sign "$WEB" "$W/webcsr.req"
is_eq "web token: CSR for web 200" "$API_CODE" 200
api GET /v1/connect/ca/configuration "$WEB"
is_eq "web token: GET config 403" "$API_CODE" 403
cfg_put "$WEB" '{"Provider":"consul","Config":{"PrivateKeyType":"ec","PrivateKeyBits":384}}'
is_eq "web token: PUT config 403" "$API_CODE" 403
api GET /v1/metrics "$WEB"
is_eq "web token: metrics 403" "$API_CODE" 403
api PUT /v1/acl/token "$WEB" "$W/tok.json"
is_eq "web token: create token 403" "$API_CODE" 403
api GET /v1/acl/tokens "$WEB"
is_eq "web token: list tokens 403" "$API_CODE" 403
api DELETE "/v1/acl/token/$WEB_ACC" "$WEB"
is_eq "web token: delete (itself) 403" "$API_CODE" 403
api GET /v1/connect/ca/roots
is_eq "the web token's config PUT did not rotate" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
api DELETE "/v1/acl/token/$WEB_ACC" "$OPA"
is_eq "operator deletes the web token" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/web "$WEB"
is_eq "deleted token: 403" "$API_CODE" 403
has "... ACL not found" "$(cat "$API_BODY")" "ACL not found"
api POST /v1/connect/ca/sign "$WEB" "$W/webcsr.req"
is_eq "deleted token: sign 403" "$API_CODE" 403
api DELETE "/v1/acl/token/$WEB_ACC" "$OPA"
is_eq "deleting it again: 404" "$API_CODE" 404

# ---------------------------------------------------------------- 5. rate limit
cfg_put "$OPA" '{"Provider":"consul","Config":{"CSRMaxPerSecond":0.01}}'
is_eq "CSRMaxPerSecond 0.01 accepted" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/web "$OPA"
is_eq "rate 0.01/s: first leaf 200" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/web "$OPA"
is_eq "rate 0.01/s: second leaf 429" "$API_CODE" 429
has "... JSON error" "$(cat "$API_BODY")" '^\{"error": *"rate limit exceeded, retry later"\}$'
RA=$(sed -n 's/^Retry-After: *\([0-9]*\).*/\1/Ip' "$API_HDR" | tr -d '\r')
between "... Retry-After is 1 to 100 s" "${RA:-0}" 0.5 100.5
api POST /v1/connect/ca/sign "$OPA" "$W/webcsr.req"
is_eq "... and the sign endpoint shares the bucket (429)" "$API_CODE" 429
api GET /v1/connect/ca/roots
is_eq "... roots still served" "$API_CODE" 200
api GET /v1/connect/ca/configuration "$OPA"
is_eq "... configuration still served" "$API_CODE" 200
api GET /v1/metrics "$OPA"
has "... counted as rate_limited" "$(cat "$API_BODY")" '^pkictl_errors_total\{kind="rate_limited"\} [1-9]'
cfg_put "$OPA" '{"Provider":"consul","Config":{"CSRMaxPerSecond":-1}}'
is_eq "CSRMaxPerSecond -1 refused" "$API_CODE" 400
cfg_put "$OPA" '{"Provider":"consul","Config":{"CSRMaxPerSecond":0}}'
is_eq "CSRMaxPerSecond 0 accepted" "$API_CODE" 200
URLS=(); for i in $(seq 1 40); do URLS+=(-o /dev/null "$SRV_URL/v1/agent/connect/ca/leaf/web"); done
codes=$(curl -sS -w '%{http_code}\n' --max-time 60 -H "X-Consul-Token: $OPA" "${URLS[@]}" | sort | uniq -c | tr -s ' ')
is_eq "unlimited: 40 leaves in a row, all 200" "$codes" " 40 200"
srv_stop_clean "plain-HTTP server"

# ---------------------------------------------------------------- 5d. connections spread over workers
# The shared socket wakes every worker and the first to run would take every connection (2
# long connections on 1 of 2 workers: 1 core). A worker accepts only while no other has fewer
# connections; one that keeps declining takes a waiting connection after 50 ms, so a worker
# that does not run (stopped here) cannot strand connections.
DBAL="$T_TMP/bal"
check "setup: plain-HTTP server, two workers" srv_start "$DBAL" --insecure-http --workers=2
BAL=$(python3 - "$SRV_URL" $(srv_worker_pids) <<'PY'
import http.client, os, signal, sys, urllib.parse
url, pids = sys.argv[1], [int(p) for p in sys.argv[2:]]
u = urllib.parse.urlsplit(url)
conns = []
def per_worker():   # established connections to the port, by worker (in pids order)
    inodes = set()
    for l in open("/proc/net/tcp").read().splitlines()[1:]:
        x = l.split()
        if int(x[1].split(":")[1], 16) == u.port and x[3] == "01":
            inodes.add(x[9])
    out = []
    for p in pids:
        n = 0
        for fd in os.listdir(f"/proc/{p}/fd"):
            try:
                t = os.readlink(f"/proc/{p}/fd/{fd}")
            except OSError:
                continue
            n += t.startswith("socket:[") and t[8:-1] in inodes
        out.append(n)
    return out
def one():
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request("GET", "/v1/connect/ca/roots")
    ok = c.getresponse().status == 200
    conns.append(c)
    return ok
steps = []
os.kill(pids[1], signal.SIGSTOP)        # worker 1 cannot run: worker 0 takes both, the 2nd late
try:
    steps.append(f"{one()}:{one()}:{per_worker()}")
finally:
    os.kill(pids[1], signal.SIGCONT)
for _ in range(2):                      # worker 0 has more: worker 1 takes the next two
    steps.append(f"{one()}:{per_worker()}")
print(" ".join(s.replace(" ", "") for s in steps))
PY
)
is_eq "balance: worker 1 stopped: both connections served by worker 0" "${BAL%% *}" "True:True:[2,0]"
is_eq "... then worker 1 (fewer connections) takes the next two" "${BAL#* }" "True:[2,1] True:[2,2]"
srv_stop_clean "two-worker plain-HTTP server"

# ---------------------------------------------------------------- 5e. --pin-cpus
# Worker i and the signer it forks stay on the i-th CPU the server may use (round robin).
DPIN="$T_TMP/pin"
check "setup: plain-HTTP server, three workers, --pin-cpus" srv_start "$DPIN" --insecure-http --workers=3 --pin-cpus
PIN=$(python3 - $(srv_worker_pids) <<'PY'
import os, sys
allowed = sorted(os.sched_getaffinity(0))
def cpus(pid):
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("Cpus_allowed_list:"):
            return l.split()[1]
workers = sorted(int(p) for p in sys.argv[1:])   # forked in index order
out = []
for i, w in enumerate(workers):
    kids = open(f"/proc/{w}/task/{w}/children").read().split()
    want = str(allowed[i % len(allowed)])
    out.append(f"{cpus(w) == want}/{len(kids) == 1 and cpus(kids[0]) == want}")
print(" ".join(out))
PY
)
is_eq "pin: each worker and its signer on the worker's own CPU" "$PIN" "True/True True/True True/True"
for i in 1 2 3; do   # three connections: spread over the workers
  api GET /v1/agent/connect/ca/leaf/web "$(cat "$DPIN/operator.token")"
  is_eq "pin: leaf $i is issued" "$API_CODE:$(jget "$API_BODY" 'd["CertPEM"][:27]')" \
    "200:-----BEGIN CERTIFICATE-----"
done
srv_stop_clean "pinned server"

# ====================================================================== TLS server
DB="$T_TMP/b"
check "setup: TLS server, three workers, --request-timeout=2" srv_start "$DB" --request-timeout=2 --workers=3
is_eq "setup: three workers" "$(srv_worker_pids | wc -l)" 3
OPB=$(cat "$DB/operator.token")

# ---------------------------------------------------------------- 1b. slow client over TLS
raw_http "$W/slowtls.json" "$W/slow.req" tls="$DB/ca.pem" trickle=0.5 wait=6 &
SLOW=$!; BG_PIDS+=("$SLOW")
sleep 0.6
read -r c1 t1 < <(timed_roots)
wait "$SLOW"
is_eq "TLS slow client: another client is served meanwhile (200)" "$c1" 200
between "TLS slow client: ... at once (< 0.8 s)" "${t1:-9}" 0 0.8
raw_err "TLS slow client" "$W/slowtls.json" 408 "not complete in time"
between "TLS slow client: 408 at the deadline" "$(raw_f "$W/slowtls.json" t_answer)" 1.0 3.5
between "TLS slow client: closed within 4 s" "$(raw_f "$W/slowtls.json" t_eof)" 1.0 4.0
head -c 40 "$W/hello.bin" >"$W/hello.part"
raw_http "$W/r.json" "$W/hello.part" wait=6
is_eq "half a ClientHello: closed" "$(raw_f "$W/r.json" eof)" true
between "... at the deadline" "$(raw_f "$W/r.json" t_eof)" 1.0 4.0
raw_http "$W/r.json" "$W/hello.part" after=rst
alive "TLS: after a half handshake and RST"
raw_http "$W/r.json" "$W/slow.req" tls="$DB/ca.pem" send=20 after=rst
alive "TLS: after half a request and RST"
mkreq "$W/leafb.req" GET /v1/agent/connect/ca/leaf/web "$OPB"
raw_http "$W/r.json" "$W/leafb.req" tls="$DB/ca.pem" after=rst
alive "TLS: after a leaf request and RST before the answer"
printf 'GET /v1/connect/ca/roots HTTP/1.1\r\nHost: x\r\n\r\n' >"$W/r.req"
raw_http "$W/r.json" "$W/r.req"
is_eq "plain HTTP on the TLS port: no HTTP answer" "$(raw_f "$W/r.json" status)" 0
is_eq "... and the connection is closed" "$(raw_f "$W/r.json" eof)" true
raw_http "$W/r.json" "$W/leafb.req" tls="$DB/ca.pem"
is_eq "TLS raw client: leaf 200" "$(raw_f "$W/r.json" status)" 200

# ---------------------------------------------------------------- 5b. one rate bucket for all workers
cfg_put "$OPB" '{"Provider":"consul","Config":{"CSRMaxPerSecond":0.01}}'
is_eq "three workers, CSRMaxPerSecond 0.01" "$API_CODE" 200
api GET /v1/agent/connect/ca/leaf/web "$OPB"
is_eq "... first leaf 200" "$API_CODE" 200
codes=""
for i in 1 2 3 4 5 6 7 8 9; do   # new connections, spread over the workers
    codes="$codes $(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DB/ca.pem" \
        -H "X-Consul-Token: $OPB" "$SRV_URL/v1/agent/connect/ca/leaf/web")"
done
is_eq "... the next 9, on new connections to any worker, all 429 (one shared bucket)" "$codes" "$(printf ' 429%.0s' 1 2 3 4 5 6 7 8 9)"

# ---------------------------------------------------------------- 5c. token caches follow a delete
# Each worker keeps the tokens it has seen; a delete on one worker must reach them all
# before its answer (the shared store generation), never after some delay.
printf '{"Description":"cached","Policies":[{"Name":"operator"}]}' >"$W/tokc.json"
api PUT /v1/acl/token "$OPB" "$W/tokc.json"
is_eq "token cache: an operator token made" "$API_CODE" 200
TOKC=$(jget "$API_BODY" 'd["SecretID"]')
TOKC_ACC=$(jget "$API_BODY" 'd["AccessorID"]')
cfg_codes() { # N new connections (spread over the workers), GET the config with TOKC
    local i out=""
    for ((i = 0; i < $1; i++)); do
        out="$out $(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$DB/ca.pem" \
            -H "X-Consul-Token: $TOKC" "$SRV_URL/v1/connect/ca/configuration")"
    done
    echo "$out"
}
is_eq "token cache: used on 9 new connections (every worker caches it)" "$(cfg_codes 9)" \
    "$(printf ' 200%.0s' 1 2 3 4 5 6 7 8 9)"
api DELETE "/v1/acl/token/$TOKC_ACC" "$OPB"
is_eq "token cache: deleted" "$API_CODE" 200
is_eq "token cache: refused at once on 9 new connections, whichever worker" "$(cfg_codes 9)" \
    "$(printf ' 403%.0s' 1 2 3 4 5 6 7 8 9)"

# ---------------------------------------------------------------- 7. rotation racing with issuance
cfg_put "$OPB" '{"Provider":"consul","Config":{"CSRMaxPerSecond":0}}'
is_eq "race: CSRMaxPerSecond 0" "$API_CODE" 200
api GET /v1/connect/ca/roots
cp "$API_BODY" "$W/race-roots0.json"
jget "$W/race-roots0.json" 'd["Roots"][0]["RootCert"]' >"$W/race-root0.pem"
SK0=$(jget "$W/race-roots0.json" 'd["Roots"][0]["SigningKeyID"]' | tr a-f A-F)
R="$W/race"; mkdir -p "$R"
race_worker() { # ID COUNT: leaf requests one after another, each answer and its times saved
    local id=$1 n=$2 i t0 code
    for ((i = 0; i < n; i++)); do
        t0=$EPOCHREALTIME
        code=$(curl -sS -o "$R/$id-$i.json" -w '%{http_code}' --max-time 30 --cacert "$DB/ca.pem" \
            -H "X-Consul-Token: $OPB" "$SRV_URL/v1/agent/connect/ca/leaf/svc$id" 2>>"$R/curl.err")
        printf '%s %s %s %s\n' "$id-$i" "$t0" "$EPOCHREALTIME" "$code" >>"$R/log.$id"
    done
}
RACE_PIDS=()
for id in 1 2 3; do race_worker "$id" 67 & RACE_PIDS+=($!); BG_PIDS+=($!); done
for i in $(seq 1 600); do
    [ "$(cat "$R"/log.* 2>/dev/null | wc -l)" -ge 70 ] && break
    sleep 0.05
done
PUT_T0=$EPOCHREALTIME
cfg_put "$OPB" '{"Provider":"consul","Config":{"CSRMaxPerSecond":0,"PrivateKeyType":"ec","PrivateKeyBits":384}}'
PUT_T1=$EPOCHREALTIME
is_eq "race: rotation to ec 384 in the middle: 200" "$API_CODE" 200
for p in "${RACE_PIDS[@]}"; do wait "$p"; done
api GET /v1/connect/ca/roots
cp "$API_BODY" "$W/race-roots1.json"
jget "$W/race-roots1.json" 'd["Roots"][0]["RootCert"]' >"$W/race-root1.pem"
SK1=$(jget "$W/race-roots1.json" 'd["Roots"][0]["SigningKeyID"]' | tr a-f A-F)
is_ne "race: a new signing key" "$SK1" "$SK0"
cat "$W/race-root0.pem" "$W/race-root1.pem" >"$W/race-union.pem"
# One pass over the answers: split each CertPEM into leaf and chain, class it by time
# (before: answered before the PUT started; after: asked after the PUT returned),
# read the leaf's issuer and AKI and the chain's first certificate (one openssl run
# for all), and replay the audit log, the server's own order of events.
python3 - "$R" "$PUT_T0" "$PUT_T1" "$SK0" "$SK1" "$DB/audit.log" >"$W/race.out" <<'PY'
import glob, hashlib, json, os, re, subprocess, sys
r, p0, p1, sk0, sk1, audit = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
end = "-----END CERTIFICATE-----\n"
rows, bundle = [], []
for log in sorted(glob.glob(os.path.join(r, "log.*"))):
    for line in open(log):
        name, t0, t1, code = line.split()
        when = "before" if float(t1) < p0 else "after" if float(t0) > p1 else "during"
        row = {"name": name, "code": code, "when": when}
        if code == "200":
            d = json.load(open(os.path.join(r, name + ".json")))
            pem = d["CertPEM"]
            i = pem.index(end) + len(end)
            chain = pem[i:].lstrip("\n")
            row["chash"] = hashlib.sha256(chain.encode()).hexdigest()[:16]
            row["serial"] = d["SerialNumber"].upper()
            open(os.path.join(r, name + ".crt"), "w").write(pem[:i])
            open(os.path.join(r, "chain-" + row["chash"] + ".pem"), "w").write(chain)
            bundle += [pem[:i], chain[: chain.index(end) + len(end)]]
        rows.append(row)
open(os.path.join(r, "bundle.pem"), "w").write("".join(bundle))
text = subprocess.run(["openssl", "storeutl", "-noout", "-text", "-certs", os.path.join(r, "bundle.pem")],
                      capture_output=True, text=True).stdout
certs = re.split(r"^\d+: Certificate$", text, flags=re.M)[1:]
def field(t, pat):
    m = re.search(pat, t, re.M)
    return m.group(1).strip().upper() if m else "?"
info = [{"issuer": field(t, r"^\s*Issuer: (.*)$"), "subject": field(t, r"^\s*Subject: (.*)$"),
         "ski": field(t, r"Subject Key Identifier: *\n\s*(\S+)"),
         "aki": field(t, r"Authority Key Identifier: *\n\s*(?:keyid:)?(\S+)")} for t in certs]
bad_chain, bad_time, aki_of, k = [], [], {}, 0
for row in rows:
    if row["code"] != "200":
        continue
    leaf, first = info[k], info[k + 1]
    k += 2
    aki_of[row["serial"]] = leaf["aki"]
    if leaf["aki"] != first["ski"] or leaf["issuer"] != first["subject"]:
        bad_chain.append(row["name"])
    want = {"before": [sk0], "after": [sk1], "during": [sk0, sk1]}[row["when"]]
    if leaf["aki"] not in want:
        bad_time.append("%s(%s)" % (row["name"], row["when"]))
with open(os.path.join(r, "race.tsv"), "w") as f:
    for row in rows:
        f.write("%s %s %s %s\n" % (row["name"], row["code"], row["when"], row.get("chash", "-")))
# The rotating worker writes root.rotate after its store transaction: a leaf
# logged after that line and signed by the old key was answered after the old
# root was rotated out. (A new-key leaf logged before it is fine: another
# worker may see the transaction before the rotating worker writes the line.)
rotated, seen, bad_audit, early_new = False, 0, [], 0
for line in open(audit):
    e = json.loads(line)
    if e["event"] == "root.rotate" and seen > 0:
        rotated = True
    if e["event"] == "leaf.issue" and e["serial"].upper() in aki_of:
        seen += 1
        key = aki_of[e["serial"].upper()]
        if key not in (sk0, sk1) or (rotated and key == sk0):
            bad_audit.append(e["serial"])
        early_new += not rotated and key == sk1
print("parsed", len(certs), 2 * len(aki_of))
print("non200", sum(1 for x in rows if x["code"] != "200"))
for w in ("before", "after", "during"):
    print(w, sum(1 for x in rows if x["when"] == w))
print("bad_chain", len(bad_chain), " ".join(bad_chain[:5]))
print("bad_time", len(bad_time), " ".join(bad_time[:5]))
print("audit_seen", seen)
print("bad_audit", len(bad_audit), " ".join(bad_audit[:5]))
print("early_new", early_new)
PY
rv() { awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$W/race.out"; }
N=$(wc -l <"$R/race.tsv")
is_eq "race: 201 leaf requests made" "$N" 201
is_eq "race: every answer 200" "$(rv non200)" 0
is_eq "race: every leaf and its chain's first certificate parsed" "$(rv parsed)" "402 402"
NB=$(rv before); NA=$(rv after)
check "race: leaves answered before the PUT ($NB) and asked after it ($NA), at least 20 each" test "${NB:-0}" -ge 20 -a "${NA:-0}" -ge 20
is_eq "race: every leaf's issuer (name and key id) is the first certificate of its own CertPEM" "$(rv bad_chain)" 0
is_eq "race: leaves answered before the PUT have the old signing key, asked after it the new" "$(rv bad_time)" 0
is_eq "race: the audit log lists all 201 leaves" "$(rv audit_seen)" 201
is_eq "race: in the audit order, no leaf after root.rotate has the old key" "$(rv bad_audit)" 0
echo "# race: $(rv early_new) new-key leaves logged before root.rotate (other workers saw the switch first)"
# openssl verify, per distinct chain, all its leaves at once.
verify_group() { # CAFILE WHEN-REGEX: "bad" groups
    local ca=$1 when=$2 chain h nok files bad=""
    for chain in "$R"/chain-*.pem; do
        h=$(basename "$chain" .pem); h=${h#chain-}
        mapfile -t files < <(awk -v h="$h" -v r="$R" -v w="$when" '$4 == h && $3 ~ w { print r "/" $1 ".crt" }' "$R/race.tsv")
        [ "${#files[@]}" -gt 0 ] || continue
        nok=$(openssl verify -CAfile "$ca" -untrusted "$chain" "${files[@]}" 2>/dev/null | grep -c ': OK$')
        [ "$nok" -eq "${#files[@]}" ] || bad="$bad $h:$nok/${#files[@]}"
    done
    echo "$bad"
}
is_eq "race: every leaf verifies with the union of the roots and its own chain" "$(verify_group "$W/race-union.pem" .)" ""
is_eq "race: every leaf asked after the PUT returned verifies under the new root alone" "$(verify_group "$W/race-root1.pem" '^after$')" ""
is_eq "race: leaves answered before the PUT verify under the old root alone" "$(verify_group "$W/race-root0.pem" '^before$')" ""

# ---------------------------------------------------------------- 8. the signer dies
WORKERS=$(srv_worker_pids | tr '\n' ' ')
SIGNERS=$(srv_signer_pids | tr '\n' ' ')
is_eq "signer: one per worker" "$(wc -w <<<"$SIGNERS")" 3
is_eq "signer: each runs with no_new_privs" \
    "$(for p in $SIGNERS; do awk '/^NoNewPrivs/ { print $2 }' "/proc/$p/status"; done 2>/dev/null | grep -c '^1$')" 3
# Every worker's signer, so whichever worker takes the next request has lost its own.
kill -KILL $SIGNERS
T0=$EPOCHREALTIME
api GET /v1/agent/connect/ca/leaf/web "$OPB"
T1=$EPOCHREALTIME
is_eq "signer killed: leaf answers 503" "$API_CODE" 503
has "... JSON error naming the signer" "$(cat "$API_BODY")" '"error": *".*signer'
between "... at once (no hang)" "$(awk -v a="$T0" -v b="$T1" 'BEGIN { print b - a }')" 0 5
if srv_wait_exit 5; then
    ok "signer killed: the server stops (docs/server.md: 503, then exit non-zero)"
    is_eq "... with status 1" "$SRV_RC" 1
    srv_san_clean "signer killed"
    check "... no worker is left behind" procs_gone $WORKERS
else
    not_ok "signer killed: the server stops (docs/server.md: 503, then exit non-zero)" "still running 5 s later"
    api GET /v1/agent/connect/ca/leaf/web "$OPB"
    is_eq "... at least later issuance keeps answering 503" "$API_CODE" 503
    srv_stop
    srv_san_clean "signer killed"
fi
check "signer killed: restart on the same data dir" srv_start "$DB" --request-timeout=2 --workers=3
api GET /v1/agent/connect/ca/leaf/web "$OPB"
is_eq "... issues again" "$API_CODE" 200
leaf_split "$API_BODY" "$W/after-signer"
check "... under the rotated root" openssl verify -CAfile "$W/race-root1.pem" -untrusted "$W/after-signer.chain" "$W/after-signer.crt"
srv_stop_clean "TLS server (after the signer restart)"

# ====================================================================== 6. kill -9 in a rotation
D6="$T_TMP/six"
check "setup: server for the kill tests (two workers)" srv_start "$D6" --workers=2
OP6=$(cat "$D6/operator.token")
api GET /v1/connect/ca/roots; cp "$API_BODY" "$W/k-roots0.json"
api GET /v1/connect/ca/configuration "$OP6"; cp "$API_BODY" "$W/k-cfg0.json"
jget "$W/k-roots0.json" 'd["Roots"][0]["RootCert"]' >"$W/k-root0.pem"
cp "$D6/ca.pem" "$W/k-capem0"
srv_stop_clean "kill tests: first server"

# put_killed JSON-FILE: a config PUT to a server that kills itself meanwhile; sets
# PK_CODE (curl's %{http_code}), PK_CRC (curl's exit) and PK_GONE (1: it exited).
put_killed() {
    PK_CODE=$(curl -sS -o "$W/k.out" -w '%{http_code}' --max-time 20 --cacert "$D6/ca.pem" \
        -H "X-Consul-Token: $OP6" -X PUT --data-binary @"$1" "$SRV_URL/v1/connect/ca/configuration")
    PK_CRC=$?
    PK_GONE=0
    srv_wait_exit 10 && PK_GONE=1
} 2>/dev/null   # curl's error and bash's "Killed" notice are expected

# -- killed after generating the new CA, before the store transaction
PKICTL_TEST_KILL_AT=rotate:generated srv_start "$D6" --workers=2
check "kill at rotate:generated: started with the hook" grep -qz '^PKICTL_TEST_KILL_AT=rotate:generated$' "/proc/$SRV_PID/environ"
KPIDS="$(srv_worker_pids | tr '\n' ' ')$(srv_signer_pids | tr '\n' ' ')"
is_eq "... two workers and two signers" "$(wc -w <<<"$KPIDS")" 4
printf '%s' '{"Provider":"consul","Config":{"PrivateKeyType":"ec","PrivateKeyBits":384}}' >"$W/rot384.json"
put_killed "$W/rot384.json"
is_ne "... the config PUT gets no answer (curl fails)" "$PK_CRC" 0
is_eq "... no HTTP status" "$PK_CODE" 000
if [ "$PK_GONE" = 1 ]; then ok "... the server is gone"; else not_ok "... the server is gone" "still running"; srv_stop; fi
is_eq "... a worker's death stops the server: exit 1" "$SRV_RC" 1
check "... no worker or signer is left behind" procs_gone $KPIDS
check "restart without the hook" srv_start "$D6" --workers=2
check "... the hook is not in its environment" bash -c "! grep -qz '^PKICTL_TEST_KILL_AT=' /proc/$SRV_PID/environ"
api GET /v1/connect/ca/roots
canon() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True))' "$1" 2>/dev/null; }
same "... roots exactly as before" "$(canon "$API_BODY")" "$(canon "$W/k-roots0.json")"
is_eq "... same ActiveRootID" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$(jget "$W/k-roots0.json" 'd["ActiveRootID"]')"
is_eq "... one root" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
api GET /v1/connect/ca/configuration "$OP6"
is_eq "... PrivateKeyBits still 256" "$(jget "$API_BODY" 'd["Config"]["PrivateKeyBits"]')" 256
is_eq "... PrivateKeyType still ec" "$(jget "$API_BODY" 'd["Config"]["PrivateKeyType"]')" ec
is_eq "... config ModifyIndex unchanged" "$(jget "$API_BODY" 'd["ModifyIndex"]')" "$(jget "$W/k-cfg0.json" 'd["ModifyIndex"]')"
is_eq "... ca.pem unchanged" "$(sha256sum <"$D6/ca.pem")" "$(sha256sum <"$W/k-capem0")"
api GET /v1/agent/connect/ca/leaf/web "$OP6"
is_eq "... leaf 200" "$API_CODE" 200
leaf_split "$API_BODY" "$W/k-leaf1"
check "... the leaf verifies under the old root" openssl verify -CAfile "$W/k-root0.pem" -untrusted "$W/k-leaf1.chain" "$W/k-leaf1.crt"
lacks "... no root.rotate in the audit log" "$(cat "$D6/audit.log")" '"event":"root.rotate"'
check "... the audit chain is intact" "$PKICTL" audit verify "$D6/audit.log" --data-dir "$D6"
api PUT /v1/connect/ca/configuration "$OP6" "$W/rot384.json"
is_eq "... then the same rotation succeeds" "$API_CODE" 200
api GET /v1/connect/ca/roots; cp "$API_BODY" "$W/k-roots1.json"
is_eq "... two roots now" "$(jget "$W/k-roots1.json" 'len(d["Roots"])')" 2
is_eq "... the new root is P-384" "$(jget "$W/k-roots1.json" 'd["Roots"][0]["PrivateKeyBits"]')" 384
jget "$W/k-roots1.json" 'd["Roots"][0]["RootCert"]' >"$W/k-root1.pem"
ROOT1=$(jget "$W/k-roots1.json" 'd["ActiveRootID"]')
srv_stop_clean "kill tests: after rotate:generated"

# -- killed after the store transaction
PKICTL_TEST_KILL_AT=rotate:stored srv_start "$D6" --workers=2
KPIDS="$(srv_worker_pids | tr '\n' ' ')$(srv_signer_pids | tr '\n' ' ')"
printf '%s' '{"Provider":"consul","Config":{"PrivateKeyType":"ec","PrivateKeyBits":521}}' >"$W/rot521.json"
put_killed "$W/rot521.json"
is_ne "kill at rotate:stored: the config PUT gets no answer (curl fails)" "$PK_CRC" 0
is_eq "... no HTTP status" "$PK_CODE" 000
if [ "$PK_GONE" = 1 ]; then ok "... the server is gone"; else not_ok "... the server is gone" "still running"; srv_stop; fi
is_eq "... a worker's death stops the server: exit 1" "$SRV_RC" 1
check "... no worker or signer is left behind" procs_gone $KPIDS
check "restart without the hook" srv_start "$D6" --workers=2
api GET /v1/connect/ca/roots; cp "$API_BODY" "$W/k-roots2.json"
ROOT2=$(jget "$W/k-roots2.json" 'd["ActiveRootID"]')
is_ne "... a new root is active" "$ROOT2" "$ROOT1"
is_eq "... it is the P-521 one" "$(jget "$W/k-roots2.json" 'd["Roots"][0]["PrivateKeyBits"]')" 521
is_eq "... three roots listed" "$(jget "$W/k-roots2.json" 'len(d["Roots"])')" 3
is_eq "... the previous root is inactive" \
    "$(jget "$W/k-roots2.json" '[r["Active"] for r in d["Roots"] if r["ID"]=="'"$ROOT1"'"]')" '[false]'
is_ne "... with RotatedOutAt set" \
    "$(jget "$W/k-roots2.json" '[r["RotatedOutAt"] for r in d["Roots"] if r["ID"]=="'"$ROOT1"'"][0]')" 0001-01-01T00:00:00Z
is_eq "... one active root" "$(jget "$W/k-roots2.json" 'sum(1 for r in d["Roots"] if r["Active"])')" 1
api GET /v1/connect/ca/configuration "$OP6"
is_eq "... the config is the new one (521)" "$(jget "$API_BODY" 'd["Config"]["PrivateKeyBits"]')" 521
jget "$W/k-roots2.json" 'd["Roots"][0]["RootCert"]' >"$W/k-root2.pem"
check "... ca.pem holds the new root" pem_has_fpr "$D6/ca.pem" "$ROOT2"
check "... ca.pem holds the previous root" pem_has_fpr "$D6/ca.pem" "$ROOT1"
is_eq "... ca.pem lists the new root first" "$(nth_cert "$D6/ca.pem" 1 | openssl x509 -noout -fingerprint -sha1 | sed 's/.*=//' | tr A-F a-f)" "$ROOT2"
api GET /v1/agent/connect/ca/leaf/web "$OP6"
is_eq "... leaf 200" "$API_CODE" 200
leaf_split "$API_BODY" "$W/k-leaf2"
is_eq "... the leaf's key is P-521" "$(openssl x509 -in "$W/k-leaf2.crt" -noout -text | grep -o 'Public-Key: (521 bit)')" "Public-Key: (521 bit)"
check "... it verifies for a client that trusts only the new root" \
    openssl verify -CAfile "$W/k-root2.pem" -untrusted "$W/k-leaf2.chain" "$W/k-leaf2.crt"
check "... and for one that trusts only the previous root (cross-signed copy in CertPEM)" \
    openssl verify -CAfile "$W/k-root1.pem" -untrusted "$W/k-leaf2.chain" "$W/k-leaf2.crt"
check "... the API certificate chains to the new root" \
    curl -sS -o /dev/null --max-time 10 --cacert "$W/k-root2.pem" "$SRV_URL/v1/connect/ca/roots"
check "... the audit chain is intact" "$PKICTL" audit verify "$D6/audit.log" --data-dir "$D6"
srv_stop_clean "kill tests: after rotate:stored"

# ====================================================================== 9. bootstrap safety
D9="$T_TMP/nine"
check "setup: first start" srv_start "$D9"
api GET /v1/connect/ca/roots; cp "$API_BODY" "$W/b-roots0.json"
B_ROOT=$(jget "$W/b-roots0.json" 'd["ActiveRootID"]'); B_TD=$(jget "$W/b-roots0.json" 'd["TrustDomain"]')
sha256sum "$D9/store.key" "$D9/operator.token" >"$W/b-sums"
srv_stop_clean "bootstrap: first server"
for n in 1 2 3; do
    check "restart $n" srv_start "$D9"
    api GET /v1/connect/ca/roots
    is_eq "restart $n: same ActiveRootID" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$B_ROOT"
    is_eq "restart $n: same trust domain (cluster id)" "$(jget "$API_BODY" 'd["TrustDomain"]')" "$B_TD"
    is_eq "restart $n: one root" "$(jget "$API_BODY" 'len(d["Roots"])')" 1
    srv_stop_clean "restart $n"
done
check "store.key and operator.token untouched by restarts" sha256sum -c --quiet "$W/b-sums"
is_eq "one bootstrap event in the audit log" "$(grep -c '"event":"bootstrap"' "$D9/audit.log")" 1

# srv_refuses "what" REGEX DIR [FLAGS]: the server refuses to start (exit 1, bounded),
# says REGEX on stderr, and does not listen.
srv_refuses() {
    local what=$1 re=$2 dir=$3 rc; shift 3
    rm -f "$dir/server.addr"
    timeout 20 "$PKICTL" server --data-dir="$dir" --listen=127.0.0.1:0 "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"
    rc=$?
    is_eq "$what: exit 1" "$rc" 1
    srv_san_clean "$what" "$T_TMP/.err"
    err_has "$what: says why" "$re"
    absent "$what: not listening" "$dir/server.addr"
}
chmod 777 "$D9"
srv_refuses "data dir mode 0777" "writable by group or others.*chmod 700" "$D9"
chmod 770 "$D9"
srv_refuses "data dir mode 0770" "writable by group" "$D9"
chmod 700 "$D9"
chmod 644 "$D9/store.key"
srv_refuses "store.key mode 0644" "store key .*store\.key.*(too open|0644)" "$D9"
chmod 600 "$D9/store.key"
mv "$D9/store.key" "$W/store.key.saved"
srv_refuses "store.key missing, store present" "store key .*store\.key.*(no such file|missing|cannot decrypt)" "$D9"
absent "... no new store.key was made" "$D9/store.key"
head -c 32 /dev/urandom >"$D9/store.key"; chmod 600 "$D9/store.key"
srv_refuses "another store.key" "decrypt|store key|wrapped" "$D9"
mv "$W/store.key.saved" "$D9/store.key"
# DIR/tls holds the API key: a real 0700 folder or no start.
mv "$D9/tls" "$W/tls.saved"
: >"$D9/tls"
srv_refuses "tls is a file" "/tls: not a directory" "$D9"
rm "$D9/tls"
ln -s "$W/tls.saved" "$D9/tls"
srv_refuses "tls is a symlink" "/tls: not a directory" "$D9"
rm "$D9/tls"
mv "$W/tls.saved" "$D9/tls"
chmod 770 "$D9/tls"
srv_refuses "tls mode 0770" "/tls: writable by group.*chmod 700" "$D9"
mode_is "... its mode is left as it was" "$D9/tls" 770
chmod 700 "$D9/tls"
# The address is written once every worker serves: one that dies before (here
# at the test hook, just before it would say it is ready) announces nothing.
PKICTL_TEST_KILL_AT=worker:ready srv_refuses "a worker dies before it serves" \
    "worker [0-9]+ was killed by signal 9; stopping the server" "$D9" --workers=2
lacks "... it never said it listens" "$(cat "$T_TMP/.err")" "listening on"
# A worker that hangs at start (stopped at the hook, so SIGTERM waits in it)
# does not hold the server: every 5 s it says which workers it waits for, and
# SIGTERM stops it (the hung workers are killed), exit 0, nothing announced,
# no process left.
rm -f "$D9/server.addr"
PKICTL_TEST_KILL_AT=worker:ready:stop "$PKICTL" server --data-dir="$D9" --listen=127.0.0.1:0 \
    --workers=2 >"$T_TMP/.out" 2>"$T_TMP/.err" &
HPID=$!
hung=0
for i in $(seq 1 200); do
    hung=0
    for p in $(pgrep -P "$HPID"); do
        [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" = T ] && hung=$((hung + 1))
    done
    [ "$hung" -eq 2 ] && break
    sleep 0.05
done
is_eq "hung workers: both stopped at the hook" "$hung" 2
for i in $(seq 1 200); do grep -q "still waiting" "$T_TMP/.err" && break; sleep 0.05; done
err_has "hung workers: it says which it waits for (after 5 s)" \
    "still waiting for worker 0, 1 to start after 5 s \(SIGTERM stops the server\)"
kill -TERM "$HPID"
for i in $(seq 1 200); do kill -0 "$HPID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$HPID" 2>/dev/null && { not_ok "hung workers: SIGTERM stops the server within 10 s"; kill -KILL "$HPID"; } \
    || ok "hung workers: SIGTERM stops the server within 10 s"
wait "$HPID"
is_eq "... exit 0" "$?" 0
srv_san_clean "hung workers" "$T_TMP/.err"
err_has "... says it shuts down" "SIGTERM, shutting down"
lacks "... it never said it listens" "$(cat "$T_TMP/.err")" "listening on"
absent "... no address written" "$D9/server.addr"
for i in $(seq 1 100); do pgrep -f -- "--data-dir=$D9 " >/dev/null || break; sleep 0.05; done
is_eq "... no worker or signer left" "$(pgrep -f -- "--data-dir=$D9 " | wc -l)" 0
check "with the right store.key it starts again" srv_start "$D9"
api GET /v1/connect/ca/roots
is_eq "... the same root" "$(jget "$API_BODY" 'd["ActiveRootID"]')" "$B_ROOT"
api GET /v1/agent/connect/ca/leaf/web "$(cat "$D9/operator.token")"
is_eq "... and issues" "$API_CODE" 200
srv_stop_clean "bootstrap: restarted with the right key"
cp -a "$D9" "$T_TMP/nine-bad"
rm -f "$T_TMP/nine-bad"/pkictl.db-wal "$T_TMP/nine-bad"/pkictl.db-shm
head -c 100 /dev/urandom | dd of="$T_TMP/nine-bad/pkictl.db" bs=1 conv=notrunc status=none
DBSUM=$(sha256sum <"$T_TMP/nine-bad/pkictl.db")
srv_refuses "a corrupted pkictl.db" "pkictl\.db.*(not a database|corrupt|malformed)|(not a database|corrupt|malformed).*pkictl\.db" "$T_TMP/nine-bad"
is_eq "... one line on stderr" "$(wc -l <"$T_TMP/.err")" 1
is_eq "... the damaged file is left as it was" "$(sha256sum <"$T_TMP/nine-bad/pkictl.db")" "$DBSUM"
is_eq "... no new operator token" "$(cat "$T_TMP/nine-bad/operator.token")" "$(cat "$D9/operator.token")"

finish
