#!/bin/bash
# bench/load/gen_csrs.sh N TRUST_DOMAIN OUTDIR
#
# The CSR pool of bench/server_load.sh: N distinct P-256 CSRs (new key each, CN=web, one URI
# SAN spiffe://TRUST_DOMAIN/ns/default/dc/dc1/svc/web), as request bodies for both servers:
#   OUTDIR/pkictl/NNN.json   {"CSR": "PEM"}                  POST /v1/connect/ca/sign
#   OUTDIR/cfssl/NNN.json    {"certificate_request": "PEM"}  POST /api/v1/cfssl/sign
#   OUTDIR/csr/NNN.pem       the CSR itself
# plus OUTDIR/bad-sig.pem: CSR 000 with one bit of its signature flipped (the negative control
# that shows a server checks the CSR signature).
set -euo pipefail
[ $# = 3 ] || { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
N=$1 TD=$2 OUT=$3
case $N in ''|*[!0-9]*) echo "gen_csrs.sh: N must be a number" >&2; exit 2 ;; esac
case $TD in *[!a-z0-9.-]*|'') echo "gen_csrs.sh: bad trust domain \"$TD\"" >&2; exit 2 ;; esac
mkdir -p "$OUT/csr" "$OUT/pkictl" "$OUT/cfssl"
URI="spiffe://$TD/ns/default/dc/dc1/svc/web"
for i in $(seq -f %03g 0 $((N - 1))); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj /CN=web -addext "subjectAltName=URI:$URI" -out "$OUT/csr/$i.pem" 2>/dev/null
done
python3 - "$OUT" <<'PY'
import base64, glob, json, os, sys
out = sys.argv[1]
for p in sorted(glob.glob(out + "/csr/*.pem")):
    pem, n = open(p).read(), os.path.basename(p)[:-4]
    for kind, field in (("pkictl", "CSR"), ("cfssl", "certificate_request")):
        with open(f"{out}/{kind}/{n}.json", "w") as f:
            json.dump({field: pem}, f)
# Negative control: flip the last bit of the signature (the DER ends with it).
pem = open(out + "/csr/000.pem").read()
b64 = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
der = bytearray(base64.b64decode(b64))
der[-1] ^= 1
b = base64.b64encode(bytes(der)).decode()
with open(out + "/bad-sig.pem", "w") as f:
    f.write("-----BEGIN CERTIFICATE REQUEST-----\n")
    f.write("".join(b[i:i + 64] + "\n" for i in range(0, len(b), 64)))
    f.write("-----END CERTIFICATE REQUEST-----\n")
for kind, field in (("pkictl", "CSR"), ("cfssl", "certificate_request")):
    with open(f"{out}/bad-sig-{kind}.json", "w") as f:
        json.dump({field: open(out + "/bad-sig.pem").read()}, f)
PY
