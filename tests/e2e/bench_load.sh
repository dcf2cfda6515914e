#!/usr/bin/env bash
# bench_load (bench/load/loadgen.c), the load generator of bench/server_load.sh, against the
# real `pkictl server`: over HTTPS (TLS checked against the server's CA) and HTTP every answer
# counts as good and the audit log has a leaf.issue line for each; with a wrong token every
# answer is counted bad (the answer check can fail); a CA that did not sign the server's
# certificate is a connect error; a non-loopback URL, a bad number and a missing pool are
# refused with exit 2 / 1. bench/server_ab.sh runs one short round. Bounded: 1 s of load per
# run.
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/server_lib.sh"

LOADGEN=${BENCH_LOAD:?BENCH_LOAD is the bench_load binary}
GEN_CSRS="$(dirname "$0")/../../bench/load/gen_csrs.sh"
D="$T_TMP/data"

check "setup: server starts (HTTPS)" srv_start "$D"
OP=$(cat "$D/operator.token")
api PUT /v1/connect/ca/configuration "$OP" <(echo '{"Provider":"consul","Config":{"CSRMaxPerSecond":0}}')
check "setup: rate limit off" [ "$API_CODE" = 200 ]
api GET /v1/connect/ca/roots
TD=$(jget "$API_BODY" 'd["TrustDomain"]')
check "setup: 8 CSRs" bash "$GEN_CSRS" 8 "$TD" "$T_TMP/pool"

# result FILE KEY: a field of the RESULT line
result() { sed -n 's/^RESULT //p' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1], {'d': d}))" "$2"; }
issued() { grep -c '"leaf.issue"' "$D/audit.log" || true; }

before=$(issued)
"$LOADGEN" --url="$SRV_URL" --kind=pkictl --dir="$T_TMP/pool" --token="$OP" --cafile="$D/ca.pem" \
    --connections=2 --threads=2 --duration=1 >"$T_TMP/https.out" 2>&1
check "HTTPS: exits 0" [ $? = 0 ]
ok_n=$(result "$T_TMP/https.out" 'd["ok"]')
check "HTTPS: leaves issued" [ "${ok_n:-0}" -gt 10 ]
check "HTTPS: no bad answer, no socket error" [ "$(result "$T_TMP/https.out" 'd["bad"] + sum(d["errors"].values())')" = 0 ]
check "HTTPS: Requests/sec line" grep -qE '^Requests/sec: +[0-9.]+$' "$T_TMP/https.out"
check "HTTPS: latency percentiles in order" [ "$(result "$T_TMP/https.out" '0 < d["p50_us"] <= d["p90_us"] <= d["p99_us"] <= d["max_us"]')" = True ]
# every answer counted was an issuance (the audit log may hold a few more: answers in
# flight when the run ended are not counted)
after=$(issued)
check "HTTPS: the audit log has a line per good answer" [ $((after - before)) -ge "${ok_n:-1}" ]

"$LOADGEN" --url="$SRV_URL" --kind=pkictl --dir="$T_TMP/pool" --token=wrong --cafile="$D/ca.pem" \
    --connections=1 --threads=1 --duration=1 >"$T_TMP/bad.out" 2>&1
check "wrong token: every answer is bad" [ "$(result "$T_TMP/bad.out" 'd["ok"] == 0 and d["bad"] > 0 and d["errors"]["status"] == d["bad"]')" = True ]
check "wrong token: the first bad answer is shown" grep -q '"first_bad": "HTTP/1.1 403' "$T_TMP/bad.out"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/o.key" \
    -out "$T_TMP/other.pem" -subj /CN=other -days 1 2>/dev/null
"$LOADGEN" --url="$SRV_URL" --kind=pkictl --dir="$T_TMP/pool" --token="$OP" --cafile="$T_TMP/other.pem" \
    --connections=1 --threads=1 --duration=1 >"$T_TMP/ca.out" 2>&1
check "another CA: no answer, connect errors" [ "$(result "$T_TMP/ca.out" 'd["requests"] == 0 and d["errors"]["connect"] > 0')" = True ]
srv_stop

check "setup: server starts (HTTP)" srv_start "$D" --insecure-http
"$LOADGEN" --url="$SRV_URL" --kind=pkictl --dir="$T_TMP/pool" --token="$OP" \
    --connections=3 --threads=2 --duration=1 >"$T_TMP/http.out" 2>&1
check "HTTP: leaves issued, none bad" [ "$(result "$T_TMP/http.out" 'd["ok"] > 10 and d["bad"] == 0 and not any(d["errors"].values())')" = True ]
srv_stop

"$LOADGEN" --url=http://10.0.0.1:80 --kind=pkictl --dir="$T_TMP/pool" >"$T_TMP/o" 2>&1
check "non-loopback URL: exit 2" [ $? = 2 ]
check "non-loopback URL: says why" grep -q "loopback only" "$T_TMP/o"
"$LOADGEN" --url=http://127.0.0.1:1 --kind=pkictl --dir="$T_TMP/pool" --connections=0 >"$T_TMP/o" 2>&1
check "--connections=0: exit 2" [ $? = 2 ]
mkdir -p "$T_TMP/empty"
"$LOADGEN" --url=http://127.0.0.1:1 --kind=cfssl --dir="$T_TMP/empty" >"$T_TMP/o" 2>&1
check "an empty pool: exit 1" [ $? = 1 ]
check "an empty pool: says where it looked" grep -q "no request bodies $T_TMP/empty/cfssl" "$T_TMP/o"
# bench/server_ab.sh (the A/B of two server binaries) runs end to end: the same binary as
# "old" and "new", one round of 1 s over HTTPS; a line per run with its figures, the mean
# ratios; bad arguments are refused with exit 2 and the usage.
AB="$(dirname "$0")/../../bench/server_ab.sh"
LOADGEN="$LOADGEN" WORK="$T_TMP/ab" timeout 180 bash "$AB" "$PKICTL" "$PKICTL" --rounds=1 \
    --seconds=1 --conns=2 >"$T_TMP/ab.out" 2>"$T_TMP/ab.err"
check "server_ab.sh: exits 0" [ $? = 0 ]
for who in old new; do
    check "server_ab.sh: a run of the $who binary, leaves and CPU per leaf" \
        grep -qE "^  $who c=2: +[1-9][0-9]* leaves/s, limit +[1-9][0-9]*, +[0-9.]+%  server CPU µs/leaf: .* = [1-9]" "$T_TMP/ab.out"
done
check "server_ab.sh: the mean ratios" grep -qE '^  c=2: old [0-9.]+%  new [0-9.]+%  new - old per round: [-+][0-9.]+$' "$T_TMP/ab.out"
bash "$AB" "$PKICTL" >"$T_TMP/o" 2>&1
check "server_ab.sh: one binary: exit 2" [ $? = 2 ]
check "server_ab.sh: ... with the usage" grep -q "server_ab.sh OLD_PKICTL NEW_PKICTL" "$T_TMP/o"
bash "$AB" "$PKICTL" "$PKICTL" --rounds=0 >"$T_TMP/o" 2>&1
check "server_ab.sh: --rounds=0: exit 2" [ $? = 2 ]
finish
