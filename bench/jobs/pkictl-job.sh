#!/bin/bash
# The benchmark job done with pkictl (3 processes). $PKICTL is the binary (default: pkictl
# on PATH). The CA key is kept inside OUTDIR only for the benchmark.
. "${0%/*}/_common.sh"
P=${PKICTL:-pkictl}
case $KT in
  ecdsa) kf=(--key-type=ecdsa) ;;
  rsa)   kf=(--key-type=rsa --key-size=2048) ;;
esac

$W "$P" cert create-ca --certs-dir="$D" --ca-key="$D/ca.key" "${kf[@]}"
$W "$P" cert create-node node1.example.com node2.example.com localhost 127.0.0.1 \
  --certs-dir="$D" --ca-key="$D/ca.key" "${kf[@]}"
$W "$P" cert create-client root --certs-dir="$D" --ca-key="$D/ca.key" "${kf[@]}"
