# shellcheck shell=bash disable=SC2034
# Helpers for the issue-3 e2e scripts (csr create, cert sign/bundle/show, intermediate CAs).
# Source it after common.sh:
#   . "$(dirname "$0")/common.sh"; . "$E2E_DIR/sign_common.sh"

# ---------------------------------------------------------------- CSR inspection (openssl req)
rtext()    { openssl req -in "$1" -noout -text 2>/dev/null; }
# rext FILE LABEL: the (first) value line after "LABEL:" in `openssl req -text` / `x509 -text`
rext()     { rtext "$1" | awk -v l="$2" 'f {sub(/^ +/, ""); print; exit} index($0, l ":") {f = 1}'; }
rsan_list(){ rext "$1" "X509v3 Subject Alternative Name" | tr ',' '\n' | sed 's/^ *//; /^$/d'; }
reku()     { rext "$1" "X509v3 Extended Key Usage"; }
rsubject() { openssl req -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'; }
# rsubject_set FILE: the subject attributes as "A=v" sorted, joined with '|' (values unescaped)
rsubject_set() {
    openssl req -in "$1" -noout -subject -nameopt sep_multiline,sname,utf8 2>/dev/null |
        tail -n +2 | sed 's/^ *//' | LC_ALL=C sort | tr '\n' '|'
}
csubject_set() {
    openssl x509 -in "$1" -noout -subject -nameopt sep_multiline,sname,utf8 2>/dev/null |
        tail -n +2 | sed 's/^ *//' | LC_ALL=C sort | tr '\n' '|'
}
rpub()     { openssl req -in "$1" -noout -pubkey 2>/dev/null; }
rsigalg()  { rtext "$1" | sed -n 's/^ *Signature Algorithm: *//p' | head -n1; }
# req_ok "what" FILE: the request's self-signature verifies (openssl 3.0 exits 0 even when it
# does not, so the message is checked)
req_ok() {
    local o; o=$(openssl req -in "$2" -noout -verify 2>&1)
    if printf '%s' "$o" | grep -q 'verify OK'; then ok "$1"
    else not_ok "$1" "$(printf '%s' "$o" | head -c 300)"; fi
}
is_csr_pem() { [ "$(head -n1 "$1" 2>/dev/null)" == "-----BEGIN CERTIFICATE REQUEST-----" ]; }

# ---------------------------------------------------------------- certificate inspection
# cval FILE EXT: the value line of one extension (e.g. keyUsage), without the header
cval()     { cext "$1" "$2" | tail -n +2 | sed 's/^ *//'; }
ccrit()    { cext "$1" "$2" | head -n1 | grep -q 'critical'; }
# sorted comma list, for order-free comparisons: "b, a" -> "a,b"
sorted()   { tr ',' '\n' | sed 's/^ *//; s/ *$//; /^$/d' | LC_ALL=C sort | paste -sd, -; }
fp256()    { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'; }
fp1()      { openssl x509 -in "$1" -noout -fingerprint -sha1 2>/dev/null | sed 's/^.*=//'; }
# each_cert FILE CMD...: run CMD on every certificate of FILE in turn (as a temp file), one output line each
each_cert() {
    local f=$1 n i; shift
    n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$f" 2>/dev/null)
    for i in $(seq 1 "${n:-0}"); do
        nth_cert "$f" "$i" >"$T_TMP/.each.pem"
        "$@" "$T_TMP/.each.pem"
    done
}
subjects() { each_cert "$1" csubject | paste -sd'|' -; }
fps()      { each_cert "$1" fp256 | paste -sd'|' -; }
# cert_count "what" FILE N
cert_count() { is_eq "$1" "$(grep -c -- '-----BEGIN CERTIFICATE-----' "$2" 2>/dev/null)" "$3"; }
# verifies "what" ROOT FILE [openssl verify args]: FILE's first certificate verifies against ROOT
# with the rest of FILE as untrusted intermediates
verifies() {
    local what=$1 root=$2 f=$3; shift 3
    check "$what" openssl verify "$@" -CAfile "$root" -untrusted "$f" "$f"
}

# ---------------------------------------------------------------- making things with openssl
# ocsr OUT KEYALG SUBJ [openssl req args...]: a CSR from `openssl req -new` with a new key in
# OUT minus .csr plus .key (mode 0600). KEYALG: rsa:BITS, ec:CURVE, ed25519.
ocsr() {
    local out=$1 alg=$2 subj=$3 key; shift 3
    key="${out%.csr}.key"
    local ka
    case $alg in
        rsa:*)   ka=(-newkey "$alg") ;;
        ec:*)    ka=(-newkey ec -pkeyopt "ec_paramgen_curve:${alg#ec:}") ;;
        ed25519) ka=(-newkey ed25519) ;;
    esac
    openssl req -new "${ka[@]}" -nodes -keyout "$key" -subj "$subj" "$@" -out "$out" 2>"$T_TMP/.ocsr.err" &&
        chmod 600 "$key"
}
# mk_ocsr "what" OUT KEYALG SUBJ [args]: ocsr, counted as a setup check
mk_ocsr() {
    local what=$1; shift
    if ocsr "$@"; then ok "setup: $what"; else not_ok "setup: $what" "$(head -c 300 "$T_TMP/.ocsr.err")"; fi
}
# oca_sign OUT CSR CACERT CAKEY DAYS EXTS: openssl x509 -req signing CSR with the given
# extensions (newline-separated extfile lines)
oca_sign() {
    local out=$1 csr=$2 ca=$3 cakey=$4 days=$5 exts=$6
    printf '%s\n' "$exts" >"$T_TMP/.ext.cnf"
    openssl x509 -req -in "$csr" -CA "$ca" -CAkey "$cakey" -days "$days" \
        -set_serial "0x$(openssl rand -hex 12)" -extfile "$T_TMP/.ext.cnf" -out "$out" 2>"$T_TMP/.ocsr.err"
}
OCA_EXT='basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid'
# pem_of_der DER: wrap DER bytes as a PEM CERTIFICATE REQUEST
pem_of_der() {
    echo "-----BEGIN CERTIFICATE REQUEST-----"; base64 -w64 "$1"; echo "-----END CERTIFICATE REQUEST-----"
}
# flip_byte FILE OFFSET_FROM_END: xor one byte (1 = last byte) with 0x01
flip_byte() {
    python3 - "$1" "$2" <<'EOF'
import sys
p, off = sys.argv[1], int(sys.argv[2])
d = bytearray(open(p, 'rb').read())
d[-off] ^= 0x01
open(p, 'wb').write(d)
EOF
}

# ---------------------------------------------------------------- JSON (python3)
# jv FILE EXPR: evaluate EXPR on the parsed JSON `d`; strings print raw, the rest as JSON
jv() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
EOF
}
