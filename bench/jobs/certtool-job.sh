#!/bin/bash
# The pkictl benchmark job done with GnuTLS certtool: --generate-privkey for each key,
# --generate-self-signed for the CA, --generate-certificate for the leaves, templates in conf/.
# 6 certtool processes in all (pkictl: 3).
. "${0%/*}/_common.sh"
case $KT in
  ecdsa) gen=(--key-type=ecdsa --curve=secp256r1) ;;
  rsa)   gen=(--key-type=rsa --bits=2048) ;;
esac

$W certtool --generate-privkey "${gen[@]}" --no-text --outfile "$D/ca.key"
$W certtool --generate-self-signed --load-privkey "$D/ca.key" \
  --template "$CONF/certtool-ca.tmpl" --hash=SHA256 --no-text --outfile "$D/ca.crt"

for leaf in node client; do
  if [ $leaf = node ]; then f=node; else f=client.root; fi
  $W certtool --generate-privkey "${gen[@]}" --no-text --outfile "$D/$f.key"
  $W certtool --generate-certificate --load-privkey "$D/$f.key" \
    --load-ca-certificate "$D/ca.crt" --load-ca-privkey "$D/ca.key" \
    --template "$CONF/certtool-$leaf-$KT.tmpl" --hash=SHA256 --no-text --outfile "$D/$f.crt"
done
