#!/usr/bin/env bash
# e2e: cert create-self-signed (Redis Enterprise names) and cert install
# with its six checks, backup and rollback (docs/cli.md).
. "$(dirname "$0")/common.sh"
P=$PKICTL
d=$T_TMP

# ---- create-self-signed ------------------------------------------------------
mkdir -p "$d/ss"
pk_ok "self-signed: all types" cert create-self-signed --domains="a.example.com b.example.com" \
    --out-dir="$d/ss" --key-type=ecdsa
out_has "self-signed: one success line" '^created 5 self-signed certificates \(cm, api, proxy, syncer, metrics\) in .* for a.example.com, b.example.com, valid 365 days$'
is_eq "self-signed: one line only" "$(wc -l <"$T_TMP/.out")" 1
for t in cm api proxy syncer metrics; do
    is_eq "self-signed: $t key mode" "$(mode_of "$d/ss/${t}_key.pem")" 600
    is_eq "self-signed: $t cert mode" "$(mode_of "$d/ss/${t}_cert.pem")" 644
done
san=$(openssl x509 -in "$d/ss/api_cert.pem" -noout -ext subjectAltName | tail -1 | tr -d ' ')
is_eq "self-signed: SANs are each domain and its wildcard" "$san" \
    "DNS:a.example.com,DNS:*.a.example.com,DNS:b.example.com,DNS:*.b.example.com"
check "self-signed: verifies against itself" openssl verify -CAfile "$d/ss/cm_cert.pem" "$d/ss/cm_cert.pem"
check "self-signed: key matches" sh -c "[ \"\$(openssl pkey -in '$d/ss/proxy_key.pem' -pubout)\" = \"\$(openssl x509 -in '$d/ss/proxy_cert.pem' -noout -pubkey)\" ]"
export PKICTL_NOW=$NOW0
mkdir -p "$d/ss2"
pk_ok "self-signed: --type=cm --days=30" cert create-self-signed --domains=c.example.com \
    --type=cm --days=30 --out-dir="$d/ss2" --key-type=ecdsa
is_eq "self-signed: only cm written" "$(ls "$d/ss2" | tr '\n' ' ')" "cm_cert.pem cm_key.pem "
is_eq "self-signed: 30 days" "$(openssl x509 -in "$d/ss2/cm_cert.pem" -noout -enddate)" \
    "notAfter=Dec 14 22:13:20 2023 GMT"
unset PKICTL_NOW
before=$(snapshot "$d/ss")
pk_fails "self-signed: existing files refused" 1 cert create-self-signed --domains=a.example.com --out-dir="$d/ss"
err_has "self-signed: names the file" "already exists"
for bad in "--domains=*.a.example.com" "--domains=a..b" "--domains=" "--domains=, ," \
           "--days=0" "--days=abc" "--days=36501" "--type=web" "--out-dir=$d/missing"; do
    pk_fails "self-signed: refuses $bad" 1 cert create-self-signed --domains=z.example.com "$bad" \
        --out-dir="$d/ss"
done
is_eq "self-signed: refusals changed nothing" "$(snapshot "$d/ss")" "$before"
pk_ok "self-signed: --overwrite" cert create-self-signed --domains=a.example.com --out-dir="$d/ss" \
    --overwrite --key-type=ecdsa

# ---- install -------------------------------------------------------------------
mkdir -p "$d/root" "$d/inter" "$d/slot" "$d/other"
pk_ok "install setup: root" cert create-ca --certs-dir="$d/root" --ca-key="$d/root.key" --key-type=ecdsa
pk_ok "install setup: intermediate" cert create-ca --certs-dir="$d/inter" --ca-key="$d/inter.key" \
    --key-type=ecdsa --parent-ca-cert="$d/root/ca.crt" --parent-ca-key="$d/root.key"
pk_ok "install setup: other CA" cert create-ca --certs-dir="$d/other" --ca-key="$d/other.key" --key-type=ecdsa
cp "$d/root/ca.crt" "$d/slot/ca.crt"
pk_ok "install setup: node csr" csr create --new-key --key-type=ecdsa --san=dns:db.example.com \
    --subject=/CN=db --usage=both --out="$d/n.csr"
pk_ok "install setup: sign node" cert sign "$d/n.csr" --ca-cert="$d/inter/ca.crt" --ca-key="$d/inter.key" \
    --profile=node --out="$d/n.crt"
pk_ok "install setup: sign server" cert sign "$d/n.csr" --ca-cert="$d/inter/ca.crt" --ca-key="$d/inter.key" \
    --profile=server --out="$d/s.crt"
pk_ok "install setup: sign client" cert sign "$d/n.csr" --ca-cert="$d/inter/ca.crt" --ca-key="$d/inter.key" \
    --profile=client --out="$d/c.crt"
awk '/BEGIN/{n++} n==1' "$d/n.crt" >"$d/leaf.pem"
awk '/BEGIN/{n++} n==2' "$d/n.crt" >"$d/inter.pem"
cat "$d/leaf.pem" "$d/root/ca.crt" "$d/inter.pem" >"$d/misordered.pem"
head -c 300 "$d/n.crt" >"$d/truncated.pem"
cp "$d/n.key" "$d/open.key"; chmod 644 "$d/open.key"

before=$(snapshot "$d/slot")
pk_fails "install: pem check (truncated)" 1 cert install node --cert="$d/truncated.pem" --key="$d/n.key" --certs-dir="$d/slot"
err_has "install: names the pem check" "^pkictl: pem check"
pk_fails "install: key check" 1 cert install node --cert="$d/n.crt" --key="$d/inter.key" --certs-dir="$d/slot"
err_has "install: names the key check" "^pkictl: key check"
pk_fails "install: key readable by others" 1 cert install node --cert="$d/n.crt" --key="$d/open.key" --certs-dir="$d/slot"
pk_fails "install: chain check (leaf without its intermediate)" 1 cert install node --cert="$d/leaf.pem" --key="$d/n.key" --certs-dir="$d/slot"
err_has "install: names the chain check" "^pkictl: chain check"
pk_fails "install: chain check (out of order)" 1 cert install node --cert="$d/misordered.pem" --key="$d/n.key" --certs-dir="$d/slot"
err_has "install: out of order is a chain problem" "chain check: .*out of order"
pk_fails "install: chain check (other CA)" 1 cert install node --cert="$d/n.crt" --key="$d/n.key" --ca="$d/other/ca.crt" --certs-dir="$d/slot"
pk_fails "install: validity check (minimum)" 1 cert install node --cert="$d/n.crt" --key="$d/n.key" --certs-dir="$d/slot" --min-validity=9000h
err_has "install: names the validity check" "^pkictl: validity check: .*within the minimum"
PKICTL_NOW=$(( $(date +%s) + 400 * 86400 )) pk_fails "install: validity check (expired)" 1 cert install node --cert="$d/n.crt" --key="$d/n.key" --certs-dir="$d/slot"
err_has "install: expired" "validity check: certificate 1 expired"
pk_fails "install: usage check (server cert in node slot)" 1 cert install node --cert="$d/s.crt" --key="$d/n.key" --certs-dir="$d/slot"
err_has "install: names the usage check" "^pkictl: usage check: slot node needs extended key usage serverAuth and clientAuth"
pk_fails "install: usage check (client cert in a server slot)" 1 cert install api --cert="$d/c.crt" --key="$d/n.key" --certs-dir="$d/slot"
pk_fails "install: unknown slot" 1 cert install web --cert="$d/n.crt" --key="$d/n.key" --certs-dir="$d/slot"
pk_fails "install: bad client slot user" 1 cert install "client.a/b" --cert="$d/c.crt" --key="$d/n.key" --certs-dir="$d/slot"
pk_fails "install: rollback without a backup" 1 cert install --rollback node --certs-dir="$d/slot"
pk_fails "install: needs --cert and --key" 2 cert install node --certs-dir="$d/slot"
is_eq "install: refusals changed nothing" "$(snapshot "$d/slot")" "$before"

# SHA-1: a leaf signed by the intermediate with SHA-1 (openssl), rest as usual.
openssl x509 -req -in "$d/n.csr" -CA "$d/inter.pem" -CAkey "$d/inter.key" -days 90 -sha1 \
    -extfile <(printf 'extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:db.example.com\n') \
    -out "$d/sha1-leaf.pem" 2>/dev/null
cat "$d/sha1-leaf.pem" "$d/inter.pem" >"$d/sha1.pem"
pk_fails "install: signature check (SHA-1)" 1 cert install node --cert="$d/sha1.pem" --key="$d/n.key" --certs-dir="$d/slot" --min-validity=24h
err_has "install: names the signature check" "^pkictl: signature check: certificate 1 is signed with SHA1"

pk_ok "install: node" cert install node --cert="$d/n.crt" --key="$d/n.key" --certs-dir="$d/slot"
out_has "install: one line with the expiry" '^installed node \(expires [0-9]{4}-[0-9]{2}-[0-9]{2}\)$'
is_eq "install: key mode" "$(mode_of "$d/slot/node.key")" 600
is_eq "install: chain kept" "$(grep -c 'BEGIN CERTIFICATE' "$d/slot/node.crt")" 2
check "install: list is clean" "$P" cert list --certs-dir="$d/slot"
first=$(openssl x509 -in "$d/slot/node.crt" -noout -serial)
pk_ok "install: again (new serial)" cert sign "$d/n.csr" --ca-cert="$d/inter/ca.crt" --ca-key="$d/inter.key" \
    --profile=node --out="$d/n2.crt"
pk_ok "install: second install" cert install node --cert="$d/n2.crt" --key="$d/n.key" --certs-dir="$d/slot"
is_eq "install: backup is the first" "$(openssl x509 -in "$d/slot/node.crt.previous" -noout -serial)" "$first"
is_eq "install: backup key mode" "$(mode_of "$d/slot/node.key.previous")" 600
pk_ok "install: rollback" cert install --rollback node --certs-dir="$d/slot"
is_eq "install: rollback restores the first" "$(openssl x509 -in "$d/slot/node.crt" -noout -serial)" "$first"
pk_ok "install: rollback again undoes it" cert install --rollback node --certs-dir="$d/slot"
is_ne "install: second is back" "$(openssl x509 -in "$d/slot/node.crt" -noout -serial)" "$first"
pk_fails "install: --rollback takes no --cert" 2 cert install --rollback node --cert="$d/n.crt" --certs-dir="$d/slot"
finish
