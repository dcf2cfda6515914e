#!/bin/bash
# bench/verify.sh TOOL OUTDIR ecdsa|rsa
# Checks that a job's output is real: the node and client certificates verify against the CA
# with `openssl verify -CAfile` (with -purpose sslserver / sslclient, so the EKUs are checked),
# the CA is CA:TRUE, each key matches its certificate and has the asked type and size, and the
# node certificate carries the four SANs.
set -euo pipefail
tool=$1 d=$2 kt=$3
case $tool in
  cfssl) ca=$d/ca.pem node=$d/node.pem nodekey=$d/node-key.pem
         cli=$d/client-root.pem clikey=$d/client-root-key.pem cakey=$d/ca-key.pem ;;
  *)     ca=$d/ca.crt node=$d/node.crt nodekey=$d/node.key
         cli=$d/client.root.crt clikey=$d/client.root.key cakey=$d/ca.key ;;
esac
fail() { echo "verify $tool/$kt: $*" >&2; exit 1; }
openssl verify -CAfile "$ca" -purpose sslserver "$node" >/dev/null || fail "node.crt does not verify"
openssl verify -CAfile "$ca" -purpose sslclient "$cli" >/dev/null || fail "client cert does not verify"
openssl x509 -in "$ca" -noout -ext basicConstraints | grep -q 'CA:TRUE' || fail "CA is not CA:TRUE"
case $kt in
  ecdsa) want='Public-Key: \(256 bit\)' alg=id-ecPublicKey ;;
  rsa)   want='Public-Key: \(2048 bit\)' alg=rsaEncryption ;;
esac
for pair in "$ca:$cakey" "$node:$nodekey" "$cli:$clikey"; do
  c=${pair%%:*} k=${pair#*:}
  [ "$(openssl x509 -in "$c" -noout -pubkey)" = "$(openssl pkey -in "$k" -pubout)" ] \
    || fail "$k does not match $c"
  t=$(openssl x509 -in "$c" -noout -text)
  grep -Eq "$want" <<<"$t" && grep -q "$alg" <<<"$t" || fail "$c: wrong key type or size"
done
san=$(openssl x509 -in "$node" -noout -ext subjectAltName)
for h in DNS:node1.example.com DNS:node2.example.com DNS:localhost 'IP Address:127.0.0.1'; do
  grep -q "$h" <<<"$san" || fail "node cert lacks SAN $h"
done
openssl x509 -in "$cli" -noout -subject | grep -q 'CN *= *root' || fail "client CN is not root"
echo "verify $tool/$kt: ok"
