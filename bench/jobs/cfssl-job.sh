#!/bin/bash
# The pkictl benchmark job done with cfssl: gencert -initca for the CA, gencert with
# conf/cfssl-config.json profiles for the leaves, each piped to cfssljson -bare.
# 3 cfssl + 3 cfssljson processes (pkictl: 3). Files: ca.pem ca-key.pem node.pem
# node-key.pem client-root.pem client-root-key.pem (+ a .csr for each).
. "${0%/*}/_common.sh"

$W cfssl gencert -loglevel=2 -initca "$CONF/cfssl-ca-$KT.json" | $W cfssljson -bare "$D/ca"
$W cfssl gencert -loglevel=2 -ca "$D/ca.pem" -ca-key "$D/ca-key.pem" \
  -config "$CONF/cfssl-config.json" -profile "node-$KT" \
  -hostname node1.example.com,node2.example.com,localhost,127.0.0.1 \
  "$CONF/cfssl-node-$KT.json" | $W cfssljson -bare "$D/node"
$W cfssl gencert -loglevel=2 -ca "$D/ca.pem" -ca-key "$D/ca-key.pem" \
  -config "$CONF/cfssl-config.json" -profile "client-$KT" \
  "$CONF/cfssl-client-$KT.json" | $W cfssljson -bare "$D/client-root"
