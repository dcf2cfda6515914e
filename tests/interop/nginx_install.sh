#!/usr/bin/env bash
# Interop: a server certificate signed through an intermediate and put in
# place with `pkictl cert install` serves real TLS from Debian's nginx.
#   - curl trusts only the root (--cacert root) and completes the handshake,
#     because the installed ui.crt carries the intermediate;
#   - with ssl_verify_client on, nginx accepts a pkictl client certificate
#     (leaf + intermediate) and refuses a request without one or with a
#     client certificate from another CA.
# Listens on 127.0.0.1 only; nginx is stopped by the EXIT trap.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
. "$here/interop_lib.sh"

need nginx curl || { finish; exit 1; }
d=$T_TMP
P=$PKICTL

# A root, an intermediate under it, and another root nobody trusts.
mkdir -p "$d/root" "$d/inter" "$d/other" "$d/slot" "$d/nginx/logs"
check "root CA" "$P" cert create-ca --certs-dir="$d/root" --ca-key="$d/root.key" --key-type=ecdsa
check "intermediate CA under the root" "$P" cert create-ca --certs-dir="$d/inter" \
    --ca-key="$d/inter.key" --key-type=ecdsa --parent-ca-cert="$d/root/ca.crt" \
    --parent-ca-key="$d/root.key"
check "another CA" "$P" cert create-ca --certs-dir="$d/other" --ca-key="$d/other.key" --key-type=ecdsa

# The server certificate: a pkictl CSR, signed by the intermediate, installed.
check "csr create for localhost" "$P" csr create --new-key --key-type=ecdsa --subject=/CN=localhost \
    --san=dns:localhost,ip:127.0.0.1 --out="$d/server.csr"
check "cert sign --profile=server" "$P" cert sign "$d/server.csr" --ca-cert="$d/inter/ca.crt" \
    --ca-key="$d/inter.key" --profile=server --out="$d/server.crt"
check "cert install ui (checks pass)" "$P" cert install ui --cert="$d/server.crt" \
    --key="$d/server.key" --ca="$d/root/ca.crt" --certs-dir="$d/slot"
same "installed ui.crt is leaf + intermediate" "$(grep -c 'BEGIN CERTIFICATE' "$d/slot/ui.crt")" 2

# Client certificates: one under the intermediate, one from the other CA.
check "client under the intermediate" "$P" cert create-client alice --certs-dir="$d/inter" \
    --ca-key="$d/inter.key" --key-type=ecdsa
check "client from another CA" "$P" cert create-client mallory --certs-dir="$d/other" \
    --ca-key="$d/other.key" --key-type=ecdsa

port=$(free_port)
mport=$(free_port)
while [ "$mport" = "$port" ]; do mport=$(free_port); done
cat >"$d/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $d/nginx/nginx.pid;
error_log $d/nginx/logs/error.log info;
$( [ "$(id -u)" -eq 0 ] && echo "user root;" )
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $d/nginx/body;
    proxy_temp_path $d/nginx/proxy;
    fastcgi_temp_path $d/nginx/fastcgi;
    uwsgi_temp_path $d/nginx/uwsgi;
    scgi_temp_path $d/nginx/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $d/slot/ui.crt;
        ssl_certificate_key $d/slot/ui.key;
        location / { return 200 "hello over tls\n"; }
    }
    server {
        listen 127.0.0.1:$mport ssl;
        ssl_certificate $d/slot/ui.crt;
        ssl_certificate_key $d/slot/ui.key;
        ssl_client_certificate $d/root/ca.crt;
        ssl_verify_client on;
        ssl_verify_depth 2;
        location / { return 200 "hello \$ssl_client_s_dn\n"; }
    }
}
CONF
check "nginx accepts the configuration" nginx -t -c "$d/nginx/nginx.conf" -p "$d/nginx"
timeout 120 nginx -c "$d/nginx/nginx.conf" -p "$d/nginx" -g 'daemon off;' \
    >"$d/nginx/logs/stdout" 2>&1 &
T_PIDS+=("$!")
if wait_listen "$port" "$!" && wait_listen "$mport" "$!"; then ok "nginx listens on 127.0.0.1"
else not_ok "nginx listens on 127.0.0.1" "$(tail -5 "$d/nginx/logs/error.log" 2>/dev/null)"; fi

c() { timeout 20 curl -sS --max-time 10 "$@"; }
ok_with "curl --cacert root only: handshake and response" "hello over tls" \
    c --cacert "$d/root/ca.crt" "https://localhost:$port/"
ok_with "curl by IP (IP SAN)" "hello over tls" c --cacert "$d/root/ca.crt" "https://127.0.0.1:$port/"
fails "curl trusting another CA is refused" c --cacert "$d/other/ca.crt" "https://localhost:$port/"
ok_with "openssl s_client sees a chain of 2" "Verify return code: 0" \
    sh -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$port -servername localhost \
           -CAfile '$d/root/ca.crt' -verify_return_error -showcerts 2>&1"
same "server sends leaf + intermediate" \
    "$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -showcerts 2>/dev/null |
       grep -c 'BEGIN CERTIFICATE')" 2

ok_with "mutual TLS: client certificate under the intermediate accepted" "CN=alice" \
    c --cacert "$d/root/ca.crt" --cert "$d/inter/client.alice.crt" --key "$d/inter/client.alice.key" \
    "https://localhost:$mport/"
ok_with "mutual TLS: no client certificate gets 400" "400" \
    c -o /dev/null -w '%{http_code}' --cacert "$d/root/ca.crt" "https://localhost:$mport/"
code=$(c -o /dev/null -w '%{http_code}' --cacert "$d/root/ca.crt" --cert "$d/other/client.mallory.crt" \
       --key "$d/other/client.mallory.key" "https://localhost:$mport/" 2>/dev/null)
if [ "$code" = 400 ] || [ -z "$code" ] || [ "$code" = 000 ]; then
    ok "mutual TLS: client certificate from another CA refused"
else not_ok "mutual TLS: client certificate from another CA refused" "http code $code"; fi

# A rollback to nothing is refused; a second install keeps a backup, and
# after a rollback nginx still serves (reload picks the restored pair).
fails_with "rollback without a previous pair is refused" "no previous pair" \
    "$P" cert install --rollback ui --certs-dir="$d/slot"
check "second install keeps the first as .previous" "$P" cert install ui --cert="$d/server.crt" \
    --key="$d/server.key" --ca="$d/root/ca.crt" --certs-dir="$d/slot"
check "ui.crt.previous exists" test -f "$d/slot/ui.crt.previous"
check "rollback" "$P" cert install --rollback ui --certs-dir="$d/slot"
check "nginx reloads the rolled-back pair" nginx -s reload -c "$d/nginx/nginx.conf" -p "$d/nginx"
ok_with "still serves after the reload" "hello over tls" \
    c --cacert "$d/root/ca.crt" "https://localhost:$port/"

finish
