#!/usr/bin/env bash
# The client commands of `pkictl server` (ca roots|get-config|set-config|sign|leaf,
# token create|list|delete) and `audit verify`, without the real server: help and
# command-line errors, token sources, every transport failure (refused, timeout, TLS not
# verified, wrong scheme), answers of a small python3 stub (JSON shapes as docs/server.md,
# error bodies, 429, a 5 MiB answer, a key that does not match), what goes over the wire
# (token header, bodies as given), files written (0600 key, both or neither), and audit
# logs built here with the sha256 chain, then tampered. The end-to-end run against the
# real server is tests/e2e/server.sh.
. "$(dirname "$0")/common.sh"

W="$T_TMP/w"; mkdir -p "$W"
STUB_PIDS=()
trap 'for p in "${STUB_PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$T_TMP"' EXIT
unset PKICTL_ADDR PKICTL_CA_FILE PKICTL_TOKEN
OP="s3cret-operator-token"      # the operator token the stub knows
printf '%s\n' "$OP" >"$W/op.token"; chmod 600 "$W/op.token"

# rc_is "what" WANT args...: pkictl exits WANT (output in .out/.err)
rc_is() {
    local what=$1 want=$2 rc; shift 2
    "$PKICTL" "$@" >"$T_TMP/.out" 2>"$T_TMP/.err"; rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$what"; else not_ok "$what" "exit $rc, want $want: $(head -c 300 "$T_TMP/.err")"; fi
}
# no_secret "what": the operator token appears in no output of the last command
no_secret() { if grep -qF -- "$OP" "$T_TMP/.out" "$T_TMP/.err"; then not_ok "$1" "token printed"; else ok "$1"; fi; }
# req FIELD: the stub's record of the last request (method, path, token, ctype, expect, body)
req() { tail -n 1 "$T_TMP/req.log" 2>/dev/null | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1" 2>/dev/null; }
nreq() { wc -l <"$T_TMP/req.log" 2>/dev/null | tr -d ' '; }
# jout EXPR: a python expression over the last command's stdout parsed as JSON (d)
jout() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_TMP/.out" "$1" 2>/dev/null; }

# ------------------------------------------------------------------ help
pk_ok "pkictl --help" --help
for c in "ca roots" "ca get-config" "ca set-config" "ca sign" "ca leaf" "token create" "token list" "token delete" "audit verify"; do
    out_has "pkictl --help lists $c" "^  $c "
done
for fam in token audit; do
    pk_ok "$fam --help exits 0" $fam --help
    is_eq "$fam --help: nothing on stderr" "$(cat "$T_TMP/.err")" ""
done
pk_ok "ca --help" ca --help
for c in roots get-config set-config sign leaf stage; do out_has "ca --help lists $c" "^  $c "; done
declare -A EXTRA=([roots]="--pem" [get-config]="" [set-config]="" [sign]="--out --overwrite"
                  [leaf]="--out-dir --overwrite")
for c in roots get-config set-config sign leaf; do
    pk_ok "ca $c --help exits 0" ca $c --help
    out_has "ca $c --help: usage line" "^Usage: pkictl ca $c"
    for f in --addr --ca-file --token-file --token --timeout --format ${EXTRA[$c]}; do
        out_has "ca $c --help names $f" "$f"
    done
    is_eq "ca $c --help: nothing on stderr" "$(cat "$T_TMP/.err")" ""
done
for c in create list delete; do
    pk_ok "token $c --help" token $c --help
    out_has "token $c --help: usage line" "^Usage: pkictl token $c"
    out_has "token $c --help names --token-file" "--token-file"
done
pk_ok "token create --help" token create --help
out_has "token create --help names --policy" "--policy=operator"
out_has "token create --help names --description" "--description"
pk_ok "audit verify --help" audit verify --help
out_has "audit verify --help names --data-dir" "--data-dir"
pk_ok "-h works too" ca leaf -h
out_has "ca leaf -h: usage" "^Usage: pkictl ca leaf"

# ------------------------------------------------------------------ bad command lines: exit 2
export PKICTL_ADDR="http://127.0.0.1:1"   # nothing is ever reached below
pk_fails "token without subcommand" 2 token
pk_fails "token frobnicate" 2 token frobnicate
pk_fails "audit without subcommand" 2 audit
pk_fails "audit frobnicate" 2 audit frobnicate
for c in roots get-config; do pk_fails "ca $c --bogus" 2 ca $c --bogus --token=x; done
pk_fails "ca roots with an argument" 2 ca roots extra
pk_fails "ca get-config with an argument" 2 ca get-config extra --token=x
pk_fails "ca set-config without FILE" 2 ca set-config --token=x
pk_fails "ca set-config with two files" 2 ca set-config a b --token=x
pk_fails "ca sign without CSR" 2 ca sign --token=x
pk_fails "ca leaf without SERVICE" 2 ca leaf --token=x
pk_fails "ca leaf with two services" 2 ca leaf web db --token=x
pk_fails "ca leaf --overwrite without --out-dir" 2 ca leaf web --overwrite --token=x
pk_fails "ca sign --overwrite without --out" 2 ca sign x.csr --overwrite --token=x
pk_fails "ca leaf --pem is not its flag" 2 ca leaf web --pem --token=x
pk_fails "ca get-config --out is not its flag" 2 ca get-config --out=x --token=x
pk_fails "ca roots --pem --format=json" 2 ca roots --pem --format=json
pk_fails "token create without --policy" 2 token create --token=x
pk_fails "token delete without ACCESSOR" 2 token delete --token=x
pk_fails "token list --policy is not its flag" 2 token list --policy=operator --token=x
pk_fails "audit verify without FILE" 2 audit verify
pk_fails "audit verify --addr is not its flag" 2 audit verify x --addr=http://127.0.0.1:1
pk_fails "--addr without a value" 2 ca roots --addr
pk_fails "--token and --token-file together" 2 ca get-config --token=x --token-file="$W/op.token"
err_has "... names both flags" 'token.*token-file'
pk_fails "no token at all" 2 ca get-config
err_has "... says where a token comes from" 'token-file.*PKICTL_TOKEN'
PKICTL_TOKEN= pk_fails "an empty PKICTL_TOKEN is no token" 2 ca get-config
pk_fails "token list without a token" 2 token list

# ------------------------------------------------------------------ bad values: exit 1
pk_fails "--format=xml" 1 ca roots --format=xml
err_has "... names the formats" 'text or json'
pk_fails "--timeout=0" 1 ca roots --timeout=0
pk_fails "--timeout=abc" 1 ca roots --timeout=abc
err_has "... names --timeout" 'timeout'
pk_fails "--addr with ftp://" 1 ca roots --addr=ftp://127.0.0.1:1
err_has "... says the scheme must be https or http" 'https or http'
pk_fails "--addr that is not a URL" 1 ca roots --addr='not a url'
err_has "... shows the expected form" 'https://127.0.0.1:8555'
pk_fails "--addr without a scheme" 1 ca roots --addr=127.0.0.1:8555
pk_fails "--addr with a path" 1 ca roots --addr=http://127.0.0.1:1/v1
err_has "... scheme://host[:port] only" 'host\[:port\] only'
pk_fails "--addr with a query" 1 ca roots --addr='http://127.0.0.1:1?x=1'
pk_fails "--addr with a user name" 1 ca roots --addr=http://u@127.0.0.1:1
PKICTL_ADDR=ftp://x pk_fails "PKICTL_ADDR is checked the same way" 1 ca roots
pk_fails "--token-file that does not exist" 1 ca get-config --token-file="$W/nope"
err_has "... names the flag and the file" 'token-file.*nope'
printf '%s\n' "$OP" >"$W/open.token"; chmod 644 "$W/open.token"
pk_fails "--token-file readable by others" 1 ca get-config --token-file="$W/open.token"
err_has "... says chmod 600" 'chmod 600'
no_secret "... and does not print the token"
: >"$W/empty.token"; chmod 600 "$W/empty.token"
pk_fails "an empty --token-file" 1 ca get-config --token-file="$W/empty.token"
err_has "... says empty" 'empty'
printf 'two words\n' >"$W/space.token"; chmod 600 "$W/space.token"
pk_fails "a token with a space" 1 ca get-config --token-file="$W/space.token"
lacks "... the token is not echoed" "$(cat "$T_TMP/.err")" 'two words'
printf 'a\nb\n' >"$W/lines.token"; chmod 600 "$W/lines.token"
pk_fails "a token file with two lines (a header could be injected)" 1 ca get-config --token-file="$W/lines.token"
pk_fails "--token with a newline" 1 ca get-config --token="$(printf 'a\r\nX-Evil: 1')"
pk_fails "a 129-byte token" 1 ca get-config --token="$(head -c 129 /dev/zero | tr '\0' a)"
pk_fails "--ca-file that does not exist" 1 ca roots --ca-file="$W/nope.pem"
err_has "... names --ca-file" 'ca-file.*nope.pem'
pk_fails "ca leaf of an invalid service name" 1 ca leaf Web_1 --token=x
err_has "... says service" 'service'
pk_fails "ca leaf of a path" 1 ca leaf ../acl/tokens --token=x
pk_fails "ca leaf of a 64-character name" 1 ca leaf "$(head -c 64 /dev/zero | tr '\0' a)" --token=x
pk_fails "token delete of a non-UUID" 1 token delete ../tokens --token=x
err_has "... says accessor" 'accessor'
pk_fails "token create --policy=admin" 1 token create --policy=admin --token=x
pk_fails "token create --policy=service:" 1 token create --policy=service: --token=x
pk_fails "token create --policy=service:Web" 1 token create --policy=service:Web --token=x
pk_fails "token create: 257-byte description" 1 token create --policy=operator --token=x \
    --description="$(head -c 257 /dev/zero | tr '\0' d)"
pk_fails "ca set-config of a missing file" 1 ca set-config "$W/nope.json" --token=x
echo '{"Provider": "consul",' >"$W/broken.json"
pk_fails "ca set-config of broken JSON" 1 ca set-config "$W/broken.json" --token=x
err_has "... says not JSON, with the line" 'not a JSON object: line'
head -c 70000 /dev/zero | tr '\0' ' ' >"$W/big.json"
pk_fails "ca set-config of a file over 64 KiB" 1 ca set-config "$W/big.json" --token=x
echo "not a csr" >"$W/junk.csr"
pk_fails "ca sign of a file that is no CSR" 1 ca sign "$W/junk.csr" --token=x
err_has "... names the file" 'junk.csr'
pk_fails "ca leaf --out-dir that does not exist" 1 ca leaf web --out-dir="$W/nodir" --token=x
err_has "... names --out-dir" 'out-dir'

# ------------------------------------------------------------------ transport failures
t0=$(date +%s%N)
pk_fails "connection refused: exit 1" 1 ca roots --addr=http://127.0.0.1:1
t1=$(date +%s%N)
err_has "... names the address" 'http://127\.0\.0\.1:1'
err_has "... says refused" 'refused'
err_has "... says what to check" '--addr'
if [ $(( (t1 - t0) / 1000000 )) -lt 3000 ]; then ok "... and quickly"; else not_ok "... and quickly" "$(( (t1 - t0) / 1000000 )) ms"; fi
unset PKICTL_ADDR
pk_fails "the default address is https://127.0.0.1:8555 (nothing there)" 1 ca roots --timeout=2
err_has "... names it" 'https://127\.0\.0\.1:8555'
pk_fails "--addr to [::1] (nothing there)" 1 ca roots --addr='http://[::1]:1'
err_has "... names it" '\[::1\]:1'

# The stub: TLS certificates from pkictl (a CA, and a node certificate for 127.0.0.1)
TLS="$T_TMP/tls"; OTHER="$T_TMP/other"; mkdir -p "$TLS" "$OTHER"
new_ca "$TLS" "$W/tls-ca.key"
new_node "$TLS" "$W/tls-ca.key" 127.0.0.1 localhost
new_ca "$OTHER" "$W/other-ca.key"
# the leaf the stub hands out: a key, its certificate, and a key that is not its
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/leaf.key" \
    -out "$W/leaf.crt" -subj /CN=web -days 3 \
    -addext "subjectAltName=URI:spiffe://11111111-2222-4333-8444-555555555555.consul/ns/default/dc/dc1/svc/web" \
    >/dev/null 2>&1
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/other.key" >/dev/null 2>&1
check "setup: leaf certificate and keys" test -s "$W/leaf.crt" -a -s "$W/leaf.key" -a -s "$W/other.key"

cat >"$T_TMP/stub.py" <<'EOF'
# A stand-in for pkictl server's API (docs/server.md shapes), over http or https.
import http.server, json, socket, ssl, sys
mode, portfile, log, W, TLS, OP = sys.argv[1:7]
leaf_crt = open(W + "/leaf.crt").read(); leaf_key = open(W + "/leaf.key").read()
other_key = open(W + "/other.key").read(); ca_pem = open(TLS + "/ca.crt").read()
TD = "11111111-2222-4333-8444-555555555555.consul"
URI = "spiffe://%s/ns/default/dc/dc1/svc/web" % TD
ROOT = {"ID": "aa:bb", "Name": "pkictl CA Primary Cert", "SerialNumber": 123,
        "SigningKeyID": "01:02", "NotBefore": "2026-11-24T10:00:00Z", "NotAfter": "2036-11-22T10:00:00Z",
        "RootCert": ca_pem, "IntermediateCerts": [ca_pem, ca_pem], "Active": True,
        "RotatedOutAt": "0001-01-01T00:00:00Z", "PrivateKeyType": "ec", "PrivateKeyBits": 256,
        "CreateIndex": 5, "ModifyIndex": 5}
OLD = dict(ROOT, ID="cc:dd", Active=False, RotatedOutAt="2026-11-25T10:00:00Z",
           PrivateKeyType="rsa", PrivateKeyBits=2048, IntermediateCerts=[ca_pem])
ROOTS = {"ActiveRootID": "aa:bb", "TrustDomain": TD, "Roots": [ROOT, OLD]}
CONFIG = {"Provider": "consul", "Config": {"LeafCertTTL": "72h", "PrivateKeyType": "ec",
          "PrivateKeyBits": 256, "PrivateKey": ""}, "CreateIndex": 1, "ModifyIndex": 1}
LEAF = {"SerialNumber": "3a:4b", "CertPEM": leaf_crt, "PrivateKeyPEM": leaf_key, "Service": "web",
        "ServiceURI": URI, "ValidAfter": "2026-11-24T10:00:00Z", "ValidBefore": "2026-11-27T10:00:00Z",
        "CreateIndex": 9, "ModifyIndex": 9}
ACC = "0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def send(self, code, body, ctype="application/json", extra=()):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def handle_any(self, method):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open(log, "a") as f:
            f.write(json.dumps({"method": method, "path": self.path, "body": body,
                                "token": self.headers.get("X-Consul-Token") or "",
                                "ctype": self.headers.get("Content-Type") or "",
                                "expect": self.headers.get("Expect") or ""}) + "\n")
        p = self.path
        if p == "/v1/connect/ca/roots": return self.send(200, ROOTS)
        if p == "/v1/connect/ca/roots?pem=true": return self.send(200, ca_pem + ca_pem, "application/pem-certificate-chain")
        tok = self.headers.get("X-Consul-Token")
        if not tok: return self.send(401, {"error": "missing token"})
        if tok != OP: return self.send(403, {"error": "ACL not found"})
        leaf = "/v1/agent/connect/ca/leaf/"
        if p == "/v1/connect/ca/configuration" and method == "GET": return self.send(200, CONFIG)
        if p == "/v1/connect/ca/configuration" and method == "PUT":
            c = json.loads(body)
            if c.get("Provider") != "consul": return self.send(400, {"error": "Provider: \"%s\" is not a provider (consul)" % c.get("Provider")})
            if c.get("ForceWithoutCrossSigning"): return self.send(200, {"Warning": "rotated without a cross-signature: peers that trust only the old root will not trust new leaves until they get the new root"})
            return self.send(200, {})
        if p == leaf + "web": return self.send(200, LEAF)
        if p == leaf + "mismatch": return self.send(200, dict(LEAF, PrivateKeyPEM=other_key))
        if p == leaf + "nocert": return self.send(200, dict(LEAF, CertPEM="junk"))
        if p == leaf + "nobody": return self.send(403, {"error": "Permission denied: token may not get leaves for nobody"})
        if p == leaf + "limited": return self.send(429, {"error": "rate limit exceeded, retry later"}, extra=[("Retry-After", "3")])
        if p == leaf + "proxy": return self.send(502, "Bad gateway from proxy\nmore", "text/plain")
        if p == leaf + "evil": return self.send(400, {"error": "bad \x1b[31mred\x07"})
        if p == leaf + "notjson": return self.send(200, "<html>", "text/html")
        if p == leaf + "huge": return self.send(200, {"CertPEM": "x" * (5 << 20)})
        if p == "/v1/connect/ca/sign" and method == "POST":
            return self.send(200, {k: v for k, v in LEAF.items() if k != "PrivateKeyPEM"})
        if p == "/v1/acl/token" and method == "PUT":
            b = json.loads(body)
            return self.send(200, {"AccessorID": ACC, "SecretID": "new-secret-1234", "Description": b.get("Description", ""),
                                   "Policies": b.get("Policies", []), "ServiceIdentities": b.get("ServiceIdentities", []),
                                   "CreateIndex": 7, "ModifyIndex": 7})
        if p == "/v1/acl/tokens":
            return self.send(200, [{"AccessorID": ACC, "Description": "first operator", "Policies": [{"Name": "operator"}],
                                    "CreateTime": "2026-11-24T10:00:00Z"},
                                   {"AccessorID": "1b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e", "Description": "web and db",
                                    "ServiceIdentities": [{"ServiceName": "web"}, {"ServiceName": "db"}],
                                    "CreateTime": "2026-11-24T11:00:00Z"}])
        if p == "/v1/acl/token/" + ACC and method == "DELETE": return self.send(200, "true")
        return self.send(404, {"error": "not found"})
    def do_GET(self): self.handle_any("GET")
    def do_PUT(self): self.handle_any("PUT")
    def do_POST(self): self.handle_any("POST")
    def do_DELETE(self): self.handle_any("DELETE")

srv = http.server.HTTPServer(("127.0.0.1", 0), H)
if mode == "https":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(TLS + "/node.crt", TLS + "/node.key")
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
silent = socket.socket(); silent.bind(("127.0.0.1", 0)); silent.listen(8)  # accepts, never answers
with open(portfile + ".tmp", "w") as f:
    f.write("%d %d\n" % (srv.server_address[1], silent.getsockname()[1]))
import os; os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
EOF
# stub_start MODE: starts a stub; sets PORT and SILENT
stub_start() {
    rm -f "$T_TMP/port.$1"
    python3 "$T_TMP/stub.py" "$1" "$T_TMP/port.$1" "$T_TMP/req.log" "$W" "$TLS" "$OP" 2>"$T_TMP/stub.$1.err" &
    STUB_PIDS+=($!)
    local i
    for i in $(seq 1 100); do [ -s "$T_TMP/port.$1" ] && break; sleep 0.05; done
    read -r PORT SILENT <"$T_TMP/port.$1"
}
stub_start https; HTTPS="https://127.0.0.1:$PORT"; SILENT_PORT=$SILENT
stub_start http;  HTTP="http://127.0.0.1:$PORT"
is_ne "setup: both stubs listen" "$HTTPS $HTTP" " "
CA="$TLS/ca.crt"

# ------------------------------------------------------------------ TLS and scheme
pk_fails "https without --ca-file: not verified" 1 ca roots --addr="$HTTPS"
err_has "... says the certificate did not verify" 'did not verify'
err_has "... says to pass --ca-file" '--ca-file'
pk_fails "https with another CA: not verified" 1 ca roots --addr="$HTTPS" --ca-file="$OTHER/ca.crt"
err_has "... says the certificate did not verify" 'did not verify'
pk_ok "https with the right --ca-file" ca roots --addr="$HTTPS" --ca-file="$CA"
PKICTL_ADDR="$HTTPS" PKICTL_CA_FILE="$CA" pk_ok "PKICTL_ADDR and PKICTL_CA_FILE" ca roots
https_proxy=http://127.0.0.1:1 HTTPS_PROXY=http://127.0.0.1:1 \
    pk_ok "a loopback server is not reached through https_proxy" ca roots --addr="$HTTPS" --ca-file="$CA"
http_proxy=http://127.0.0.1:1 pk_ok "... nor through http_proxy" ca roots --addr="$HTTP"
pk_ok "https://localhost matches the DNS SAN" ca roots --addr="https://localhost:${HTTPS##*:}" --ca-file="$CA"
echo "not a certificate" >"$W/junk.pem"
pk_fails "a --ca-file that holds no certificate" 1 ca roots --addr="$HTTPS" --ca-file="$W/junk.pem"
err_has "... names --ca-file" 'ca-file'
pk_fails "https:// to an http server" 1 ca roots --addr="https://127.0.0.1:${HTTP##*:}" --ca-file="$CA"
err_has "... says TLS failed and to use http://" 'TLS.*http://'
pk_fails "http:// to an https server" 1 ca roots --addr="http://127.0.0.1:${HTTPS##*:}"
err_has "... says to use https://" 'https://'
t0=$(date +%s%N)
pk_fails "a server that never answers: --timeout=1" 1 ca roots --addr="http://127.0.0.1:$SILENT_PORT" --timeout=1
t1=$(date +%s%N)
err_has "... says it did not answer within 1 s" 'within 1 s'
err_has "... mentions --timeout" '--timeout'
if [ $(( (t1 - t0) / 1000000 )) -lt 5000 ]; then ok "... gave up in time"; else not_ok "... gave up in time" "$(( (t1 - t0) / 1000000 )) ms"; fi

export PKICTL_ADDR="$HTTPS" PKICTL_CA_FILE="$CA"
T=(--token-file="$W/op.token")

# ------------------------------------------------------------------ ca roots
PKICTL_TOKEN="$OP" pk_ok "ca roots" ca roots
is_eq "ca roots sends no token (none is needed)" "$(req token)" ""
is_eq "... GET /v1/connect/ca/roots" "$(req method) $(req path)" "GET /v1/connect/ca/roots"
out_has "text: the trust domain" '^Trust domain: 11111111-2222-4333-8444-555555555555\.consul$'
out_has "text: the active root id" '^Active root: +aa:bb$'
out_has "text: root 1 of 2, active" '^Root 1 of 2 \(active\)$'
out_has "text: root 2 rotated out" '^Root 2 of 2 \(rotated out at 2026-11-25T10:00:00Z\)$'
out_has "text: the serial" '^  Serial: +123$'
out_has "text: validity" '^  Valid: +2026-11-24T10:00:00Z to 2036-11-22T10:00:00Z$'
out_has "text: key type and bits" '^  Key: +ec 256$'
out_has "text: the old root's key" '^  Key: +rsa 2048$'
out_has "text: two intermediates" '^  Intermediates: +2$'
out_has "text: the signing key id" '^  Signing key ID: +01:02$'
lacks "text: no PEM" "$(cat "$T_TMP/.out")" 'BEGIN CERTIFICATE'
pk_ok "ca roots --format=json" ca roots --format=json
is_eq "json: the server's answer" "$(jout 'd["ActiveRootID"], len(d["Roots"]), d["Roots"][1]["Active"]')" "('aa:bb', 2, False)"
out_has "json: pretty printed" '^  "ActiveRootID": "aa:bb",$'
pk_ok "ca roots --pem" ca roots --pem
is_eq "--pem asks ?pem=true" "$(req path)" "/v1/connect/ca/roots?pem=true"
is_eq "--pem prints the PEM bundle" "$(ncerts "$T_TMP/.out")" "2"
cp "$T_TMP/.out" "$W/roots.pem"
check "... that openssl reads" openssl x509 -in "$W/roots.pem" -noout

# ------------------------------------------------------------------ ca get-config
pk_ok "ca get-config" ca get-config "${T[@]}"
is_eq "... sends the token as X-Consul-Token" "$(req token)" "$OP"
is_eq "... GET /v1/connect/ca/configuration" "$(req method) $(req path)" "GET /v1/connect/ca/configuration"
is_eq "... prints the configuration" "$(jout 'd["Config"]["LeafCertTTL"]')" "72h"
no_secret "... without the token"
pk_ok "ca get-config --format=json is the same" ca get-config "${T[@]}" --format=json
is_eq "... the same JSON" "$(jout 'd["Provider"]')" "consul"
PKICTL_TOKEN="$OP" pk_ok "PKICTL_TOKEN" ca get-config
pk_ok "--token" ca get-config --token="$OP"
printf '%s\r\n' "$OP" >"$W/crlf.token"; chmod 600 "$W/crlf.token"
pk_ok "a token file ending in CRLF" ca get-config --token-file="$W/crlf.token"
printf '%s' "$OP" >"$W/bare.token"; chmod 600 "$W/bare.token"
pk_ok "a token file without a newline" ca get-config --token-file="$W/bare.token"
PKICTL_SKIP_KEY_PERMISSION_CHECK=true pk_ok "a 0644 token file with the permission check off" ca get-config --token-file="$W/open.token"
pk_fails "an unknown token" 1 ca get-config --token=wrong-token
is_eq "... stderr, as the server said it" "$(cat "$T_TMP/.err")" "pkictl: server said 403 Forbidden: ACL not found (the server does not know this token: check --token-file, --token or PKICTL_TOKEN)"

# ------------------------------------------------------------------ ca set-config
printf '{"Provider": "consul", "Config": {"LeafCertTTL": "24h"}}' >"$W/cfg.json"
pk_ok "ca set-config FILE" ca set-config "$W/cfg.json" "${T[@]}"
is_eq "... PUT /v1/connect/ca/configuration" "$(req method) $(req path)" "PUT /v1/connect/ca/configuration"
is_eq "... sends the file as is" "$(req body)" "$(cat "$W/cfg.json")"
is_eq "... as application/json" "$(req ctype)" "application/json"
is_eq "... without Expect: 100-continue" "$(req expect)" ""
out_has "... says configuration updated" '^configuration updated$'
is_eq "... nothing on stderr" "$(cat "$T_TMP/.err")" ""
"$PKICTL" ca set-config - "${T[@]}" <"$W/cfg.json" >"$T_TMP/.out" 2>"$T_TMP/.err"
is_eq "ca set-config - reads standard input" "$?:$(req body)" "0:$(cat "$W/cfg.json")"
pk_ok "ca set-config --format=json" ca set-config "$W/cfg.json" "${T[@]}" --format=json
is_eq "... prints the answer" "$(jout 'd')" "{}"
printf '{"Provider": "consul", "ForceWithoutCrossSigning": true}' >"$W/force.json"
pk_ok "a forced rotation" ca set-config "$W/force.json" "${T[@]}"
is_eq "... the server's warning on stderr" "$(cat "$T_TMP/.err")" "pkictl: warning: rotated without a cross-signature: peers that trust only the old root will not trust new leaves until they get the new root"
printf '{"Provider": "vault"}' >"$W/vault.json"
pk_fails "a config the server refuses" 1 ca set-config "$W/vault.json" "${T[@]}"
is_eq "... stderr" "$(cat "$T_TMP/.err")" 'pkictl: server said 400 Bad Request: Provider: "vault" is not a provider (consul)'
n0=$(nreq)
pk_fails "broken JSON is not sent" 1 ca set-config "$W/broken.json" "${T[@]}"
is_eq "... no request made" "$(nreq)" "$n0"

# ------------------------------------------------------------------ ca leaf
pk_ok "ca leaf web" ca leaf web "${T[@]}"
is_eq "... GET /v1/agent/connect/ca/leaf/web" "$(req method) $(req path)" "GET /v1/agent/connect/ca/leaf/web"
out_has "text: service" '^Service: +web$'
out_has "text: URI" '^URI: +spiffe://11111111-2222-4333-8444-555555555555\.consul/ns/default/dc/dc1/svc/web$'
out_has "text: serial" '^Serial: +3a:4b$'
out_has "text: valid after" '^Valid after: +2026-11-24T10:00:00Z$'
out_has "text: valid before" '^Valid before: +2026-11-27T10:00:00Z$'
lacks "text: no key on stdout" "$(cat "$T_TMP/.out")" 'PRIVATE KEY'
err_has "text: a note that nothing was saved" 'not saved.*--out-dir'
pk_ok "ca leaf web --format=json" ca leaf web "${T[@]}" --format=json
is_eq "json: the answer with its key" "$(jout '"PRIVATE KEY" in d["PrivateKeyPEM"], d["Service"]')" "(True, 'web')"
O="$T_TMP/out"; mkdir -p "$O"
pk_ok "ca leaf web --out-dir" ca leaf web "${T[@]}" --out-dir="$O"
is_eq "... wrote lines" "$(grep '^wrote ' "$T_TMP/.out")" "wrote $O/web.crt
wrote $O/web.key"
out_has "... and a summary" '^leaf for web \(spiffe://.*/svc/web\), serial 3a:4b, valid until 2026-11-27T10:00:00Z$'
mode_is "... web.key is 0600" "$O/web.key" 600
mode_is "... web.crt is 0644" "$O/web.crt" 644
matches "... the key is the certificate's" "$O/web.crt" "$O/web.key"
is_eq "... web.crt holds CertPEM" "$(cat "$O/web.crt")" "$(cat "$W/leaf.crt")"
lacks "... no key on stdout" "$(cat "$T_TMP/.out")" 'PRIVATE KEY'
snap=$(snapshot "$O"); n0=$(nreq)
pk_fails "again without --overwrite" 1 ca leaf web "${T[@]}" --out-dir="$O"
err_has "... says --overwrite" '--overwrite'
is_eq "... nothing changed" "$(snapshot "$O")" "$snap"
is_eq "... and no leaf was asked for" "$(nreq)" "$n0"
rm "$O/web.crt"
pk_fails "only web.key present: still refused (both or neither)" 1 ca leaf web "${T[@]}" --out-dir="$O"
absent "... web.crt not written" "$O/web.crt"
echo old >"$O/web.crt"
pk_ok "--overwrite replaces both" ca leaf web "${T[@]}" --out-dir="$O" --overwrite
is_eq "... web.crt is new" "$(cat "$O/web.crt")" "$(cat "$W/leaf.crt")"
mode_is "... web.key still 0600" "$O/web.key" 600
pk_ok "--out-dir with --format=json" ca leaf web "${T[@]}" --out-dir="$O" --overwrite --format=json
is_eq "... stdout is the answer without the key" "$(jout '"PrivateKeyPEM" in d, d["Service"]')" "(False, 'web')"
err_has "... wrote lines on stderr" '^wrote '
M="$T_TMP/mm"; mkdir -p "$M"
pk_fails "a key that does not match the certificate" 1 ca leaf mismatch "${T[@]}" --out-dir="$M"
err_has "... says so" 'does not match'
is_eq "... nothing written" "$(ls -A "$M")" ""
pk_fails "a CertPEM that is no certificate" 1 ca leaf nocert "${T[@]}" --out-dir="$M"
err_has "... names CertPEM" 'CertPEM'
pk_fails "a CertPEM that is no certificate, without --out-dir" 1 ca leaf nocert "${T[@]}" --format=text
is_eq "... nothing written" "$(ls -A "$M")" ""
pk_fails "403 for another service" 1 ca leaf nobody "${T[@]}"
is_eq "... stderr" "$(cat "$T_TMP/.err")" "pkictl: server said 403 Forbidden: Permission denied: token may not get leaves for nobody"
pk_fails "429" 1 ca leaf limited "${T[@]}"
is_eq "... stderr with Retry-After" "$(cat "$T_TMP/.err")" "pkictl: server said 429 Too Many Requests: rate limit exceeded, retry later (retry after 3 s)"
pk_fails "a 502 from something that is not the server" 1 ca leaf proxy "${T[@]}"
is_eq "... its first line" "$(cat "$T_TMP/.err")" "pkictl: server said 502 Bad Gateway: Bad gateway from proxy"
pk_fails "an error with terminal escapes" 1 ca leaf evil "${T[@]}"
lacks "... no control bytes reach the terminal" "$(cat -v "$T_TMP/.err")" '\^\['
pk_fails "an answer that is not JSON" 1 ca leaf notjson "${T[@]}"
err_has "... says not JSON" 'not JSON'
pk_fails "an answer over 4 MiB" 1 ca leaf huge "${T[@]}"
err_has "... refused" 'larger than 4 MiB'
pk_fails "ca leaf without a token: refused before asking (exit 2)" 2 ca leaf web
pk_fails "a service the stub does not know: 404" 1 ca leaf unknown "${T[@]}"
is_eq "... stderr" "$(cat "$T_TMP/.err")" "pkictl: server said 404 Not Found: not found"

# ------------------------------------------------------------------ ca sign
pk_ok "setup: a CSR" csr create --new-key --key-type=ecdsa --out="$W/web.csr" \
    --san="uri:spiffe://11111111-2222-4333-8444-555555555555.consul/ns/default/dc/dc1/svc/web"
pk_ok "ca sign CSR" ca sign "$W/web.csr" "${T[@]}"
is_eq "... POST /v1/connect/ca/sign" "$(req method) $(req path)" "POST /v1/connect/ca/sign"
is_eq "... body {\"CSR\": PEM}" "$(req body | python3 -c 'import json,sys; d=json.load(sys.stdin); print(list(d), d["CSR"] == open(sys.argv[1]).read())' "$W/web.csr")" "['CSR'] True"
is_eq "... the certificate on stdout" "$(cat "$T_TMP/.out")" "$(cat "$W/leaf.crt")"
err_has "... a summary on stderr" '^signed web \(spiffe://.*/svc/web\), serial 3a:4b, valid until 2026-11-27T10:00:00Z$'
openssl req -in "$W/web.csr" -outform DER -out "$W/web.der" 2>/dev/null
pk_ok "ca sign of a DER CSR" ca sign "$W/web.der" "${T[@]}"
is_eq "... sent as PEM" "$(req body | python3 -c 'import json,sys; print(json.load(sys.stdin)["CSR"].splitlines()[0])')" "-----BEGIN CERTIFICATE REQUEST-----"
pk_ok "ca sign --out" ca sign "$W/web.csr" "${T[@]}" --out="$O/signed.crt"
is_eq "... wrote line" "$(head -n 1 "$T_TMP/.out")" "wrote $O/signed.crt"
out_has "... and a summary" '^signed web \(spiffe://.*/svc/web\), serial 3a:4b'
is_eq "... the file" "$(cat "$O/signed.crt")" "$(cat "$W/leaf.crt")"
n0=$(nreq)
pk_fails "ca sign --out to an existing file" 1 ca sign "$W/web.csr" "${T[@]}" --out="$O/signed.crt"
err_has "... says --overwrite" '--overwrite'
is_eq "... no request made" "$(nreq)" "$n0"
pk_ok "ca sign --out --overwrite" ca sign "$W/web.csr" "${T[@]}" --out="$O/signed.crt" --overwrite
pk_ok "ca sign --format=json" ca sign "$W/web.csr" "${T[@]}" --format=json
is_eq "... the answer" "$(jout 'd["SerialNumber"], "PrivateKeyPEM" in d')" "('3a:4b', False)"

# ------------------------------------------------------------------ tokens
pk_ok "token create --policy=operator" token create --policy=operator --description="ci runner" "${T[@]}"
is_eq "... PUT /v1/acl/token" "$(req method) $(req path)" "PUT /v1/acl/token"
is_eq "... Consul's body" "$(req body | python3 -c 'import json,sys; print(json.load(sys.stdin))')" "{'Description': 'ci runner', 'Policies': [{'Name': 'operator'}]}"
out_has "... AccessorID" '^AccessorID: +0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e$'
out_has "... SecretID" '^SecretID: +new-secret-1234$'
out_has "... Policy" '^Policy: +operator$'
out_has "... Description" '^Description: ci runner$'
pk_ok "token create --policy=service:web,db" token create --policy=service:web,db "${T[@]}"
is_eq "... ServiceIdentities" "$(req body | python3 -c 'import json,sys; print(json.load(sys.stdin))')" "{'ServiceIdentities': [{'ServiceName': 'web'}, {'ServiceName': 'db'}]}"
out_has "... Policy" '^Policy: +service:web,db$'
pk_ok "token create --format=json" token create --policy=service:web "${T[@]}" --format=json
is_eq "... the answer" "$(jout 'd["SecretID"]')" "new-secret-1234"
pk_ok "token list" token list "${T[@]}"
is_eq "... GET /v1/acl/tokens" "$(req method) $(req path)" "GET /v1/acl/tokens"
out_has "... header" '^Accessor +\| Policy +\| Description +\| Created$'
out_has "... the operator token" '^0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e \| operator +\| first operator \| 2026-11-24T10:00:00Z$'
out_has "... the service token" '^1b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e \| service:web,db \| web and db +\| 2026-11-24T11:00:00Z$'
lacks "... no secret" "$(cat "$T_TMP/.out")" 'Secret'
pk_ok "token list --format=json" token list "${T[@]}" --format=json
is_eq "... the answer" "$(jout 'len(d)')" "2"
pk_ok "token delete ACCESSOR" token delete 0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e "${T[@]}"
is_eq "... DELETE /v1/acl/token/ACCESSOR" "$(req method) $(req path)" "DELETE /v1/acl/token/0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e"
out_has "... says deleted" '^deleted token 0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e$'
pk_fails "token delete of an unknown accessor" 1 token delete 2b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e "${T[@]}"
err_has "... server said 404" 'server said 404 Not Found'

# ------------------------------------------------------------------ plain http
pk_ok "http:// (a server run with --insecure-http)" ca get-config --addr="$HTTP" "${T[@]}"
is_eq "... to loopback: no warning" "$(cat "$T_TMP/.err")" ""
# 0.0.0.0 is not loopback, yet Linux connects it to this host: no packet leaves the machine
rc_is "a token over http:// to a host that is not loopback (exit 1: nothing there)" 1 ca get-config --addr=http://0.0.0.0:1 "${T[@]}" --timeout=2
err_has "... warns once that the token goes in clear text" '^pkictl: warning: the token goes in clear text over http:// to 0\.0\.0\.0'
is_eq "... one warning line" "$(grep -c warning "$T_TMP/.err")" "1"
rc_is "ca roots over http:// to that host sends no token: no warning" 1 ca roots --addr=http://0.0.0.0:1 "${T[@]}" --timeout=2
lacks "... no warning" "$(cat "$T_TMP/.err")" 'warning'
no_secret "... no token printed"

# ------------------------------------------------------------------ audit verify
unset PKICTL_ADDR PKICTL_CA_FILE
# mklog FILE N: an audit log of N lines, chained as docs/server.md says
mklog() {
    python3 - "$1" "$2" <<'EOF'
import hashlib, json, sys
prev, out = "0" * 64, []
events = ["bootstrap", "server.start", "leaf.issue", "token.create", "server.stop"]
for seq in range(1, int(sys.argv[2]) + 1):
    rec = {"seq": seq, "time": "2026-11-24T10:00:%02dZ" % seq, "event": events[(seq - 1) % 5]}
    if rec["event"] == "leaf.issue":
        rec.update(serial="3a:4b", service="web", uri="spiffe://x.consul/ns/default/dc/dc1/svc/web",
                   accessor="0b5e1c2d-3f4a-4b6c-8d7e-9f0a1b2c3d4e", endpoint="leaf")
    rec["prev"] = prev
    line = json.dumps(rec, separators=(",", ":"))
    prev = hashlib.sha256(line.encode()).hexdigest()
    out.append(line + "\n")
open(sys.argv[1], "w").write("".join(out))
EOF
}
A="$T_TMP/audit"; mkdir -p "$A"
mklog "$A/audit.log" 3
pk_ok "audit verify of a good 3-line log" audit verify "$A/audit.log"
is_eq "... says so" "$(cat "$T_TMP/.out")" "$A/audit.log: 3 lines verified, chain intact"
pk_ok "audit verify --format=json" audit verify "$A/audit.log" --format=json
is_eq "... lines and last hash" "$(jout 'd["lines"], d["last_hash"], d["chain_intact"]')" "(3, '$(tail -n 1 "$A/audit.log" | tr -d '\n' | sha256sum | cut -c1-64)', True)"
: >"$A/empty.log"
pk_ok "an empty log verifies" audit verify "$A/empty.log"
out_has "... 0 lines" ': 0 lines verified'
sed '2s/"time":"2026-11-24T10:00:02Z"/"time":"2026-11-24T10:00:09Z"/' "$A/audit.log" >"$A/edited.log"
pk_fails "a log with line 2 edited" 1 audit verify "$A/edited.log"
err_has "... line 3 breaks" 'line 3: prev is not the hash of the line before'
mklog "$A/five.log" 5
sed '3s/"service":"web"/"service":"db"/' "$A/five.log" >"$A/edited5.log"
pk_fails "line 3 of 5 edited: line 4 breaks" 1 audit verify "$A/edited5.log"
err_has "... names the log and line 4" 'edited5\.log: line 4: prev'
sed '2d' "$A/five.log" >"$A/cut.log"
pk_fails "line 2 removed" 1 audit verify "$A/cut.log"
err_has "... names line 2 and seq" 'line 2: seq is 3, expected 2'
awk 'NR == 2 { two = $0; next } { print } NR == 3 { print two }' "$A/five.log" >"$A/swapped.log"
pk_fails "lines 2 and 3 swapped" 1 audit verify "$A/swapped.log"
err_has "... names line 2" 'line 2:'
head -c -1 "$A/five.log" >"$A/torn.log"
pk_fails "a torn last line" 1 audit verify "$A/torn.log"
err_has "... names line 5" 'line 5: incomplete'
{ head -n 2 "$A/five.log"; echo 'not json'; tail -n 2 "$A/five.log"; } >"$A/junk.log"
pk_fails "a line that is not JSON" 1 audit verify "$A/junk.log"
err_has "... names line 3" 'line 3: not valid JSON'
python3 - "$A/five.log" "$A/firstprev.log" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines(True)
lines[0] = lines[0].replace('"prev":"' + "0" * 64, '"prev":"' + "1" + "0" * 63)
open(sys.argv[2], "w").write("".join(lines))
EOF
pk_fails "a first line whose prev is not 64 zeros" 1 audit verify "$A/firstprev.log"
err_has "... names line 1" 'line 1: prev'
head -n 4 "$A/five.log" >"$A/short.log"
pk_ok "a cut tail alone still verifies (the store's checkpoint catches it)" audit verify "$A/short.log"
pk_fails "a log that does not exist" 1 audit verify "$A/nope.log"
err_has "... names it" 'nope\.log'
pk_fails "--data-dir without pkictl.db" 1 audit verify "$A/audit.log" --data-dir="$A"
err_has "... names pkictl.db" 'pkictl\.db does not exist'
absent "... and does not create one" "$A/pkictl.db"
pk_fails "--data-dir that does not exist" 1 audit verify "$A/audit.log" --data-dir="$A/none"
pk_fails "audit verify --format=xml" 1 audit verify "$A/audit.log" --format=xml

finish
