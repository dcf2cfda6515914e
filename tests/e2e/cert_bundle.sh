#!/usr/bin/env bash
# cert bundle: leaf, intermediates, root in order from inputs in any order and any files;
# refusals (gap, unrelated certificate, no root, lookalike issuer, too long, garbage); --out vs stdout.
. "$(dirname "$0")/common.sh"
. "$E2E_DIR/sign_common.sh"

W="$T_TMP/w"; I="$T_TMP/in"; mkdir -p "$W" "$I"

# ---------------------------------------------------------------- the chain: root -> L1 (openssl) -> L2 (pkictl) -> leaf
new_ca "$I/root" "$I/root.key"
ROOT="$I/root/ca.crt"
mk_ocsr "level-1 CSR" "$I/l1.csr" ec:P-256 "/O=Example/CN=Level 1 CA"
if oca_sign "$I/l1.pem" "$I/l1.csr" "$ROOT" "$I/root.key" 3000 "$OCA_EXT"; then ok "setup: level-1 CA (openssl, no pathlen)"
else not_ok "setup: level-1 CA (openssl, no pathlen)" "$(head -c 300 "$T_TMP/.ocsr.err")"; fi
cat "$I/l1.pem" "$ROOT" >"$I/l1-chain.pem"
mk_ocsr "level-2 CSR" "$I/l2.csr" ec:P-256 "/O=Example/CN=Level 2 CA"
pk_ok "setup: level-2 CA (pkictl cert sign --profile=intermediate)" cert sign "$I/l2.csr" --ca-cert="$I/l1-chain.pem" \
    --ca-key="$I/l1.key" --profile=intermediate --out="$I/l2-out.pem"
nth_cert "$I/l2-out.pem" 1 >"$I/l2.pem"
cat "$I/l2.pem" "$I/l1.pem" "$ROOT" >"$I/l2-chain.pem"
mk_ocsr "leaf CSR" "$I/leaf.csr" ec:P-256 "/CN=leaf.example.com" -addext "subjectAltName=DNS:leaf.example.com"
pk_ok "setup: leaf under level 2" cert sign "$I/leaf.csr" --ca-cert="$I/l2-chain.pem" --ca-key="$I/l2.key" --profile=server \
    --out="$I/leaf-out.pem"
nth_cert "$I/leaf-out.pem" 1 >"$I/leaf.pem"
cp "$ROOT" "$I/root.pem"
SUBJ_RT="CN=pkictl CA,O=pkictl"; SUBJ_L1="CN=Level 1 CA,O=Example"; SUBJ_L2="CN=Level 2 CA,O=Example"; SUBJ_LF="CN=leaf.example.com"
WANT="$SUBJ_LF|$SUBJ_L2|$SUBJ_L1|$SUBJ_RT"
WANT_FP="$(fp256 "$I/leaf.pem")|$(fp256 "$I/l2.pem")|$(fp256 "$I/l1.pem")|$(fp256 "$I/root.pem")"
check "setup: the four-certificate chain verifies" openssl verify -CAfile "$ROOT" -untrusted "$I/leaf-out.pem" "$I/leaf.pem"

# bundle_is "what" FILE: FILE is leaf, L2, L1, root (subjects and fingerprints), and verifies
bundle_is() {
    is_eq "$1: subjects leaf, L2, L1, root" "$(subjects "$2")" "$WANT"
    is_eq "$1: exactly those certificates" "$(fps "$2")" "$WANT_FP"
    verifies "$1: verifies" "$ROOT" "$2"
}
pk_ok "cert bundle --help exits 0" cert bundle --help
out_has "cert bundle --help shows its usage" 'cert bundle'

# ---------------------------------------------------------------- stdout
pk_ok "in order, one file each, to stdout" cert bundle --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/l1.pem" \
    --chain-from="$I/root.pem"
cp "$T_TMP/.out" "$W/stdout1.pem"
bundle_is "in order" "$W/stdout1.pem"
is_eq "stdout is PEM only" "$(grep -v '^[A-Za-z0-9+/=]*$' "$W/stdout1.pem" | sort -u | tr '\n' '|')" \
    "-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----|"
pk_ok "shuffled files" cert bundle --chain-from="$I/root.pem" --cert="$I/leaf.pem" --chain-from="$I/l1.pem" --chain-from="$I/l2.pem"
cp "$T_TMP/.out" "$W/stdout2.pem"
bundle_is "shuffled files" "$W/stdout2.pem"
for order in "root l1 l2" "l1 root l2" "l2 root l1" "root l2 l1"; do
    : >"$I/mix.pem"; for c in $order; do cat "$I/$c.pem" >>"$I/mix.pem"; done
    pk_ok "one --chain-from file holding $order" cert bundle --cert="$I/leaf.pem" --chain-from="$I/mix.pem"
    cp "$T_TMP/.out" "$W/mix.pem"
    bundle_is "one file ($order)" "$W/mix.pem"
done
cat "$I/root.pem" "$I/l2.pem" >"$I/root-l2.pem"
pk_ok "two files, one holding two certificates" cert bundle --cert="$I/leaf.pem" --chain-from="$I/root-l2.pem" --chain-from="$I/l1.pem"
cp "$T_TMP/.out" "$W/two.pem"
bundle_is "two files" "$W/two.pem"
cat "$I/l1.pem" "$I/root.pem" "$I/l2.pem" >"$I/shuf.pem"
pk_ok "--cert holding leaf+chain: its first certificate is the leaf" cert bundle --cert="$I/leaf-out.pem" --chain-from="$I/shuf.pem"
cp "$T_TMP/.out" "$W/fromout.pem"
bundle_is "--cert with a chain" "$W/fromout.pem"

# one level: a leaf right under the root
mk_ocsr "direct leaf CSR" "$I/direct.csr" ec:P-256 "/CN=direct.example.com" -addext "subjectAltName=DNS:direct.example.com"
pk_ok "setup: leaf signed by the root" cert sign "$I/direct.csr" --ca-cert="$ROOT" --ca-key="$I/root.key" --profile=server --out="$I/direct.pem"
pk_ok "leaf + root" cert bundle --cert="$I/direct.pem" --chain-from="$I/root.pem"
cp "$T_TMP/.out" "$W/direct.pem"
is_eq "leaf + root: subjects" "$(subjects "$W/direct.pem")" "CN=direct.example.com|$SUBJ_RT"
verifies "leaf + root: verifies" "$ROOT" "$W/direct.pem"

# ---------------------------------------------------------------- --out
pk_ok "--out" cert bundle --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --out="$W/b.pem"
bundle_is "--out" "$W/b.pem"
is_eq "--out: the same bytes as stdout" "$(cat "$W/b.pem")" "$(cat "$W/stdout1.pem")"
lacks "--out: no certificate on stdout" "$(cat "$T_TMP/.out")" 'BEGIN CERTIFICATE'
mode_is "--out: mode 0644" "$W/b.pem" 644
refuses "cert bundle: existing --out without --overwrite" 1 "$W" "$I" -- \
    cert bundle --cert="$I/direct.pem" --chain-from="$I/root.pem" --out="$W/b.pem"
pk_ok "--overwrite" cert bundle --cert="$I/direct.pem" --chain-from="$I/root.pem" --out="$W/b.pem" --overwrite
is_eq "--overwrite: replaced" "$(subjects "$W/b.pem")" "CN=direct.example.com|$SUBJ_RT"
pk_ok "--flag VALUE forms" cert bundle --cert "$I/leaf.pem" --chain-from "$I/shuf.pem" --out "$W/fv.pem"
bundle_is "--flag VALUE" "$W/fv.pem"

# ---------------------------------------------------------------- refusals
# rb "what" CODE args...: refused, nothing changed, no certificate on stdout
rb() {
    local w=$1 c=$2; shift 2
    refuses "cert bundle: $w" "$c" "$W" "$I" -- cert bundle "$@"
    lacks "cert bundle: $w: no certificate on stdout" "$(cat "$T_TMP/.out")" 'BEGIN CERTIFICATE'
}
rb "gap: level 1 missing" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/root.pem"
rb "gap: level 2 missing" 1 --cert="$I/leaf.pem" --chain-from="$I/l1.pem" --chain-from="$I/root.pem"
rb "gap (--out): level 1 missing" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/root.pem" --out="$W/gap.pem"
rb "--cert's other certificates are not used (only the root given)" 1 --cert="$I/leaf-out.pem" --chain-from="$I/root.pem"
rb "no root" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/l1.pem"
rb "no root (--out)" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/l1.pem" --out="$W/noroot.pem"
rb "only the leaf's issuer missing" 1 --cert="$I/leaf.pem" --chain-from="$I/root.pem"
new_ca "$I/other" "$I/other.key"
rb "an unrelated extra root" 1 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --chain-from="$I/other/ca.crt"
rb "an unrelated extra root (--out)" 1 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --chain-from="$I/other/ca.crt" --out="$W/x.pem"
rb "an unrelated leaf among the chain" 1 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --chain-from="$I/direct.pem"
cat "$I/l1.pem" "$I/other/ca.crt" "$I/root.pem" "$I/l2.pem" >"$I/with-other.pem"
rb "an unrelated root inside a chain file" 1 --cert="$I/leaf.pem" --chain-from="$I/with-other.pem"
# a lookalike level-1 CA: same subject, another key, signed by the root
mk_ocsr "lookalike level-1 CSR" "$I/fake.csr" ec:P-256 "/O=Example/CN=Level 1 CA"
oca_sign "$I/fake.pem" "$I/fake.csr" "$ROOT" "$I/root.key" 3000 "$OCA_EXT"
is_eq "setup: lookalike has level 1's subject" "$(csubject "$I/fake.pem")" "$SUBJ_L1"
rb "lookalike issuer (right name, wrong key) instead of level 1" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" \
    --chain-from="$I/fake.pem" --chain-from="$I/root.pem"
rb "lookalike issuer next to the real one" 1 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --chain-from="$I/fake.pem"

head -c 1500 /dev/urandom >"$I/garbage.pem"
: >"$I/empty.pem"
echo "no certificates here" >"$I/text.pem"
head -c $(( $(wc -c <"$I/l1.pem") / 2 )) "$I/l1.pem" >"$I/trunc.pem"
rb "garbage --chain-from" 1 --cert="$I/leaf.pem" --chain-from="$I/garbage.pem"
rb "garbage among good --chain-from files" 1 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --chain-from="$I/garbage.pem"
rb "empty --chain-from" 1 --cert="$I/leaf.pem" --chain-from="$I/empty.pem"
rb "text --chain-from" 1 --cert="$I/leaf.pem" --chain-from="$I/text.pem"
rb "truncated --chain-from" 1 --cert="$I/leaf.pem" --chain-from="$I/l2.pem" --chain-from="$I/trunc.pem" --chain-from="$I/root.pem"
rb "garbage --cert" 1 --cert="$I/garbage.pem" --chain-from="$I/shuf.pem"
rb "empty --cert" 1 --cert="$I/empty.pem" --chain-from="$I/shuf.pem"
rb "missing --cert file" 1 --cert="$I/nope.pem" --chain-from="$I/shuf.pem"
rb "missing --chain-from file" 1 --cert="$I/leaf.pem" --chain-from="$I/nope.pem"
rb "a CSR as --chain-from" 1 --cert="$I/leaf.pem" --chain-from="$I/l1.csr"
rb "unknown flag: exit 2" 2 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --bogus
rb "missing --cert: exit 2" 2 --chain-from="$I/shuf.pem"
rb "missing --chain-from: exit 2" 2 --cert="$I/leaf.pem"
rb "positional argument: exit 2" 2 extra --cert="$I/leaf.pem" --chain-from="$I/shuf.pem"
rb "--out without a value: exit 2" 2 --cert="$I/leaf.pem" --chain-from="$I/shuf.pem" --out

# ---------------------------------------------------------------- an openssl-only chain, and one too long
cat >"$T_TMP/root.cnf" <<'EOF'
[req]
distinguished_name = dn
x509_extensions = v3
[dn]
[v3]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOF
D="$I/deep"; mkdir -p "$D"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/d0.key" -config "$T_TMP/root.cnf" \
    -subj "/CN=Deep 0" -days 100 -out "$D/d0.pem" 2>/dev/null
ok_chain=1
for i in $(seq 1 12); do
    ocsr "$D/d$i.csr" ec:P-256 "/CN=Deep $i" || ok_chain=0
    oca_sign "$D/d$i.pem" "$D/d$i.csr" "$D/d$((i - 1)).pem" "$D/d$((i - 1)).key" 100 "$OCA_EXT" || ok_chain=0
done
if [ $ok_chain = 1 ]; then ok "setup: a 13-certificate openssl chain"; else not_ok "setup: a 13-certificate openssl chain" "$(head -c 300 "$T_TMP/.ocsr.err")"; fi
cat "$D/d2.pem" "$D/d0.pem" "$D/d1.pem" >"$D/short-chain.pem"
pk_ok "openssl-made chain of four" cert bundle --cert="$D/d3.pem" --chain-from="$D/short-chain.pem"
cp "$T_TMP/.out" "$W/deep4.pem"
is_eq "openssl chain of four: in order" "$(subjects "$W/deep4.pem")" "CN=Deep 3|CN=Deep 2|CN=Deep 1|CN=Deep 0"
: >"$D/all.pem"; for i in 0 5 1 9 2 11 3 7 4 10 6 8; do cat "$D/d$i.pem" >>"$D/all.pem"; done
rb "a chain of 13 certificates (more than 10 links)" 1 --cert="$D/d12.pem" --chain-from="$D/all.pem"

finish
